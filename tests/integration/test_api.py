"""The HTTP API against the emulator: accounts, uploads, job submission, errors that say why."""

from __future__ import annotations

import httpx
import pytest

from grabadora.client import ApiError, GrabadoraClient


def test_signup_then_token_then_duplicate_is_409(api_url: str) -> None:
    # Given a new e-mail
    with GrabadoraClient(api_url) as c:
        # When signing up and in
        user = c.signup("Maria@Example.com ", "una clave larga")
        token = c.sign_in("maria@example.com", "una clave larga")
        # Then the account exists, the e-mail is normalised, and a token is issued
        assert user["email"] == "maria@example.com" and len(user["id"]) == 26
        assert token.count(".") == 2
        # And signing up again is a conflict
        with pytest.raises(ApiError) as e:
            c.signup("maria@example.com", "otra clave larga")
        assert e.value.status == 409


def test_wrong_password_is_401_and_weak_password_is_422(api_url: str) -> None:
    with GrabadoraClient(api_url) as c:
        c.signup("pedro@example.com", "clave correcta")
        with pytest.raises(ApiError) as wrong:
            c.sign_in("pedro@example.com", "clave incorrecta")
        assert wrong.value.status == 401
        with pytest.raises(ApiError) as weak:
            c.signup("weak@example.com", "12345678")
        assert weak.value.status == 422 and "password" in str(weak.value.detail)


def test_validation_errors_name_the_field(api_url: str, client: GrabadoraClient) -> None:
    # When the upload request misses `size` and has a negative... nothing: size missing entirely
    response = httpx.post(
        f"{api_url}/uploads",
        json={"filename": "a.mp3", "content_type": "audio/mpeg"},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    # Then the 422 says which field and why
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "size"] and detail[0]["type"] == "missing"


def test_malformed_json_is_422_not_500(api_url: str, client: GrabadoraClient) -> None:
    response = httpx.post(
        f"{api_url}/transcribe",
        content=b"{not json",
        headers={"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_unknown_language_is_rejected_with_reason(api_url: str, client: GrabadoraClient) -> None:
    response = httpx.post(
        f"{api_url}/transcribe",
        json={"upload_id": "01J00000000000000000000000", "language": "klingon"},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "language"]


def test_routes_need_a_token(api_url: str) -> None:
    for method, path in (("post", "/uploads"), ("post", "/transcribe"), ("get", "/transcripts/x")):
        response = httpx.request(method, f"{api_url}{path}", json={})
        assert response.status_code == 401, path
        assert response.json()["detail"]


def test_presigned_upload_lands_in_the_callers_prefix(api_url: str, client: GrabadoraClient, audio_dir) -> None:
    # Given a presigned upload for a real recording
    path = audio_dir / "pv_cheetah_test_en.wav"
    size = path.stat().st_size
    upload = client.create_upload("../../evil/test en.wav", "audio/wav", size)
    # Then the URL points into audio/{user}/{upload_id}/ with the path stripped from the name
    assert "/audio/" in upload["url"] and f"/{upload['upload_id']}/test%20en.wav" in upload["url"]
    # And the declared size is signed into the URL, so S3 refuses a body of another size
    assert "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost" in upload["url"]
    # When the file is PUT to it, the upload can be transcribed (a job is created from it)
    client.put_file(upload, str(path))
    job = client.transcribe(upload["upload_id"], language="en")
    assert job["job_id"] == upload["upload_id"] and job["status"] == "queued"
    assert job["stream_url"].startswith(f"/transcribe/{job['job_id']}?token=")
    # And the same upload cannot be submitted twice
    with pytest.raises(ApiError) as again:
        client.transcribe(upload["upload_id"])
    assert again.value.status == 409


def test_upload_limits_and_types(client: GrabadoraClient) -> None:
    with pytest.raises(ApiError) as too_big:
        client.create_upload("long.mp3", "audio/mpeg", 10 * 1024**4)
    assert too_big.value.status == 413
    with pytest.raises(ApiError) as not_audio:
        client.create_upload("notes.txt", "text/plain", 100)
    assert not_audio.value.status == 415


def test_transcribing_a_missing_upload_is_404(client: GrabadoraClient) -> None:
    with pytest.raises(ApiError) as missing:
        client.transcribe("01J00000000000000000000000")
    assert missing.value.status == 404 and "upload" in missing.value.detail


def test_someone_elses_upload_is_404(client: GrabadoraClient, other_client: GrabadoraClient, audio_dir) -> None:
    upload_id = client.upload(str(audio_dir / "pv_cheetah_test_en.wav"))
    with pytest.raises(ApiError) as e:
        other_client.transcribe(upload_id)
    assert e.value.status == 404


def test_multipart_needs_a_file_and_refuses_text(api_url: str, client: GrabadoraClient, tmp_path) -> None:
    headers = {"Authorization": f"Bearer {client.token}"}
    no_file = httpx.post(f"{api_url}/transcribe", data={"language": "es"}, files={"x": ("a", b"1")}, headers=headers)
    assert no_file.status_code == 422 and "file" in no_file.json()["detail"]
    text = httpx.post(
        f"{api_url}/transcribe", files={"file": ("notes.txt", b"hola", "text/plain")}, headers=headers
    )
    assert text.status_code == 415


def test_healthz_and_openapi(api_url: str) -> None:
    assert httpx.get(f"{api_url}/healthz").json() == {"status": "ok"}
    schema = httpx.get(f"{api_url}/openapi.json").json()
    assert {"/auth/signup", "/auth/token", "/uploads", "/transcribe", "/transcribe/{job_id}"} <= set(schema["paths"])
    assert httpx.get(f"{api_url}/docs").status_code == 200
