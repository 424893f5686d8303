#!/usr/bin/env bash
# The API under N connections from wrk, a load generator written in C that costs next to
# nothing per request, to tell the stack's own cost from the Python load generator's
# (benchmarks/api_load.py uses httpx, 3-8 ms of CPU per request at 32 clients).
#
#     benchmarks/api_wrk.sh [SECONDS]        # needs Debian's wrk: apt-get install wrk
#
# Starts `grabadora dev --no-worker` on a free port, signs one user up, gives it 20 transcripts,
# then runs GET /healthz (no AWS call) and GET /transcripts?limit=20 at 1 and at 32 connections,
# printing wrk's p50/p99 and requests per second, and the stack's CPU per request.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-15}
AUDIO=${GRABADORA_BENCH_AUDIO:-../shared/audio}/deepspeech_LDC93S1_pcms16le_1_8000.wav
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

PORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
GRABADORA_PORT=$PORT .venv/bin/grabadora dev --no-worker >"${STACK_LOG:-$LOG}" 2>&1 &
STACK=$!
trap 'kill $STACK 2>/dev/null; rm -f "$LOG"' EXIT
API=http://127.0.0.1:$PORT
for _ in $(seq 120); do curl -sf "$API/healthz" >/dev/null && break; sleep 1; done

EMAIL="wrk-$RANDOM@example.com" PASSWORD="una clave larga de carga"
curl -sf -X POST "$API/auth/signup" -H 'content-type: application/json' \
     -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" >/dev/null
TOKEN=$(curl -sf -X POST "$API/auth/token" --data-urlencode "username=$EMAIL" --data-urlencode "password=$PASSWORD" \
        | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
for _ in $(seq 20); do
  curl -sf -o /dev/null -X POST "$API/transcribe" -H "Authorization: Bearer $TOKEN" -F "file=@$AUDIO" -F language=en
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$STACK/stat"; }
TICK_MS=$((1000 / $(getconf CLK_TCK)))
echo "| connections | endpoint | requests | req/s | p50 | p99 | stack CPU / request (ms) |"
echo "|---|---|---|---|---|---|---|"
for connections in 1 32; do
  for endpoint in /healthz "/transcripts?limit=20"; do
    auth=()
    [ "$endpoint" = /healthz ] || auth=(-H "Authorization: Bearer $TOKEN")
    before=$(cpu_ticks)
    out=$(wrk -t1 -c"$connections" -d"${SECONDS_EACH}s" --latency "${auth[@]}" "$API$endpoint")
    after=$(cpu_ticks)
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
    cpu=$(awk -v t=$((after - before)) -v ms="$TICK_MS" -v n="$requests" 'BEGIN {printf "%.1f", t * ms / n}')
    echo "| $connections | GET ${endpoint%%\?*} | $requests | $rps | $p50 | $p99 | $cpu |${errors:+ $errors}"
  done
done
