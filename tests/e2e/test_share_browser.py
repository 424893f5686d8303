"""Share links in the web app (real headless Chromium, real local stack with tiny.en): the owner
makes a link on the transcript page, a browser with no session opens it under the app's CSP and
reads the text and plays the audio, with no way into the account; the owner revokes it and the
link then says it is not available.

Same needs as test_web_app.py (Chromium, a built app)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_web_app import AUDIO, browser, shot  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CLIP = AUDIO / "pv_cheetah_test_en.wav"  # "Today only platforms one and three are used."
CSP_LISTENER = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def _context(browser, stack, token: str | None = None):
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900}, locale="es-ES")
    context.add_init_script(CSP_LISTENER)
    if token:
        context.add_init_script(
            "localStorage.getItem('grabadora.session') || localStorage.setItem('grabadora.session', "
            f"JSON.stringify({{token: '{token}', email: 'e2e@example.com', expiresAt: Date.now() + 3600e3}}))"
        )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return context, page, errors


def _completed(client, path) -> str:
    job = client.transcribe(client.upload(str(path)), title="Andenes")
    deadline = time.monotonic() + 300
    while (status := client.get_transcript(job["job_id"])["status"]) != "completed":
        assert status in ("queued", "processing"), status
        assert time.monotonic() < deadline, "the transcript did not complete"
        time.sleep(0.5)
    return job["job_id"]


def test_a_shared_link_opens_signed_out_plays_and_stops_when_revoked(browser, tiny_stack) -> None:  # noqa: F811
    from playwright.sync_api import expect

    client = tiny_stack.client()
    transcript_id = _completed(client, CLIP)

    # The owner makes a link on the transcript page, choosing how long it lasts
    owner, page, owner_errors = _context(browser, tiny_stack, client.token)
    page.goto(f"/biblioteca/{transcript_id}")
    expect(page.get_by_role("heading", name="Andenes")).to_be_visible()
    page.get_by_role("button", name="Compartir").click()
    expect(page.get_by_text("No hay enlaces activos.")).to_be_visible()
    page.get_by_label("Caduca en").select_option("30")
    page.get_by_role("button", name="Crear enlace").click()
    field = page.get_by_label("Enlace para compartir")
    expect(field).to_be_visible()
    link = field.input_value()
    assert link.startswith(f"{tiny_stack.url}/compartido/") and len(link.rsplit("/", 1)[1]) == 43, link
    links = page.get_by_role("list").filter(has=page.get_by_role("button", name="Revocar"))
    expect(links.get_by_role("listitem")).to_have_count(1)
    shot(page, "22-compartir")

    # A fresh browser with no session opens it: the text, the player, nothing of the account
    visitor, public, public_errors = _context(browser, tiny_stack)
    answer = public.goto(link)
    assert answer is not None and answer.status == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["referrer-policy"] == "no-referrer"
    expect(public.get_by_role("heading", name="Andenes")).to_be_visible()
    transcript = public.locator("section.transcript")
    expect(transcript).to_contain_text("platforms")
    expect(public.get_by_role("navigation")).to_have_count(0)
    expect(public.get_by_role("button", name="Salir")).to_have_count(0)
    expect(public.get_by_role("button", name="Corregir")).to_have_count(0)
    expect(public.get_by_role("button", name="Compartir")).to_have_count(0)
    expect(public.get_by_label("Correo electrónico")).to_have_count(0)
    # and the audio plays (from the stored copy), following the words
    played = public.evaluate(
        """async () => {
          const a = document.querySelector('audio');
          a.muted = true;
          await a.play();
          await new Promise((r) => setTimeout(r, 1500));
          const t = a.currentTime;
          a.pause();
          return t;
        }"""
    )
    assert played > 0.3, played
    public.locator("section.transcript .word").nth(2).click()
    expect(public.locator("section.transcript .word.current")).to_have_count(1)
    shot(public, "23-compartido")
    assert public.evaluate("() => window.__csp") == [] and public_errors == [], (public.evaluate("() => window.__csp"), public_errors)

    # The owner revokes it; the link then says it is not available
    page.get_by_role("button", name="Revocar").click()
    expect(page.get_by_text("No hay enlaces activos.")).to_be_visible()
    public.reload()
    expect(public.get_by_role("heading", name="Enlace no disponible")).to_be_visible()
    expect(public.get_by_role("alert")).to_contain_text("no está disponible")
    expect(transcript).to_have_count(0)
    assert public.evaluate("() => window.__csp") == [] and public_errors == []
    assert page.evaluate("() => window.__csp") == [] and owner_errors == []
    visitor.close()
    owner.close()
