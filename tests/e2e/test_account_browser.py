"""The account in the web app (real headless Chromium, real local stack with the multilingual
`base` model): the languages the user speaks, edited on Cuenta, persist across a reload and
steer detection; a Spanish recording from an account that speaks only English comes back
flagged "Idioma dudoso", and "Volver a transcribir en… Español" makes a new transcript the page
follows to the Spanish text. Sessions: "Cerrar sesión en todos los dispositivos" ends another
browser's session with its own message; "Eliminar cuenta" asks for the e-mail and then the
account is gone. A truncated file's warning is shown on its transcript page.

Same needs as test_web_app.py (Chromium, a built app)."""

from __future__ import annotations

import re
import struct
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_web_app import AUDIO, browser, shot  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SPANISH = AUDIO / "pv_leopard_test_es.wav"  # 8.7 s of Spanish
ENGLISH = AUDIO / "pv_cheetah_test_en.wav"  # "Today only platforms one and three are used."
PASSWORD = "una clave muy larga"


def _context(browser, stack, token: str | None = None, email: str = "e2e@example.com"):
    # Under the app's own Content-Security-Policy (no bypass: nothing here waits on an eval'ed
    # predicate): a violation on these screens is an error like any other.
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900}, locale="es-ES")
    if token:
        context.add_init_script(
            "localStorage.getItem('grabadora.session') || localStorage.setItem('grabadora.session', "
            f"JSON.stringify({{token: '{token}', email: '{email}', expiresAt: Date.now() + 3600e3}}))"
        )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return context, page, errors


def _languages(stack, token: str) -> list[str]:
    answer = httpx.get(f"{stack.url}/me/languages", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()["languages"]


def _names(page) -> list[str]:
    return page.get_by_role("list", name="Tus idiomas, el preferido primero").get_by_role("listitem").evaluate_all(
        "items => items.map(i => i.getAttribute('aria-label'))"
    )


def test_languages_persist_and_an_unsure_language_is_transcribed_again(browser, base_stack) -> None:  # noqa: F811
    from playwright.sync_api import expect

    client = base_stack.client()  # signed up without a browser language: Spanish
    context, page, errors = _context(browser, base_stack, client.token)

    # The account page lists the account's languages by name
    page.goto("/cuenta")
    expect(page.get_by_role("heading", name="Tus idiomas")).to_be_visible()
    assert _names(page) == ["Español"]

    # Adding English and making it the preferred one is saved, and survives a reload
    page.get_by_label("Añadir un idioma").select_option("en")
    page.get_by_role("button", name="Añadir", exact=True).click()
    page.get_by_role("button", name="Subir Inglés").click()
    assert _names(page) == ["Inglés", "Español"]
    page.get_by_role("button", name="Guardar idiomas").click()
    expect(page.get_by_text("Idiomas guardados.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Subir Español")).to_be_visible()
    assert _names(page) == ["Inglés", "Español"]
    assert _languages(base_stack, client.token) == ["en", "es"]
    shot(page, "16-cuenta-idiomas")

    # Removing Spanish: the account now speaks only English (also after a reload)
    page.get_by_role("button", name="Quitar Español").click()
    page.get_by_role("button", name="Guardar idiomas").click()
    expect(page.get_by_text("Idiomas guardados.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Subir Inglés")).to_be_disabled()
    assert _names(page) == ["Inglés"]
    assert _languages(base_stack, client.token) == ["en"]

    # Transcribir: by default detection is among the user's languages, and the form says which
    page.get_by_role("link", name="Transcribir").click()
    language = page.get_by_label("Idioma", exact=True)
    expect(language).to_have_value("")
    expect(language.locator("option:checked")).to_have_text("Detectar entre mis idiomas")
    expect(page.get_by_text("Se detecta entre Inglés; cámbialos en «Cuenta».")).to_be_visible()

    # A Spanish recording from an account that speaks only English: detection is unsure
    page.get_by_label("Elegir archivo").set_input_files(str(SPANISH))
    page.get_by_label("Título").fill("Leopardo")
    page.get_by_role("button", name="Transcribir", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Transcripción terminada")).to_be_visible(timeout=240_000)

    page.get_by_role("link", name="Biblioteca").click()
    item = page.get_by_role("listitem", name="Leopardo")
    expect(item.get_by_text("Idioma dudoso")).to_be_visible()
    item.get_by_role("button", name="Abrir").click()
    expect(page.get_by_role("heading", name="Leopardo")).to_be_visible()
    old_url = page.url
    banner = page.locator("section.language-doubt")
    expect(banner).to_contain_text("Idioma dudoso")
    expect(banner).to_contain_text("Inglés")
    expect(page.locator(".player")).to_contain_text("Inglés (dudoso)")
    shot(page, "17-idioma-dudoso")

    # "Volver a transcribir en… Español" (suggested: the browser's language): a new transcript,
    # which the page follows to the text
    expect(page.get_by_label("Volver a transcribir en…")).to_have_value("es")
    page.get_by_role("button", name="Volver a transcribir", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Transcribiendo de nuevo en Español")).to_be_visible()
    expect(page).not_to_have_url(old_url)
    expect(page).to_have_url(re.compile(r"/biblioteca/[0-9A-Z]{26}$"))
    expect(page.locator(".player")).to_contain_text("Español (elegido)", timeout=240_000)
    expect(page.locator("section.language-doubt")).to_have_count(0)
    expect(page.locator("section.transcript .word").first).to_be_visible()
    spanish_text = page.locator("section.transcript").inner_text().lower()
    assert any(word in spanish_text for word in ("de ", "la ", "el ", "que ", " y ")), spanish_text
    shot(page, "18-transcrito-de-nuevo")

    # The old transcript stays in the library beside the new one
    page.get_by_role("link", name="Biblioteca").click()
    expect(page.get_by_role("listitem", name="Leopardo")).to_have_count(2)

    # On a phone the account page fits the screen
    page.set_viewport_size({"width": 360, "height": 740})
    page.get_by_role("link", name="Cuenta").click()
    expect(page.get_by_role("button", name="Subir Inglés")).to_be_visible()
    # (every section's tab fits on the one row, with no sideways scrolling)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "20-cuenta-360")
    assert not errors, errors
    context.close()


def _truncated_wav(source: Path, target: Path) -> Path:
    """`source` with the second half of its samples cut off, its header left declaring them all."""
    data = source.read_bytes()
    pos = 12
    while data[pos : pos + 4] != b"data":
        pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
    length = struct.unpack_from("<I", data, pos + 4)[0]
    target.write_bytes(data[: pos + 8 + length // 2])
    return target


def test_sessions_end_everywhere_the_account_is_deleted_and_warnings_are_shown(browser, base_stack, tmp_path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    email = f"cuenta-{uuid.uuid4().hex[:8]}@example.com"
    from grabadora.client import GrabadoraClient

    here, there = GrabadoraClient(base_stack.url), GrabadoraClient(base_stack.url)
    here.signup(email, PASSWORD)
    here.sign_in(email, PASSWORD)
    there.sign_in(email, PASSWORD)

    # A truncated recording: its page says what happened
    job = here.transcribe_file(str(_truncated_wav(ENGLISH, tmp_path / "cortado.wav")), title="Cortado")
    assert [e.event for e in here.events(job["stream_url"])][-1] == "completed"
    context, page, errors = _context(browser, base_stack, here.token, email)
    page.goto(f"/biblioteca/{job['job_id']}")
    expect(page.get_by_role("heading", name="Cortado")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("Aviso: el archivo parece cortado")

    # Another browser ("device") signed in to the same account
    other, other_page, other_errors = _context(browser, base_stack, there.token, email)
    other_page.goto("/biblioteca")
    expect(other_page.get_by_role("listitem", name="Cortado")).to_be_visible()

    # Sign out everywhere from this one: signed out here with a message saying so
    page.get_by_role("link", name="Cuenta").click()
    page.get_by_role("button", name="Cerrar sesión en todos los dispositivos").click()
    expect(page.get_by_role("alert")).to_contain_text("Has cerrado la sesión en todos tus dispositivos")
    expect(page.get_by_label("Correo electrónico")).to_be_visible()
    # ...and the other device, at its next request, with its own message (not "caducado")
    other_page.get_by_role("link", name="Uso").click()
    expect(other_page.get_by_role("alert")).to_contain_text("Tu sesión se cerró desde otro dispositivo")
    expect(other_page.get_by_label("Correo electrónico")).to_be_visible()
    other.close()

    # Sign in again and delete the account: the e-mail must be typed first
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar", exact=True).click()
    page.get_by_role("link", name="Cuenta").click()
    page.get_by_role("button", name="Eliminar mi cuenta…").click()
    confirm = page.get_by_role("button", name="Eliminar mi cuenta para siempre")
    expect(confirm).to_be_disabled()
    page.get_by_label(f"Para confirmar, escribe tu correo: {email}").fill(email)
    shot(page, "19-cuenta-eliminar")
    confirm.click()
    expect(page.get_by_role("alert")).to_contain_text("Tu cuenta y todo lo que contenía se han eliminado")

    # The account is gone: signing in fails, and its old token reads nothing
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Correo o contraseña incorrectos")
    assert httpx.get(f"{base_stack.url}/me", headers={"Authorization": f"Bearer {here.token}"}, timeout=10).status_code == 401
    assert not errors and not other_errors, errors + other_errors
    context.close()
