"""Grabar transcribes while the user speaks: a real headless Chromium against the real local stack.

Chromium's fake microphone plays JFK's inaugural sentence (11 s, played once: `%noloop`);
the page captures it with its AudioWorklet, sends 16 kHz PCM frames to POST /live/{id}/audio
and shows the confirmed words while the recording goes on. Three ways through it:

- the first confirmed words are on screen before Stop; after Stop the session is in the
  Biblioteca with its audio and a transcript that matches the reference;
- the network to /live/*/audio drops for a few seconds mid-recording: the frames wait in the
  page and go out when it is back, so the transcript has no hole;
- the page is reloaded mid-recording (some frames not sent yet): Grabar offers the unfinished
  recording, and "Enviar lo que falta" completes it into the Biblioteca;
- "Descartar" mid-recording: the session is cancelled on the server (its worker stops and
  deletes the frames, the transcript item is gone), nothing stays in IndexedDB, Grabar is ready.

Needs Debian's `chromium` (/usr/bin/chromium) and the built app (frontend/dist). Without
Chromium it fails, unless GRABADORA_SKIP_BROWSER=1 (then it skips).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import normalise, wer
from tests.e2e.test_web_app import sign_up

ROOT = Path(__file__).resolve().parents[2]
AUDIO = ROOT.parent / "shared" / "audio"
CHROMIUM = Path("/usr/bin/chromium")
REFERENCE = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
SPEECH_S = 11.0  # fw_jfk.flac
MAX_WER = 0.25
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("GRABADORA_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "grabadora-screenshots"
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    """fw_jfk.flac as 16 kHz mono PCM16 WAV (Chromium's fake microphone reads only WAV)."""
    import av

    out = tmp_path_factory.mktemp("mic") / "jfk16k.wav"
    pcm = bytearray()
    with av.open(str(AUDIO / "fw_jfk.flac")) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                pcm += bytes(chunk.planes[0])[: chunk.samples * 2]
        for chunk in resampler.resample(None):
            pcm += bytes(chunk.planes[0])[: chunk.samples * 2]
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(pcm))
    return out


@pytest.fixture(scope="module")
def browser(mic_wav: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("GRABADORA_SKIP_BROWSER") == "1":
            pytest.skip("GRABADORA_SKIP_BROWSER=1 and /usr/bin/chromium is missing")
        pytest.fail("the browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium "
                    "(or set GRABADORA_SKIP_BROWSER=1 to skip them)")
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("the web app is not built: run `make frontend/dist` (make test does it)")
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        # Chromium loops the file unless told not to; once is what a speaker does.
        f"--use-file-for-fake-audio-capture={mic_wav}%noloop",
        "--autoplay-policy=no-user-gesture-required",
    ]
    # Launched from the e2e tier's one Playwright driver (tests/e2e/conftest.py)
    chromium = request.getfixturevalue("playwright_driver").chromium.launch(
        executable_path=str(CHROMIUM), args=args, headless=True
    )
    yield chromium
    chromium.close()


class Session:
    """One signed-up user's page, with what it sent to the API."""

    def __init__(self, browser, url: str) -> None:
        # bypass_csp: Playwright evaluates wait_for_function strings with eval, which the app's CSP
        # blocks; tests/e2e/test_security_headers.py checks the CSP itself.
        self.context = browser.new_context(
            base_url=url, viewport={"width": 1100, "height": 900}, locale="es-ES", bypass_csp=True
        )
        self.context.grant_permissions(["microphone"], origin=url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.live_ids: list[str] = []
        self.bearer: str | None = None
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(f"{r.method} {r.url}"))
        self.page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        if response.request.method == "POST" and response.url.endswith("/live") and response.status == 201:
            self.live_ids.append(response.json()["live_id"])
            self.bearer = response.request.headers.get("authorization")

    def sign_up(self) -> None:
        from playwright.sync_api import expect

        page = self.page
        page.goto("/")
        sign_up(page, "live")
        page.get_by_role("link", name="Grabar").click()
        expect(page.get_by_role("heading", name="Grabar con el micrófono")).to_be_visible()

    def start(self) -> float:
        from playwright.sync_api import expect

        self.page.get_by_role("button", name="Empezar a grabar").click()
        expect(self.page.get_by_role("button", name="Pausar")).to_be_visible()
        return time.monotonic()

    def frames_sent(self) -> int:
        return sum(1 for r in self.requests if re.search(r"POST .*/live/[^/]+/audio\?seq=", r))

    def wait_until(self, started: float, seconds: float) -> None:
        left = seconds - (time.monotonic() - started)
        if left > 0:
            self.page.wait_for_timeout(left * 1000)

    def wait_done(self) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_role("status").filter(has_text="Transcripción terminada")).to_be_visible(timeout=180_000)

    def open_in_library(self) -> str:
        """Open the finished session in the Biblioteca; its transcript text."""
        from playwright.sync_api import expect

        page = self.page
        page.get_by_role("button", name="Abrir en la Biblioteca").click()
        expect(page).to_have_url(re.compile(r"/biblioteca/[^/]+$"))
        page.wait_for_function("document.querySelector('audio') && !!document.querySelector('audio').getAttribute('src')")
        expect(page.locator(".transcript .line").first).to_be_visible()
        return " ".join(page.locator(".transcript .line").all_inner_texts())

    def stored_recordings(self) -> dict[str, list]:
        """What the page keeps in IndexedDB: recordings not yet sent and their frames, per store."""
        return self.page.evaluate(
            """() => new Promise((resolve, reject) => {
              const open = indexedDB.open('grabadora');
              open.onerror = () => reject(open.error);
              open.onsuccess = () => {
                const db = open.result;
                const names = [...db.objectStoreNames];
                const out = {};
                if (!names.length) { db.close(); resolve(out); return; }
                const tx = db.transaction(names, 'readonly');
                for (const name of names) {
                  const all = tx.objectStore(name).getAll();
                  all.onsuccess = () => { out[name] = all.result.map((r) => r.key ?? r.id ?? null); };
                }
                tx.oncomplete = () => { db.close(); resolve(out); };
                tx.onerror = () => reject(tx.error);
              };
            })"""
        )

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, tiny_stack) -> Iterator[Session]:
    s = Session(browser, tiny_stack.url)
    s.sign_up()
    yield s
    s.close()


def test_words_appear_while_speaking_and_the_session_lands_in_the_library(session: Session) -> None:
    page = session.page
    # Remember every tentative tail shown (each `partial` replaces the last one on screen).
    page.evaluate(
        """() => {
        window.__tails = [];
        new MutationObserver(() => {
          const tail = document.querySelector('[data-testid=tentative-words]');
          if (tail && tail.classList.contains('tentative')) window.__tails.push(tail.textContent);
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
        }"""
    )
    started = session.start()

    # Confirmed words arrive while the recording goes on, before anyone presses Stop.
    confirmed = page.get_by_test_id("confirmed-words")
    page.wait_for_function(
        "document.querySelector('[data-testid=confirmed-words]')?.textContent.trim().length > 0", timeout=20_000
    )
    assert time.monotonic() - started < SPEECH_S + 5
    heard_live = confirmed.inner_text()
    assert page.get_by_role("button", name="Detener y transcribir").is_visible()
    assert heard_live.strip(), "no confirmed word before Stop"
    assert page.get_by_role("timer", name="Tiempo grabado").inner_text() != "0:00"
    page.wait_for_function("window.__tails.some(t => t.trim())", timeout=15_000)
    page.wait_for_timeout(1500)
    session.shot("10-grabar-en-directo")

    session.wait_until(started, SPEECH_S + 1.5)
    page.get_by_role("button", name="Detener y transcribir").click()
    session.wait_done()
    session.shot("11-grabar-terminado")
    assert not any("/uploads" in r for r in session.requests), "the live path fell back to an upload"

    text = session.open_in_library()
    assert session.live_ids and page.url.endswith(f"/biblioteca/{session.live_ids[0]}")
    assert normalise(heard_live, "en").split()[0] in normalise(text, "en"), (heard_live, text)
    assert wer(REFERENCE, text, "en") <= MAX_WER, text
    assert not session.errors, session.errors


def test_a_network_cut_mid_recording_leaves_no_hole(session: Session) -> None:
    page = session.page
    aborted: list[str] = []

    def cut(route) -> None:
        aborted.append(route.request.url)
        route.abort()

    started = session.start()
    session.wait_until(started, 3.0)
    page.context.route("**/live/*/audio*", cut)
    session.wait_until(started, 7.0)
    # The page says it is offline and keeps recording; the frames wait for the network.
    status = page.locator(".status-line")
    assert "Sin conexión" in status.inner_text(), status.inner_text()
    session.shot("12-grabar-sin-conexion")
    assert page.get_by_role("button", name="Pausar").is_visible()
    page.context.unroute("**/live/*/audio*")
    assert len(aborted) >= 2, aborted

    session.wait_until(started, SPEECH_S + 1.5)
    page.get_by_role("button", name="Detener y transcribir").click()
    session.wait_done()
    assert not any("/uploads" in r for r in session.requests), "the live path fell back to an upload"

    text = session.open_in_library()
    # Speech in the cut ("ask not what your country") is there: the frames were sent again.
    assert "country" in normalise(text, "en"), text
    assert wer(REFERENCE, text, "en") <= MAX_WER, text
    assert not session.errors, session.errors


def test_a_reload_mid_recording_is_offered_and_finished(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", on_dialog)
    started = session.start()
    session.wait_until(started, 4.0)
    # The last seconds before the reload never reach the server: only this browser has them.
    page.context.route("**/live/*/audio*", lambda route: route.abort())
    session.wait_until(started, 7.5)
    sent_before = session.frames_sent()
    page.reload()
    page.context.unroute("**/live/*/audio*")
    assert "beforeunload" in dialogs, dialogs

    expect(page.get_by_role("heading", name="Grabar con el micrófono")).to_be_visible()
    unfinished = page.get_by_role("region", name="Grabación sin terminar")
    expect(unfinished).to_be_visible()
    session.shot("21-grabar-sin-terminar")
    unfinished.get_by_role("button", name="Enviar lo que falta").click()
    session.wait_done()
    assert session.frames_sent() > sent_before
    assert not any("/uploads" in r for r in session.requests), "the session should have been finished, not uploaded"

    text = session.open_in_library()
    assert len(session.live_ids) == 1 and page.url.endswith(f"/biblioteca/{session.live_ids[0]}")
    heard = normalise(text, "en")
    # "And so my fellow Americans" went out live; "ask not what your country" only after the reload.
    assert "america" in heard and "country" in heard, text
    # The recording stops mid-sentence: compare with the part that was spoken.
    assert wer("And so my fellow Americans, ask not what your country can do for you", text, "en") <= 0.35, text

    # Once finished, it is no longer offered.
    page.get_by_role("link", name="Grabar").click()
    expect(page.get_by_role("button", name="Empezar a grabar")).to_be_visible()
    expect(page.get_by_role("region", name="Grabación sin terminar")).to_have_count(0)
    assert not session.errors, session.errors


def test_without_live_sessions_the_recording_goes_up_as_a_file(session: Session) -> None:
    from playwright.sync_api import expect

    page = session.page
    # Given a server that refuses live sessions (an older API, or live turned off)
    page.context.route(
        "**/live", lambda route: route.fulfill(status=404, content_type="application/json", body='{"detail": "Not Found"}')
    )
    started = session.start()
    expect(page.locator(".status-line")).to_contain_text("no está disponible")
    session.wait_until(started, SPEECH_S + 1)
    page.get_by_role("button", name="Detener y transcribir").click()
    # Then the PCM the page kept goes through the ordinary upload path as one WAV file
    expect(page.get_by_role("alert").filter(has_text="se sube la grabación completa")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Transcripción terminada")).to_be_visible(timeout=180_000)
    assert any(r.startswith("POST ") and r.endswith("/uploads") for r in session.requests), session.requests
    text = " ".join(page.get_by_test_id("live-words").locator(".word").all_inner_texts())
    assert wer(REFERENCE, text, "en") <= MAX_WER, text
    page.reload()
    expect(page.get_by_role("button", name="Empezar a grabar")).to_be_visible()
    expect(page.get_by_role("region", name="Grabación sin terminar")).to_have_count(0)
    assert not session.errors, session.errors


def _stored_frames(stack, live_id: str) -> int:
    """How many of the session's audio frames the emulator's live-frames table holds."""
    import boto3

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
        aws_access_key_id="grabadora-local", aws_secret_access_key="grabadora-local",
    )
    return dynamodb.query(
        TableName="grabadora-live-frames", KeyConditionExpression="live_id = :id",
        ExpressionAttributeValues={":id": {"S": live_id}}, Select="COUNT", ConsistentRead=True,
    )["Count"]


def test_discarding_mid_recording_keeps_nothing_anywhere(session: Session, tiny_stack) -> None:
    import httpx
    from playwright.sync_api import expect

    page = session.page
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    # Given a recording whose first words are confirmed on screen
    session.start()
    page.wait_for_function(
        "document.querySelector('[data-testid=confirmed-words]')?.textContent.trim().length > 0", timeout=20_000
    )
    assert len(session.live_ids) == 1 and session.bearer, session.live_ids
    live_id = session.live_ids[0]
    assert _stored_frames(tiny_stack, live_id) > 0  # the worker has not finished with them
    auth = {"Authorization": session.bearer}
    assert httpx.get(f"{tiny_stack.url}/transcripts/{live_id}", headers=auth).json()["status"] == "live"

    # When the user discards it (and confirms)
    page.get_by_role("button", name="Descartar").click()

    # Then Grabar is ready for a new recording, with no words and nothing offered to finish
    expect(page.get_by_role("button", name="Empezar a grabar")).to_be_visible()
    expect(page.get_by_role("button", name="Pausar")).to_have_count(0)
    expect(page.get_by_role("button", name="Detener y transcribir")).to_have_count(0)
    expect(page.get_by_role("timer", name="Tiempo grabado")).to_have_text("0:00")
    expect(page.get_by_test_id("confirmed-words")).to_have_count(0)
    expect(page.get_by_role("region", name="Grabación sin terminar")).to_have_count(0)
    assert dialogs == ["¿Descartar esta grabación? No se podrá recuperar."], dialogs
    cancels = [r for r in session.requests if r == f"POST {tiny_stack.url}/live/{live_id}/cancel"]
    assert len(cancels) == 1, session.requests
    # ...the server keeps no transcript: the session's item is removed (not marked), so it reads 404
    gone = httpx.get(f"{tiny_stack.url}/transcripts/{live_id}", headers=auth)
    assert gone.status_code == 404, gone.text
    listed = httpx.get(f"{tiny_stack.url}/transcripts", headers=auth).json()["items"]
    assert all(i["id"] != live_id for i in listed), listed
    # ...its worker noticed and stopped: it deletes the frames, which only the worker may
    deadline = time.monotonic() + 15
    while _stored_frames(tiny_stack, live_id) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert _stored_frames(tiny_stack, live_id) == 0, "the worker did not end the cancelled session"
    # ...and this browser keeps no unsent recording of it
    stored = session.stored_recordings()
    assert stored.get("live-sessions") == [] and stored.get("live-frames") == [], stored

    # The Biblioteca has nothing; a reload offers nothing to finish or send
    page.get_by_role("link", name="Biblioteca").click()
    expect(page.get_by_text("No hay transcripciones todavía.")).to_be_visible()
    page.get_by_role("link", name="Grabar").click()
    page.reload()
    expect(page.get_by_role("button", name="Empezar a grabar")).to_be_visible()
    page.wait_for_timeout(1000)  # the page's look at IndexedDB is asynchronous
    expect(page.get_by_role("region", name="Grabación sin terminar")).to_have_count(0)
    expect(page.get_by_role("region", name="Grabaciones sin enviar")).to_have_count(0)
    assert not session.errors, session.errors
