"""Fair turns: how long one user's job waits behind another user's backlog, with and without turns.

    .venv/bin/python benchmarks/fair_turns.py [--backlog 50] [--rounds 1] [--output FILE]

For each mode (`GRABADORA_JOBS_QUEUED_PER_USER=1`, the default, and `=0`, every job queued at
submit as before fair turns) a fresh `grabadora dev --model tiny.en` (emulator, API, relay and
one worker, `GRABADORA_CPU_THREADS=1`, the in-flight cap raised past the backlog) runs:

  1. one untimed warm-up job, then `single`: one job on the free worker, submit to `completed`
     (median of 3);
  2. user A submits the backlog (`--backlog` multipart submits of a 3-second WAV, 8 at a time);
  3. user B submits one job of the same file: `B's wait` is from B's POST /transcribe to its
     `completed` event; `A's jobs done meanwhile` counts A's jobs that completed in that time.

Steps 2–3 repeat `--rounds` times on the same stack (a new pair of users each round, the
previous backlog left to drain behind them: the worst case for B without turns). Progress goes
to stderr; the machine, the command and a markdown table go to stdout (and to --output FILE).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from benchmarks._common import AUDIO_DIR, command_line, dev_stack, log, machine_lines  # noqa: E402
from grabadora.client import GrabadoraClient  # noqa: E402

CLIP = "deepspeech_LDC93S1_pcms16le_1_8000.wav"  # 2.9 s
PASSWORD = "una clave de prueba bastante larga"


def _user(url: str) -> GrabadoraClient:
    client = GrabadoraClient(url, timeout=60)
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    client.signup(email, PASSWORD)
    client.sign_in(email, PASSWORD)
    return client


def _submit(url: str, token: str, body: bytes) -> dict:
    r = httpx.post(
        f"{url}/transcribe", headers={"Authorization": f"Bearer {token}"},
        files={"file": (CLIP, body, "audio/wav")}, data={"language": "en", "profile": "fast"}, timeout=120,
    )
    r.raise_for_status()
    return r.json()


def _run(client: GrabadoraClient, url: str, body: bytes) -> float:
    """Submit one job and follow it to `completed`; seconds taken."""
    start = time.monotonic()
    job = _submit(url, client.token, body)
    events = list(client.events(job["stream_url"]))
    if not events or events[-1].event != "completed":
        raise RuntimeError(f"job {job['job_id']} ended with {events[-1].event if events else 'nothing'}")
    return time.monotonic() - start


def _completed(client: GrabadoraClient) -> int:
    return len(client.list_transcripts(status="completed", limit=100)["items"])


def measure(per_user: int, backlog: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="grabadora-bench-turns-") as tmp:
        stack, _ = dev_stack(Path(tmp), worker=True, model="tiny.en")
        stack.env.update(
            GRABADORA_JOBS_QUEUED_PER_USER=str(per_user),
            GRABADORA_MAX_JOBS_IN_FLIGHT=str(backlog + 10),
            GRABADORA_CPU_THREADS="1",
        )
        log(f"turns={per_user}: starting the stack")
        stack.start()
        try:
            body = (AUDIO_DIR / CLIP).read_bytes()
            solo = _user(stack.url)
            _run(solo, stack.url, body)  # warm-up
            single = statistics.median(_run(solo, stack.url, body) for _ in range(3))
            log(f"turns={per_user}: one job on a free worker {single:.2f} s")
            waits, meanwhile, submit_s = [], [], []
            for round_ in range(rounds):
                a, b = _user(stack.url), _user(stack.url)
                start = time.monotonic()
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda _: _submit(stack.url, a.token, body), range(backlog)))
                submit_s.append(time.monotonic() - start)
                before = _completed(a)
                waits.append(_run(b, stack.url, body))
                meanwhile.append(_completed(a) - before)
                log(f"turns={per_user} round {round_ + 1}: B waited {waits[-1]:.2f} s, {meanwhile[-1]} of A's jobs done meanwhile")
            return {"per_user": per_user, "single": single, "waits": waits, "meanwhile": meanwhile, "submit_s": submit_s}
        finally:
            stack.stop(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results = [measure(1, args.backlog, args.rounds), measure(0, args.backlog, args.rounds)]
    lines = [
        *machine_lines(), f"command: {command_line()}", "",
        f"| fair turns | one job, free worker | B's job behind A's {args.backlog} (submit → completed) "
        "| ÷ one job | A's jobs done meanwhile | A's submits took |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        wait = statistics.median(r["waits"])
        lines.append(
            f"| {'on (1 per user)' if r['per_user'] else 'off (all queued at submit)'} | {r['single']:.2f} s "
            f"| {wait:.2f} s{'' if len(r['waits']) == 1 else ' (median of ' + str(len(r['waits'])) + ')'} "
            f"| {wait / r['single']:.1f}× | {statistics.median(r['meanwhile']):.0f} | {statistics.median(r['submit_s']):.1f} s |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
