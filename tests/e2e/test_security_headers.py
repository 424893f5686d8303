"""Security headers on everything the local app serves, and the built web app running under its
CSP in Chromium with no violation (issue 19, item 5)."""

from __future__ import annotations


import httpx
import pytest

from tests.e2e.test_web_app import ARGS, AUDIO, CHROMIUM, ROOT, sign_up  # noqa: F401 - the browser fixture's setup

pytestmark = [pytest.mark.e2e]

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def test_every_kind_of_answer_carries_the_security_headers(tiny_stack) -> None:
    # The app's page, one of its assets, an API answer, an API error and a 413
    index = httpx.get(f"{tiny_stack.url}/")
    asset = next(p for p in (ROOT / "frontend" / "dist" / "assets").iterdir() if p.suffix == ".js")
    answers = {
        "index": index,
        "asset": httpx.get(f"{tiny_stack.url}/assets/{asset.name}"),
        "spa route": httpx.get(f"{tiny_stack.url}/biblioteca"),
        "api": httpx.get(f"{tiny_stack.url}/healthz"),
        "api error": httpx.get(f"{tiny_stack.url}/me"),
        "shared page": httpx.get(f"{tiny_stack.url}/compartido/{'A' * 43}"),
        "shared link": httpx.get(f"{tiny_stack.url}/shared/{'A' * 43}"),
    }
    for name, answer in answers.items():
        for header, value in HEADERS.items():
            assert answer.headers.get(header) == value, (name, header, dict(answer.headers))
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, (name, csp)
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_a_huge_body_is_refused_before_it_is_read_and_never_echoed(tiny_stack) -> None:
    # A 50 MB JSON string where an object is expected
    body = b'"' + b"A" * (50 * 1024 * 1024) + b'"'
    r = httpx.post(f"{tiny_stack.url}/auth/signup", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413, r.status_code
    assert len(r.content) < 1000 and r.headers.get("x-content-type-options") == "nosniff"
    # And a bad body under the limit is answered without echoing it back whole
    r = httpx.post(f"{tiny_stack.url}/auth/signup", content=b'"' + b"B" * 100_000 + b'"', headers={"content-type": "application/json"})
    assert r.status_code == 422 and len(r.content) < 2000, len(r.content)


@pytest.mark.browser
def test_the_web_app_runs_under_its_csp_with_no_violation(tiny_stack, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    if not CHROMIUM.exists():
        pytest.fail("needs Debian's Chromium at /usr/bin/chromium")
    # The e2e tier's Chromium (tests/e2e/conftest.py), launched with test_web_app.py's ARGS
    browser = request.getfixturevalue("web_app_chromium")
    context = browser.new_context(base_url=tiny_stack.url, locale="es-ES")
    try:
        context.grant_permissions(["microphone"], origin=tiny_stack.url)
        # Listen from the first script on, in every document the app opens.
        context.add_init_script(
            """window.__csp = [];
            document.addEventListener('securitypolicyviolation', (e) =>
              window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""
        )
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        page.set_default_timeout(30_000)
        page.goto("/")
        # Sign up, transcribe (upload to storage, stream), open the library and the detail
        # (audio playback from storage), and the recorder (the AudioWorklet).
        sign_up(page, "csp")
        page.get_by_label("Elegir archivo").set_input_files(str(AUDIO / "pv_cheetah_test_en.wav"))
        page.get_by_label("Título").fill("CSP")
        page.get_by_role("button", name="Transcribir", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Transcripción terminada")).to_be_visible(timeout=120_000)
        page.get_by_role("link", name="Biblioteca").click()
        item = page.get_by_role("listitem", name="CSP")
        item.get_by_role("button", name="Abrir").click()
        page.wait_for_function("() => document.querySelector('audio') && document.querySelector('audio').readyState >= 1")
        page.get_by_role("link", name="Grabar").click()
        page.get_by_role("button", name="Empezar a grabar").click()
        expect(page.get_by_role("button", name="Pausar")).to_be_visible()
        page.wait_for_timeout(1500)
        violations = page.evaluate("() => window.__csp")
        assert violations == [] and console == [], (violations, console)
        # Control: the listener does see a violation (an inline script is one)
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__x = 1'; document.body.appendChild(s); }")
        page.wait_for_function("() => window.__csp.length > 0", timeout=5_000)
        assert page.evaluate("() => window.__x") is None and "script-src" in page.evaluate("() => window.__csp")[0]
        # Leave nothing running on the tier's shared stack: an abandoned recording's live session
        # holds its worker until the idle timeout, and the next test's session would wait for it.
        page.on("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Descartar").click()
        expect(page.get_by_role("button", name="Empezar a grabar")).to_be_visible()
    finally:
        context.close()
