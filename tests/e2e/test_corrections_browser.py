"""Correcting a line ("Corregir") on the transcript page, in a real Chromium against the local
stack (tiny.en): saved like every other correction, with the version read, so a change made
meanwhile elsewhere is neither overwritten nor lost. Same needs as test_web_app.py."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.test_web_app import browser  # noqa: F401  (browser is a fixture)
from tests.e2e.test_web_app_library import JFK, _signed_in, _wait_done

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_line_corrected_on_the_page_does_not_overwrite_a_change_made_meanwhile(browser, tiny_stack) -> None:  # noqa: F811
    from playwright.sync_api import expect

    # Given a finished transcript open on its page
    client = tiny_stack.client()
    job = client.transcribe_file(str(JFK), title="Corregir una línea")
    _wait_done(client, job)
    transcript_id = job["job_id"]
    read = client.get_transcript(transcript_id)
    context, page, errors = _signed_in(browser, tiny_stack, client)
    patches: list[dict] = []
    page.on("request", lambda r: r.method == "PATCH" and patches.append(json.loads(r.post_data or "{}")))
    page.goto(f"/biblioteca/{transcript_id}")
    expect(page.get_by_role("heading", name="Corregir una línea")).to_be_visible()

    # When someone corrects the first line elsewhere, and then the user corrects it here
    client.update_transcript(transcript_id, segments=[{"id": read["segments"][0]["id"], "text": "Cambio de la otra pestaña."}])
    page.get_by_role("button", name=re.compile("^Corregir la línea")).first.click()
    line = page.get_by_label("Texto de la línea")
    line.fill("Mi corrección.")
    page.get_by_role("button", name="Guardar", exact=True).click()

    # Then nothing is written over the other change: the page says so, shows the new text, and
    # keeps what the user typed
    expect(page.get_by_role("alert")).to_contain_text("Alguien lo cambió mientras tanto")
    assert patches == [{"segments": [{"id": read["segments"][0]["id"], "text": "Mi corrección."}], "version": read["version"]}]
    assert client.get_transcript(transcript_id)["segments"][0]["text"].strip() == "Cambio de la otra pestaña."
    expect(line).to_have_value("Mi corrección.")

    # And saving again, over the version now shown, keeps the correction (in the API and a reload)
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(line).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert patches[-1]["version"] == read["version"] + 1
    after = client.get_transcript(transcript_id)
    assert after["segments"][0]["text"].strip() == "Mi corrección." and after["version"] == read["version"] + 2
    page.reload()
    expect(page.locator(".segment").first).to_contain_text("Mi corrección.")
    expect(page.locator(".segment").first.get_by_text("corregida")).to_be_visible()
    assert not errors, errors
    context.close()
