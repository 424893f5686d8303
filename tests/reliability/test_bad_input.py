"""Bad input: each gets a clear 4xx, or a job that ends (completed or failed with a reason); never a 500, never stuck."""

from __future__ import annotations

import io
import mimetypes
from pathlib import Path

import httpx
import pytest

from grabadora.client import GrabadoraClient
from tests.reliability.conftest import ReliabilityStack, count

FILES = [  # (shared file or made-up name, how the job must end)
    ("edge_aeneas_mono.invalid.wav", "failed"),
    ("edge_aeneas_mono.zero_samples.wav", "completed"),
    ("edge_aeneas_vad_zero.wav", "completed"),
]


@pytest.fixture(scope="module")
def client(stack: ReliabilityStack) -> GrabadoraClient:
    stack.ensure_worker()
    return stack.client()


def _auth(client: GrabadoraClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}"}


def _upload_bytes(client: GrabadoraClient, name: str, data: bytes, content_type: str | None = None) -> str:
    upload = client.create_upload(name, content_type or mimetypes.guess_type(name)[0] or "application/octet-stream", len(data))
    response = httpx.put(upload["url"], content=data, headers={**upload["headers"], "Content-Length": str(len(data))})
    assert response.is_success, response.text
    return upload["upload_id"]


def _ends(client: GrabadoraClient, job: dict) -> tuple[str, dict]:
    """The job's terminal event: it must come (no stuck job)."""
    last = list(client.events(job["stream_url"]))[-1]
    assert last.event in ("completed", "error")
    return last.event, last.data


def _video_with_audio(audio: Path, target: Path) -> Path:
    """fw_jfk's audio in an MP4 beside a tiny video stream, made with PyAV."""
    import av
    import numpy as np

    with av.open(str(audio)) as source, av.open(str(target), "w") as out:
        video = out.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=16000)
        sound.layout = "mono"
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16000)
        for frame in source.decode(audio=0):
            for converted in resampler.resample(frame):
                for packet in sound.encode(converted):
                    out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
        for i in range(55):  # 11 s at 5 fps
            image = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 4 % 255, dtype=np.uint8), format="rgb24")
            for packet in video.encode(image.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return target


def test_edge_files_and_lying_files_end_with_a_reason(stack: ReliabilityStack, client: GrabadoraClient, audio_dir: Path, tmp_path: Path) -> None:
    jobs = []
    for name, outcome in FILES:
        jobs.append((name, client.transcribe(client.upload(str(audio_dir / name))), outcome))
    # A text file renamed .mp3; random bytes called .wav; a truncated FLAC
    fake = [
        ("notas.mp3", b"These are my meeting notes, not audio at all.\n" * 40),
        ("ruido.wav", bytes(range(256)) * 64),
        ("cortado.flac", (audio_dir / "fw_jfk.flac").read_bytes()[:3000]),
    ]
    for name, data in fake:
        jobs.append((name, client.transcribe(_upload_bytes(client, name, data)), "failed"))
    # A video with an audio track is transcribed like audio
    video = _video_with_audio(audio_dir / "fw_jfk.flac", tmp_path / "discurso.mp4")
    jobs.append(("discurso.mp4", client.transcribe(client.upload(str(video))), "completed"))
    # The same sent as multipart (small files)
    jobs.append(("notas.mp3 (multipart)", _multipart(stack, client, "notas.mp3", fake[0][1], "audio/mpeg"), "failed"))
    count("bad input: inputs tried", len(jobs))
    for name, job, outcome in jobs:
        event, data = _ends(client, job)
        status = client.get_transcript(job["job_id"])
        assert (event, status["status"]) == (("completed", "completed") if outcome == "completed" else ("error", "failed")), (name, data)
        if outcome == "failed":
            assert status["error"] and "Traceback" not in status["error"] and data["detail"] == status["error"], name
    assert "ask not what your country" in client.get_transcript(jobs[-2][1]["job_id"])["text"].lower()


def _multipart(stack: ReliabilityStack, client: GrabadoraClient, name: str, data: bytes, content_type: str) -> dict:
    response = httpx.post(f"{stack.url}/transcribe", files={"file": (name, io.BytesIO(data), content_type)},
                          headers=_auth(client), timeout=60)
    assert response.status_code == 202, response.text
    return response.json()


def _requests(stack: ReliabilityStack, client: GrabadoraClient, audio_dir: Path) -> list[tuple[str, httpx.Request, set[int]]]:
    """(what, request, acceptable statuses): all must be a clear 4xx (or an accepted 2xx)."""
    url, auth = stack.url, _auth(client)
    big = 10**15
    r = httpx.Request
    cases = [
        ("empty file declared", r("POST", f"{url}/uploads", json={"filename": "a.wav", "content_type": "audio/wav", "size": 0}, headers=auth), {422}),
        ("huge declared size", r("POST", f"{url}/uploads", json={"filename": "a.wav", "content_type": "audio/wav", "size": big}, headers=auth), {413, 422}),
        ("negative size", r("POST", f"{url}/uploads", json={"filename": "a.wav", "content_type": "audio/wav", "size": -5}, headers=auth), {422}),
        ("size as text", r("POST", f"{url}/uploads", json={"filename": "a.wav", "content_type": "audio/wav", "size": "lots"}, headers=auth), {422}),
        ("text/plain", r("POST", f"{url}/uploads", json={"filename": "a.txt", "content_type": "text/plain", "size": 10}, headers=auth), {415}),
        ("octet-stream .exe", r("POST", f"{url}/uploads", json={"filename": "a.exe", "content_type": "application/octet-stream", "size": 10}, headers=auth), {415}),
        ("html as audio name", r("POST", f"{url}/uploads", json={"filename": "a.mp3", "content_type": "text/html", "size": 10}, headers=auth), {415}),
        ("bogus content type", r("POST", f"{url}/uploads", json={"filename": "a.mp3", "content_type": "\u00e1udio/\u2603; x=\"", "size": 10}, headers=auth), {415, 422}),
        ("path traversal name", r("POST", f"{url}/uploads", json={"filename": "../../etc/passwd.wav", "content_type": "audio/wav", "size": 10}, headers=auth), {201, 422}),
        ("NUL in name", r("POST", f"{url}/uploads", json={"filename": "a\x00.wav", "content_type": "audio/wav", "size": 10}, headers=auth), {201, 422}),
        ("very long name", r("POST", f"{url}/uploads", json={"filename": "é" * 5000 + ".wav", "content_type": "audio/wav", "size": 10}, headers=auth), {201, 422}),
        ("missing fields", r("POST", f"{url}/uploads", json={}, headers=auth), {422}),
        ("malformed JSON", r("POST", f"{url}/uploads", content=b'{"filename": "a.wav", ', headers={**auth, "content-type": "application/json"}), {422}),
        ("JSON array", r("POST", f"{url}/uploads", content=b"[1,2]", headers={**auth, "content-type": "application/json"}), {422}),
        ("form instead of JSON", r("POST", f"{url}/uploads", data={"filename": "a.wav"}, headers=auth), {422}),
        ("transcribe unknown upload", r("POST", f"{url}/transcribe", json={"upload_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, headers=auth), {404, 422}),
        ("transcribe no upload_id", r("POST", f"{url}/transcribe", json={"title": "x"}, headers=auth), {422}),
        ("transcribe malformed JSON", r("POST", f"{url}/transcribe", content=b"{nope", headers={**auth, "content-type": "application/json"}), {422}),
        ("transcribe text/plain body", r("POST", f"{url}/transcribe", content=b"hola", headers={**auth, "content-type": "text/plain"}), {415, 422}),
        ("transcribe XML", r("POST", f"{url}/transcribe", content=b"<a/>", headers={**auth, "content-type": "application/xml"}), {415, 422}),
        ("multipart without file", r("POST", f"{url}/transcribe", files={"title": (None, "x")}, headers=auth), {422}),
        ("multipart text file", r("POST", f"{url}/transcribe", files={"file": ("a.txt", b"hola", "text/plain")}, headers=auth), {415}),
        ("multipart empty file", r("POST", f"{url}/transcribe", files={"file": ("a.wav", b"", "audio/wav")}, headers=auth), {422}),
        ("multipart over 10 MB", r("POST", f"{url}/transcribe", files={"file": ("a.wav", b"\0" * (11 * 1024 * 1024), "audio/wav")}, headers=auth), {413}),
        ("multipart bad profile", r("POST", f"{url}/transcribe", files={"file": ("a.wav", (audio_dir / "pv_cheetah_test_en.wav").read_bytes(), "audio/wav")}, data={"profile": "ultra"}, headers=auth), {422}),
        ("signup no body", r("POST", f"{url}/auth/signup", headers={"content-type": "application/json"}), {422}),
        ("signup bad email", r("POST", f"{url}/auth/signup", json={"email": "nope", "password": "una clave larga"}), {422}),
        ("signup huge password", r("POST", f"{url}/auth/signup", json={"email": "x@example.com", "password": "a" * 100_000}), {422}),
        ("token no form", r("POST", f"{url}/auth/token"), {422}),
        ("list bad limit", r("GET", f"{url}/transcripts?limit=0", headers=auth), {422}),
        ("list huge limit", r("GET", f"{url}/transcripts?limit=99999999999999999999", headers=auth), {422}),
        ("list forged cursor", r("GET", f"{url}/transcripts?cursor=eyJ1c2VyX2lkIjoiYWRtaW4ifQ", headers=auth), {422}),
        ("list bad status", r("GET", f"{url}/transcripts?status=maybe", headers=auth), {422}),
        ("list unicode search", r("GET", f"{url}/transcripts", params={"search": "\U0001f600 \u0000 ñandú " * 10}, headers=auth), {200, 422}),
        ("download bad format", r("GET", f"{url}/transcripts/01HZZZZZZZZZZZZZZZZZZZZZZZ/download?format=exe", headers=auth), {404, 422}),
        ("id with slashes", r("GET", f"{url}/transcripts/..%2F..%2Fusers", headers=auth), {404, 422}),
        ("very long id", r("GET", f"{url}/transcripts/{'A' * 5000}", headers=auth), {404, 422}),
        ("export unknown destination", r("POST", f"{url}/transcripts/01HZZZZZZZZZZZZZZZZZZZZZZZ/export", json={"destination": "fax"}, headers=auth), {422}),
        ("integrations bad webhook", r("PUT", f"{url}/me/integrations", json={"webhook": {"url": "file:///etc/passwd", "secret": "x" * 20}}, headers=auth), {422}),
        ("integrations wrong type", r("PUT", f"{url}/me/integrations", json={"notion": "yes"}, headers=auth), {422}),
        ("api key huge name", r("POST", f"{url}/me/api-keys", json={"name": "x" * 10_000}, headers=auth), {422}),
    ]
    return cases


def test_bad_requests_get_a_clear_4xx_never_a_500(stack: ReliabilityStack, client: GrabadoraClient, audio_dir: Path) -> None:
    failures = []
    with httpx.Client(timeout=60) as http:
        cases = _requests(stack, client, audio_dir)
        for what, request, expected in cases:
            response = http.send(request)
            if response.status_code not in expected:
                failures.append((what, response.status_code, response.text[:200]))
            elif response.status_code >= 400:
                assert isinstance(response.json().get("detail"), (str, list)), what
    count("bad input: inputs tried", len(cases))
    count("bad input: requests sent", len(cases))
    assert not failures, failures


def test_a_size_that_lies_about_the_body_is_refused(stack: ReliabilityStack, client: GrabadoraClient, audio_dir: Path) -> None:
    data = (audio_dir / "pv_cheetah_test_en.wav").read_bytes()
    for declared, sent in ((1000, data), (len(data) + 5000, data)):
        upload = client.create_upload("mentira.wav", "audio/wav", declared)
        put = httpx.put(upload["url"], content=sent, headers={**upload["headers"], "Content-Length": str(len(sent))})
        # Real S3 refuses the PUT (Content-Length is signed). The emulator checks no signature and
        # stores it; then the API holds the real stored size to the limit and the worker decodes
        # the real bytes: a clear answer either way, and no stuck job.
        if put.is_success:
            response = httpx.post(f"{stack.url}/transcribe", json={"upload_id": upload["upload_id"]}, headers=_auth(client))
            assert response.status_code in (202, 409, 413, 422), response.text
            if response.status_code == 202:
                assert _ends(client, response.json())[0] in ("completed", "error")
        else:
            assert 400 <= put.status_code < 500
        count("bad input: inputs tried")


def test_unicode_and_very_long_titles_and_tags(stack: ReliabilityStack, client: GrabadoraClient, audio_dir: Path) -> None:
    upload = client.upload(str(audio_dir / "pv_cheetah_test_en.wav"))
    cases = [
        ({"title": "🎙️ Entrevista — São Paulo ✓ 日本語 " * 5}, {202}),
        ({"title": "x" * 201}, {422}),
        ({"title": "   "}, {202, 422}),
        ({"title": "a\x00b"}, {202, 422}),
        ({"tags": ["ñandú", "🎧", "ÅÉÎ"] * 3}, {202}),
        ({"tags": [f"t{i}" for i in range(21)]}, {422}),
        ({"tags": ["x" * 51]}, {422}),
        ({"tags": "not-a-list"}, {422}),
        ({"language": "klingon"}, {422}),
        ({"profile": "ultra"}, {422}),
        ({"temperature": 99}, {422}),
        ({"hotwords": "x" * 100_000}, {422}),
    ]
    jobs = []
    for body, expected in cases:
        response = httpx.post(f"{stack.url}/transcribe", json={"upload_id": upload, **body}, headers=_auth(client), timeout=60)
        assert response.status_code in expected | {409}, (body if len(str(body)) < 200 else list(body), response.status_code, response.text[:200])
        if response.status_code == 202:
            jobs.append(response.json())
            upload = client.upload(str(audio_dir / "pv_cheetah_test_en.wav"))  # an upload makes one job
    count("bad input: inputs tried", len(cases))
    for job in jobs:
        assert _ends(client, job)[0] == "completed"
        t = client.get_transcript(job["job_id"])
        assert len(t["title"]) <= 200 and all(len(tag) <= 50 for tag in t["tags"])
