"""Security: every route against bad credentials, stream tokens, presigned uploads, passwords,
sign-in throttling, and (last of the whole run) secrets in the captured logs."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest

from grabadora.client import GrabadoraClient
from grabadora.settings import DevSettings
from tests.reliability.conftest import PASSWORD, ReliabilityStack, count, user_id_of

DEV_KEY = DevSettings().jwt_secret_key.get_secret_value()  # the stack runs with the dev key
# Public by design: a share link's read (its unguessable token is the credential; tested in
# tests/integration/test_shares.py).
PUBLIC = {("GET", "/healthz"), ("POST", "/auth/signup"), ("POST", "/auth/token"), ("GET", "/shared/{token}")}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged(user_id: str) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    claims = {"sub": user_id, "email": "x@example.com", "typ": "access"}
    return {
        "expired": jwt.encode({**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}, DEV_KEY, "HS256"),
        "other key": jwt.encode({**claims, "exp": now + timedelta(hours=1)}, "another-key-" + "x" * 40, "HS256"),
        "alg none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({**claims, "exp": int((now + timedelta(hours=1)).timestamp())}) + ".",
        "HS512 same key": jwt.encode({**claims, "exp": now + timedelta(hours=1)}, DEV_KEY, "HS512"),
        "no typ": jwt.encode({"sub": user_id, "exp": now + timedelta(hours=1)}, DEV_KEY, "HS256"),
        "garbage": "not.a.token",
        "api-key-shaped": "gr_" + "A" * 40 + "_" + "b" * 43,
    }


@pytest.fixture(scope="module")
def owner(stack: ReliabilityStack, audio_dir: Path):
    """A user with one finished transcript and one API key."""
    stack.ensure_worker()
    client = stack.client()
    job = client.transcribe(client.upload(str(audio_dir / "pv_cheetah_test_en.wav")))
    stack.remember(job["stream_url"])
    assert list(client.events(job["stream_url"]))[-1].event == "completed"
    key = httpx.post(f"{stack.url}/me/api-keys", json={"name": "k"}, headers={"Authorization": f"Bearer {client.token}"}).json()
    stack.remember(key["key"])
    live = client.start_live(language="en")
    stack.remember(live["stream_url"])
    share = httpx.post(f"{stack.url}/transcripts/{job['job_id']}/shares", json={}, headers={"Authorization": f"Bearer {client.token}"})
    assert share.status_code == 201, share.text
    stack.remember(share.json()["token"])
    return client, {**job, "live_id": live["live_id"], "share_id": share.json()["id"]}, key


def _routes(stack: ReliabilityStack) -> list[tuple[str, str]]:
    schema = httpx.get(f"{stack.url}/openapi.json").json()
    return [(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if m in ("get", "post", "put", "patch", "delete")]


_BODIES = {
    ("PATCH", "/transcripts/{transcript_id}"): {"title": "robado"},
    ("POST", "/transcripts/{transcript_id}/export"): {"destination": "webhook"},
    ("PUT", "/me/integrations"): {"webhook": None},
    ("POST", "/me/api-keys"): {"name": "x"},
    ("POST", "/uploads"): {"filename": "a.wav", "content_type": "audio/wav", "size": 10},
}


def _call(http: httpx.Client, stack: ReliabilityStack, method: str, path: str, ids: dict, token: str | None) -> httpx.Response:
    url = stack.url + path.format(**ids)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if path == "/live/{live_id}/audio":  # a well-formed frame, so only the credentials can be wrong
        return http.post(url, params={"seq": 0}, content=b"\0\0" * 800, headers={**headers, "Content-Type": "audio/pcm;rate=16000"})
    body = _BODIES.get((method, path), {})
    if method in ("GET", "DELETE"):
        return http.request(method, url, headers=headers)
    return http.request(method, url, json=body, headers=headers)


def test_every_route_refuses_bad_credentials_and_other_users(stack: ReliabilityStack, owner) -> None:
    client, job, key = owner
    other = stack.client()
    ids = {"transcript_id": job["job_id"], "job_id": job["job_id"], "key_id": key["id"], "live_id": job["live_id"],
           "share_id": job["share_id"]}
    routes = [r for r in _routes(stack) if r not in PUBLIC]
    assert len(routes) >= 12, routes
    stream_token = parse_qs(urlparse(job["stream_url"]).query)["token"][0]
    bad = {**_forged(user_id_of(client)), "stream token": stream_token, "none": None}
    problems, sent = [], 0
    with httpx.Client(timeout=30) as http:
        for method, path in routes:
            if method == "DELETE":
                continue  # probed below, after the reads, so nothing is really deleted first
            for name, token in bad.items():
                if path == "/transcribe/{job_id}" and name == "stream token":
                    continue  # its own stream: the one thing a stream token opens
                r = _call(http, stack, method, path, ids, token)
                sent += 1
                if r.status_code != 401 and not (path.startswith("/v1") and r.status_code in (401, 403)):
                    problems.append((name, method, path, r.status_code, r.text[:100]))
            # Another signed-in user: existing ids answer 404, never 200/403
            if "{" in path:
                r = _call(http, stack, method, path, ids, other.token)
                sent += 1
                if r.status_code != 404 and not (path.startswith("/v1") or path == "/transcribe/{job_id}" and r.status_code == 401):
                    problems.append(("other user", method, path, r.status_code, r.text[:100]))
        for method, path in [r for r in routes if r[0] == "DELETE"]:
            # DELETE /me names no object: another user deleting "their own" account is no probe
            others = {"other user": other.token} if "{" in path else {}
            for name, token in {**bad, **others}.items():
                r = _call(http, stack, method, path, ids, token)
                sent += 1
                if r.status_code not in ((404,) if name == "other user" else (401,)):
                    problems.append((name, method, path, r.status_code, r.text[:100]))
        # The owner still has everything, unchanged
        assert client.get_transcript(job["job_id"])["title"] != "robado"
        assert any(k["id"] == key["id"] for k in http.get(f"{stack.url}/me/api-keys", headers={"Authorization": f"Bearer {client.token}"}).json())
        # An API key opens /v1 only, not the account's routes
        r = http.get(f"{stack.url}/transcripts", headers={"Authorization": f"Bearer {key['key']}"})
        sent += 1
        assert r.status_code == 401
    count("security: requests sent", sent)
    count("security: routes probed", len(routes))
    assert not problems, problems


def test_a_stream_token_opens_only_its_own_stream_and_expires(stack: ReliabilityStack, owner, audio_dir: Path) -> None:
    client, job, _ = owner
    token = parse_qs(urlparse(job["stream_url"]).query)["token"][0]
    other = stack.client()
    other_job = other.transcribe(other.upload(str(audio_dir / "deepspeech_LDC93S1_pcms16le_1_8000.wav")))
    stack.remember(other_job["stream_url"])
    with httpx.Client(timeout=30) as http:
        # Its own stream opens and replays to the end
        own = http.get(f"{stack.url}/transcribe/{job['job_id']}?token={token}")
        assert own.status_code == 200 and "event: completed" in own.text
        # Another job's stream does not (another user's, and a made-up id)
        for job_id in (other_job["job_id"], "01HZZZZZZZZZZZZZZZZZZZZZZZ"):
            assert http.get(f"{stack.url}/transcribe/{job_id}?token={token}").status_code in (401, 404)
        # A stream token for the right job but expired, or signed with another key, is refused
        now = datetime.now(timezone.utc)
        claims = {"sub": user_id_of(client), "job": job["job_id"], "typ": "stream"}
        expired = jwt.encode({**claims, "exp": now - timedelta(seconds=1)}, DEV_KEY, "HS256")
        foreign = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, "not-the-key-" + "y" * 40, "HS256")
        for bad in (expired, foreign, token[:-2] + "xx"):
            assert http.get(f"{stack.url}/transcribe/{job['job_id']}?token={bad}").status_code == 401
        # The access token of another user does not open it either
        r = http.get(f"{stack.url}/transcribe/{job['job_id']}", headers={"Authorization": f"Bearer {other.token}"})
        assert r.status_code in (401, 404)
    count("security: requests sent", 8)


def test_presigned_uploads_stay_in_the_callers_prefix(stack: ReliabilityStack) -> None:
    client = stack.client()
    user_id = user_id_of(client)
    names = ["../../audio/otro/x.wav", "/etc/passwd.wav", "..\\..\\x.wav", "a/../../b.wav", "%2e%2e%2fx.wav", "normal.wav"]
    for name in names:
        try:
            upload = client.create_upload(name, "audio/wav", 1000)
        except Exception as e:  # noqa: BLE001 - a 422 is a fine answer too
            assert getattr(e, "status", 0) == 422
            continue
        parsed = urlparse(upload["url"])
        key = parsed.path.split("/", 2)[2]  # path-style: /bucket/key
        prefix = f"audio/{user_id}/{upload['upload_id']}/"
        assert key.startswith(prefix) and ".." not in key[len(prefix):].split("/"), key
        # What makes S3 refuse a body of another size than declared (the emulator checks no signature)
        assert "content-length" in parse_qs(parsed.query)["X-Amz-SignedHeaders"][0].split(";")
    # Someone else's upload cannot be turned into a job
    other = stack.client()
    upload = client.create_upload("mine.wav", "audio/wav", 10)
    r = httpx.post(f"{stack.url}/transcribe", json={"upload_id": upload["upload_id"]}, headers={"Authorization": f"Bearer {other.token}"})
    assert r.status_code == 404
    count("security: requests sent", len(names) + 2)


def test_an_upload_over_the_size_limit_never_becomes_a_job(stack: ReliabilityStack) -> None:
    client = stack.client()
    auth = {"Authorization": f"Bearer {client.token}"}
    limit = int(stack.env["GRABADORA_MAX_UPLOAD_MB"]) * 1024 * 1024
    # Declaring more than the limit gets no URL at all
    r = httpx.post(f"{stack.url}/uploads", json={"filename": "a.wav", "content_type": "audio/wav", "size": limit + 1}, headers=auth)
    assert r.status_code == 413
    # A URL for a small file, then a body over the limit: the emulator checks no signature and
    # stores it (S3 would refuse the PUT: Content-Length is signed), so POST /transcribe holds the
    # stored object's real size to the limit
    upload = client.create_upload("pequeño.wav", "audio/wav", 1000)
    body = b"\0" * (limit + 1)
    put = httpx.put(upload["url"], content=body, headers={**upload["headers"], "Content-Length": str(len(body))}, timeout=60)
    assert put.status_code == 200, put.text
    r = httpx.post(f"{stack.url}/transcribe", json={"upload_id": upload["upload_id"]}, headers=auth)
    assert r.status_code == 413, r.text
    assert client.list_transcripts()["items"] == []
    count("security: requests sent", 4)


def test_passwords_are_stored_with_scrypt(stack: ReliabilityStack) -> None:
    client = stack.client()
    item = stack.aws("dynamodb").get_item(TableName="grabadora-users", Key={"email": {"S": client.email}})["Item"]
    stored = item["password_hash"]["S"]
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert len(base64.b64decode(salt)) == 16 and PASSWORD not in json.dumps(item)
    # A second account with the same password gets another salt
    other = stack.client()
    other_hash = stack.aws("dynamodb").get_item(TableName="grabadora-users", Key={"email": {"S": other.email}})["Item"]["password_hash"]["S"]
    assert other_hash != stored


def _login(stack: ReliabilityStack, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{stack.url}/auth/token", data={"username": email, "password": password}, timeout=30)


def test_failed_sign_ins_are_rate_limited_per_email(stack: ReliabilityStack) -> None:
    # The stack allows 4 failures per e-mail in a 10 s window (GRABADORA_LOGIN_*)
    client = stack.client()
    sent = 0
    for _ in range(4):
        assert _login(stack, client.email, "wrong password 123").status_code == 401
        sent += 1
    blocked = _login(stack, client.email, PASSWORD)  # even the right password waits
    sent += 1
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 11
    assert "too many" in blocked.json()["detail"]
    # Another account is not affected
    other = stack.client()
    assert _login(stack, other.email, PASSWORD).status_code == 200
    # After Retry-After the owner signs in again
    time.sleep(int(blocked.headers["Retry-After"]) + 0.5)
    assert _login(stack, client.email, PASSWORD).status_code == 200
    count("security: requests sent", sent + 2)


def test_failed_sign_ins_are_rate_limited_per_ip(stack: ReliabilityStack) -> None:
    # 12 failures per IP per window: spread over many e-mails, so the per-e-mail limit never trips
    client = stack.client()
    statuses = [_login(stack, f"nadie-{uuid.uuid4().hex[:8]}@example.com", "wrong password 123").status_code for _ in range(13)]
    assert statuses[:12] == [401] * 12 and statuses[12] == 429, statuses
    blocked = _login(stack, client.email, PASSWORD)
    assert blocked.status_code == 429  # the whole address waits
    time.sleep(int(blocked.headers["Retry-After"]) + 0.5)
    assert _login(stack, client.email, PASSWORD).status_code == 200
    count("security: requests sent", 16)


_SECRET_PATTERNS = [
    re.compile(r"token=(?!\[redacted\])[A-Za-z0-9_\-]{20,}"),
    re.compile(r"eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),  # any JWT
    re.compile(r"\bgr_[A-Za-z0-9]{20,}_[A-Za-z0-9_\-]{20,}"),  # an API key
]


def test_logs_hold_no_secret(stack: ReliabilityStack) -> None:
    """Run last (see conftest): every process's captured output, after the whole run."""
    client = stack.client()
    secret = "secreto-del-webhook-" + uuid.uuid4().hex
    notion = "secret_notion_" + uuid.uuid4().hex
    client.set_integrations(webhook={"url": "https://example.com/hook", "secret": secret}, notion={"token": notion, "database_id": "d" * 32})
    stack.remember(secret, notion)
    logs = sorted(stack.logs.glob("*.log"))
    assert any("api" in p.name for p in logs) and any("worker" in p.name for p in logs)
    text = {p.name: p.read_text(errors="replace") for p in logs}
    leaks = [(name, s[:12] + "…") for name, t in text.items() for s in stack.secrets if s and s in t]
    leaks += [(name, m.group(0)[:24] + "…") for name, t in text.items() for pat in _SECRET_PATTERNS for m in pat.finditer(t)]
    count("security: log lines audited", sum(t.count("\n") for t in text.values()))
    count("security: secrets searched for", len(stack.secrets))
    assert not leaks, leaks
