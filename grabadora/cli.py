"""The `grabadora` command: run the local stack, the worker, or transcribe a file."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import sys

from grabadora.models import QualityProfile



def language_line(transcript: dict) -> str:
    """'es (detected, 0.97)', 'es (your first language: detection unsure)', 'fr (asked for)'."""
    language = transcript.get("language") or "?"
    source = transcript.get("language_source")
    probability = transcript.get("language_probability")
    if source == "forced":
        return f"{language} (asked for)"
    if source == "preferred_fallback":
        return f"{language} (your first language: detection unsure; --language xx to choose)"
    if source == "detected":
        sure = f"{probability:.2f}" if probability is not None else "?"
        return f"{language} (detected, {sure}{', unsure' if transcript.get('language_unsure') else ''})"
    return language

def _dev(args: argparse.Namespace) -> int:
    import logging

    from grabadora.local.stack import DevStack, dev_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with_worker = not args.no_worker
    settings = dev_settings(port=args.port, with_worker=with_worker, model=args.model)
    stack = DevStack(settings, with_worker=with_worker)
    stack.serve()
    if stack.worker_busy:
        # Everything durable is saved (the emulator's last snapshot; the job's message returns to
        # the queue), but a thread is still inside CTranslate2: leave without tearing the
        # interpreter's modules down under it, which can crash an exit that should be clean.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from gpu_container.__main__ import main

    main()
    return 0


def _exporter(args: argparse.Namespace) -> int:
    """The exports queue → exporter handler loop, as Lambda's event source mapping runs it on AWS."""
    import signal
    import threading

    from grabadora.local.exporter_runner import ExporterRunner
    from grabadora.settings import ExporterSettings, use_settings

    settings = use_settings(ExporterSettings())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        ExporterRunner(stop, settings=settings).run()
    except KeyboardInterrupt:
        pass
    return 0


def _sha256(path: str) -> str:
    """The file's SHA-256 (hex), as the web app computes it for a file it uploads."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _api_url(args: argparse.Namespace) -> str:
    return args.api_url or os.environ.get("GRABADORA_API_URL", "http://127.0.0.1:8000")


def _credentials(args: argparse.Namespace) -> tuple[str | None, str | None]:
    email = args.email or os.environ.get("GRABADORA_EMAIL")
    password = os.environ.get("GRABADORA_PASSWORD")
    if email and not password and sys.stdin.isatty():
        password = getpass.getpass(f"Password for {email}: ")
    return email, password


def _signup(args: argparse.Namespace) -> int:
    from grabadora.client import ApiError, GrabadoraClient

    email, password = _credentials(args)
    if not email or not password:
        print("error: give --email (or GRABADORA_EMAIL) and GRABADORA_PASSWORD", file=sys.stderr)
        return 2
    with GrabadoraClient(_api_url(args)) as client:
        try:
            user = client.signup(email, password)
        except ApiError as e:
            print(f"error: {e.detail}", file=sys.stderr)
            return 1
    print(f"account created: {user['email']} ({user['id']})")
    return 0


def _transcribe(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from grabadora.client import ApiError, GrabadoraClient

    if not os.path.isfile(args.file):
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    client = GrabadoraClient(_api_url(args), token=os.environ.get("GRABADORA_TOKEN"))
    try:
        if client.token is None:
            email, password = _credentials(args)
            if not email or not password:
                print(
                    "error: sign in with GRABADORA_TOKEN, or GRABADORA_EMAIL and GRABADORA_PASSWORD "
                    "(create an account with `grabadora signup`)",
                    file=sys.stderr,
                )
                return 2
            client.sign_in(email, password)
        size = os.path.getsize(args.file)
        with tqdm(total=size, unit="B", unit_scale=True, desc="upload", file=sys.stderr, leave=False) as bar:
            upload_id = client.upload(args.file, on_bytes=bar.update)
        job = client.transcribe(
            upload_id,
            language=args.language,
            profile=args.profile,
            title=args.title,
            tags=args.tag or None,
            task="translate" if args.translate else None,
            hotwords=args.hotwords,
            initial_prompt=args.prompt,
            source_sha256=_sha256(args.file),  # the web app then knows the file when it is picked again
        )
        print(f"job {job['job_id']} queued ({job['quality_profile']})", file=sys.stderr)
        progress = tqdm(total=100, unit="%", desc="transcribe", file=sys.stderr, leave=False,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}|")
        live = sys.stdout.isatty() or args.live
        for event in client.events(job["stream_url"]):
            if event.event == "delta" and live:
                progress.clear()
                sys.stdout.write(event.data["text"])
                sys.stdout.flush()
            elif event.event == "progress":
                progress.n = round(event.data["progress"] * 100)
                progress.refresh()
            elif event.event == "error":
                progress.close()
                print(f"\nerror: {event.data['detail']}", file=sys.stderr)
                return 1
        progress.close()
        if live:
            sys.stdout.write("\n\n")
        _print_transcript(client.get_transcript(job["job_id"]))
        return 0
    except ApiError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 1
    finally:
        client.close()


def _print_transcript(transcript: dict) -> None:
    """The finished transcript: a summary line on stderr, the text on stdout."""
    print(f"--- {transcript['title']} · {language_line(transcript)} · {transcript['duration']:.1f} s ---",
          file=sys.stderr)
    print(transcript["text"])


def _live(args: argparse.Namespace) -> int:
    """Stream a file to a live session at real-time pace and print confirmed words as they come."""
    import threading

    from grabadora.client import ApiError, GrabadoraClient

    if not os.path.isfile(args.file):
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        pcm = _pcm16(args.file)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    client = GrabadoraClient(_api_url(args), token=os.environ.get("GRABADORA_TOKEN"))
    failure: list[BaseException] = []
    try:
        if client.token is None:
            email, password = _credentials(args)
            if not email or not password:
                print("error: sign in with GRABADORA_TOKEN, or GRABADORA_EMAIL and GRABADORA_PASSWORD", file=sys.stderr)
                return 2
            client.sign_in(email, password)
        session = client.start_live(
            language=args.language, profile=args.profile, title=args.title, tags=args.tag or None,
            final_pass=args.final_pass,
        )
        live_id = session["live_id"]
        print(f"live session {live_id}: sending {len(pcm) / 32000:.1f} s of audio"
              f"{' at real-time pace' if args.speed else ''}", file=sys.stderr)

        def send() -> None:
            try:
                client.stream_live(live_id, pcm, speed=args.speed or None)
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                failure.append(e)

        sender = threading.Thread(target=send, name="live-sender", daemon=True)
        sender.start()
        tentative = ""
        show_partial = sys.stderr.isatty() and not args.quiet_partial
        for event in client.events(session["stream_url"]):
            if event.event == "delta":
                if tentative and show_partial:
                    sys.stderr.write("\r\033[K")
                sys.stdout.write(event.data["text"])
                sys.stdout.flush()
            elif event.event == "partial" and show_partial:
                tentative = event.data["text"]
                sys.stderr.write(f"\r\033[K\033[2m{tentative[-70:]}\033[0m")
                sys.stderr.flush()
            elif event.event == "progress" and event.data.get("stage") == "final":
                print(f"\nimproving the text: {round(event.data['progress'] * 100)}%", file=sys.stderr)
            elif event.event == "error":
                print(f"\nerror: {event.data['detail']}", file=sys.stderr)
                return 1
            if failure:
                raise failure[0]
        sender.join()
        sys.stdout.write("\n")
        _print_transcript(client.get_transcript(live_id))
        return 0
    except ApiError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 1
    finally:
        client.close()


def _pcm16(path: str) -> bytes:
    """The file's audio as PCM16 little-endian mono at 16 kHz (what a live session takes)."""
    try:
        import av
    except ImportError:
        import wave

        with wave.open(path, "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
                raise ValueError("without PyAV only 16 kHz mono PCM16 WAV files can be sent: pip install av") from None
            return w.readframes(w.getnframes())
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    out = bytearray()
    try:
        with av.open(path) as container:
            if not container.streams.audio:
                raise ValueError(f"{path} has no audio track")
            for frame in container.decode(audio=0):
                for resampled in resampler.resample(frame):
                    out += resampled.to_ndarray().tobytes()
            for resampled in resampler.resample(None):
                out += resampled.to_ndarray().tobytes()
    except av.error.FFmpegError as e:
        raise ValueError(f"{path} could not be decoded as audio") from e
    return bytes(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grabadora", description="Speech to text, live.")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole stack locally (AWS emulator, API, relay, worker)")
    dev.add_argument("--port", type=int, default=None, help="HTTP port (default 8000 or GRABADORA_PORT)")
    dev.add_argument("--model", default=None, help="Whisper model: base, tiny.en or a directory")
    dev.add_argument("--no-worker", action="store_true", help="do not run a worker in this process")
    dev.set_defaults(func=_dev)

    worker = sub.add_parser("worker", help="run a transcription worker against the configured AWS endpoint")
    worker.set_defaults(func=_worker)

    exporter = sub.add_parser("exporter", help="deliver queued exports (Notion, Trello, webhook) from the exports queue")
    exporter.set_defaults(func=_exporter)

    for name, func, text in (("signup", _signup, "create an account"),):
        p = sub.add_parser(name, help=text)
        p.add_argument("--email", default=None)
        p.add_argument("--api-url", default=None)
        p.set_defaults(func=func)

    tr = sub.add_parser("transcribe", help="upload a file and print its words as they are recognised")
    tr.add_argument("file")
    tr.add_argument("--language", default=None, help="language code (es, en, ...); default: detect among your languages; 'any': among all")
    tr.add_argument("--profile", choices=[p.value for p in QualityProfile], default=None)
    tr.add_argument("--title", default=None)
    tr.add_argument("--tag", action="append", help="a tag (repeat for more)")
    tr.add_argument("--hotwords", default=None, help="words to favour, e.g. 'ComfyUI Grabadora'")
    tr.add_argument("--prompt", default=None, help="initial prompt: vocabulary and style the model should follow")
    tr.add_argument("--translate", action="store_true", help="English text from speech in any language")
    tr.add_argument("--email", default=None)
    tr.add_argument("--api-url", default=None)
    tr.add_argument("--live", action="store_true", help="print words as they arrive even when not a terminal")
    tr.set_defaults(func=_transcribe)

    lv = sub.add_parser("live", help="stream a file to a live session as a microphone would; print words as confirmed")
    lv.add_argument("file")
    lv.add_argument("--language", default=None, help="language code (es, en, ...); default: detect")
    lv.add_argument("--profile", choices=[p.value for p in QualityProfile], default=None)
    lv.add_argument("--title", default=None)
    lv.add_argument("--tag", action="append", help="a tag (repeat for more)")
    lv.add_argument("--final-pass", action=argparse.BooleanOptionalAction, default=None,
                    help="after the end, transcribe the whole recording again (default: on for --profile precise)")
    lv.add_argument("--speed", type=float, default=1.0, help="pace as a multiple of real time; 0 sends at once")
    lv.add_argument("--quiet-partial", action="store_true", help="do not show tentative words on stderr")
    lv.add_argument("--email", default=None)
    lv.add_argument("--api-url", default=None)
    lv.set_defaults(func=_live)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
