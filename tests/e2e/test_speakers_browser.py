"""Speakers in the web app (real headless Chromium, real local stack with tiny.en and the
diarizer): a diarized job of the three-speaker recording shows speaker labels in the live view
and on the transcript page; naming S1 "Ana" there shows the name everywhere on the page and in
the SRT downloaded from the Biblioteca. A transcript page opened while its job waits shows the
labels once the job completes, without a reload.

Needs Debian's `chromium`, the built app (frontend/dist) and the diarization extra (torch +
resemblyzer's weights); skips without the extra."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_web_app import AUDIO, browser, shot, sign_up  # noqa: F401  (the module's Chromium fixture)
from tests.e2e.test_web_app_library import _signed_in, long_recording  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_speaker_labels_and_renaming_in_the_web_app(browser, tiny_stack) -> None:  # noqa: F811
    pytest.importorskip("torch", reason="diarization needs: pip install torch==2.13.0 && pip install --no-deps resemblyzer==0.1.4")
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=tiny_stack.url, viewport={"width": 1280, "height": 860}, accept_downloads=True, locale="es-ES"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(30_000)
    page.goto("/")
    sign_up(page, "speakers")

    # A diarized job: the live view labels the turns once the speakers are known.
    page.get_by_label("Elegir archivo").set_input_files(str(AUDIO / "pv_leopard_diarization_test.wav"))
    page.get_by_label("Título").fill("Tres voces")
    page.get_by_label("Separar hablantes").check()
    page.get_by_role("button", name="Transcribir", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Transcripción terminada")).to_be_visible(timeout=180_000)
    live = page.get_by_test_id("live-words")
    expect(live.locator(".speaker-label").first).to_have_text("S1", timeout=30_000)
    expect(live.locator('.speaker-label[data-speaker="S2"]').first).to_be_visible()
    # A window as tall as the page: scrolled, the sticky header lands mid-page in a full-page
    # shot; at the top, the offscreen words are not painted (content-visibility).
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.wait_for_timeout(300)
    shot(page, "24-hablantes-en-directo")
    page.set_viewport_size({"width": 1280, "height": 860})

    # The transcript page: a label at each turn, and the editor.
    page.get_by_role("link", name="Biblioteca").click()
    item = page.get_by_role("listitem", name="Tres voces")
    item.get_by_role("button", name="Abrir").click()
    expect(page.get_by_role("heading", name="Tres voces")).to_be_visible()
    transcript = page.locator("section.transcript")
    expect(transcript.locator(".speaker-label").first).to_have_text("S1")
    assert transcript.locator('.speaker-label[data-speaker="S2"]').count() >= 1
    turns = transcript.locator(".speaker-label").count()

    page.get_by_label("Nombre de S1").fill("Ana")
    page.get_by_role("button", name="Guardar nombres").click()
    expect(page.get_by_role("status").filter(has_text="Nombres guardados")).to_be_visible()
    # Every S1 turn now reads Ana; nothing on the page reads S1 as a speaker any more.
    s1 = transcript.locator('.speaker-label[data-speaker="S1"]')
    expect(s1.first).to_have_text("Ana")
    assert set(s1.all_inner_texts()) == {"Ana"}
    assert transcript.locator(".speaker-label").count() == turns
    expect(page.get_by_label("Nombre de S1")).to_have_value("Ana")
    shot(page, "25-hablantes-renombrados")

    # The name survives a reload and is printed in the SRT.
    page.reload()
    expect(page.locator("section.transcript .speaker-label").first).to_have_text("Ana")
    page.get_by_role("link", name="Biblioteca").click()
    item = page.get_by_role("listitem", name="Tres voces")
    item.get_by_label("Formato").select_option("srt")
    with page.expect_download() as download_info:
        item.get_by_role("button", name="Descargar").click()
    srt = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "Ana: " in srt and "S1:" not in srt and "S2:" in srt, srt
    assert not errors, errors
    context.close()


def test_a_transcript_page_opened_while_the_job_waits_shows_the_speakers_without_a_reload(
    browser, tiny_stack, long_recording  # noqa: F811
) -> None:
    pytest.importorskip("torch", reason="diarization needs: pip install torch==2.13.0 && pip install --no-deps resemblyzer==0.1.4")
    from playwright.sync_api import expect

    # Given a diarized job queued behind a long one, whose page is opened before it starts
    client = tiny_stack.client()
    client.transcribe(client.upload(str(long_recording)), title="Delante")
    job = client.transcribe_file(str(AUDIO / "pv_leopard_diarization_test.wav"), title="Tres voces en cola", diarization=True)
    context, page, errors = _signed_in(browser, tiny_stack, client)
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.goto(f"/biblioteca/{job['job_id']}")
    expect(page.get_by_text("aún no está lista")).to_be_visible()
    transcript = page.locator("section.transcript")
    expect(transcript.locator(".speaker-label")).to_have_count(0)

    # Then, once it completes, the page shows a label at each turn and the speakers' editor, by itself
    expect(transcript.locator(".speaker-label").first).to_have_text("S1", timeout=300_000)
    expect(transcript.locator('.speaker-label[data-speaker="S2"]').first).to_be_visible()
    expect(page.get_by_label("Nombre de S1")).to_be_visible()
    expect(page.get_by_text("aún no está lista")).to_have_count(0)
    assert len(loads) == 1, loads  # the page was never reloaded
    assert not errors, errors
    context.close()
