"""The same file sent twice by accident, in a real Chromium against the local stack (tiny.en): the
file's SHA-256, computed in the page, finds the earlier transcript before anything is uploaded;
the user may open it, or go on anyway. Same needs as test_web_app.py (Chromium, a built app)."""

from __future__ import annotations

import hashlib

import pytest

from tests.e2e.test_web_app import AUDIO, browser, shot  # noqa: F401  (browser is a fixture)
from tests.e2e.test_web_app_library import JFK, _signed_in, _wait_done

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_file_already_in_the_library_is_named_before_it_is_sent_again(browser, tiny_stack) -> None:  # noqa: F811
    from playwright.sync_api import expect

    # Given a recording this user sent before (from another client: the server hashed the bytes)
    client = tiny_stack.client()
    first = client.transcribe_file(str(JFK), title="Discurso")
    _wait_done(client, first)
    digest = hashlib.sha256(JFK.read_bytes()).hexdigest()
    context, page, errors = _signed_in(browser, tiny_stack, client)
    uploads: list[str] = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/uploads") and uploads.append(r.url))
    page.goto("/")

    # When the same file is picked
    page.get_by_label("Elegir archivo").set_input_files(str(JFK))

    # Then, before anything is sent, the page says when it was sent and links to that transcript
    warning = page.get_by_role("alert").filter(has_text="Ya subiste este archivo el")
    expect(warning).to_be_visible()
    link = warning.get_by_role("link", name="«Discurso»")
    expect(link).to_have_attribute("href", f"/biblioteca/{first['job_id']}")
    send = page.get_by_role("button", name="Transcribir de todos modos")
    expect(send).to_be_enabled()
    shot(page, "26-archivo-ya-subido")
    assert uploads == []

    # And the link opens it; Back finds the file still picked and the warning still there
    link.click()
    expect(page.get_by_role("heading", name="Discurso")).to_be_visible()
    page.go_back()
    expect(warning).to_be_visible()

    # When the user goes on anyway
    page.get_by_label("Título").fill("Discurso otra vez")
    send.click()
    expect(page.get_by_role("status").filter(has_text="Transcripción terminada")).to_be_visible(timeout=120_000)

    # Then a second transcript of the file, which carries the digest the page computed
    found = client.list_transcripts(source_sha256=digest)["items"]
    assert [t["title"] for t in found] == ["Discurso otra vez", "Discurso"]
    assert len(uploads) == 1

    # And pressing Transcribir again with the same file names the transcript just made, sending nothing
    expect(warning).to_have_count(0)
    page.get_by_role("button", name="Transcribir", exact=True).click()
    expect(warning.get_by_role("link", name="«Discurso otra vez»")).to_be_visible()
    assert len(uploads) == 1

    # And another file is sent without a word
    with page.expect_response(lambda r: "source_sha256=" in r.url):
        page.get_by_label("Elegir archivo").set_input_files(str(AUDIO / "pv_cheetah_test_en.wav"))
    expect(warning).to_have_count(0)
    expect(page.get_by_role("button", name="Transcribir", exact=True)).to_be_enabled()
    assert not errors, errors
    context.close()
