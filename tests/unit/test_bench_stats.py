"""The benchmarks' pure helpers: percentiles, rates, --against settings, CPU time (benchmarks/_common.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks._common import cpu_seconds, parse_settings, per_minute, percentile, summary_ms, verdict  # noqa: E402


def test_percentile_interpolates_like_numpy() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 25) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile(range(1, 101), 99) == pytest.approx(99.01)


def test_percentile_edge_cases() -> None:
    assert math.isnan(percentile([], 50))
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_ms_and_rates() -> None:
    s = summary_ms([0.010, 0.020, 0.030])
    assert s["n"] == 3
    assert s["p50"] == pytest.approx(20.0)
    assert s["max"] == pytest.approx(30.0)
    assert per_minute(10, 30.0) == 20.0
    assert math.isnan(per_minute(1, 0))
    assert verdict(50, 50) == "met"
    assert verdict(50.1, 50) == "MISSED"


def test_against_settings_parse_into_environment_variables() -> None:
    assert parse_settings("GRABADORA_GC_FREEZE=false") == {"GRABADORA_GC_FREEZE": "false"}
    assert parse_settings("A=1,B=x=y") == {"A": "1", "B": "x=y"}
    assert parse_settings("PYTHONPATH=/tmp/before") == {"PYTHONPATH": "/tmp/before"}
    with pytest.raises(ValueError):
        parse_settings("GRABADORA_GC_FREEZE")
    with pytest.raises(ValueError):
        parse_settings("=1")


def test_cpu_seconds_counts_a_process_s_work() -> None:
    import os
    import time

    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert 0.1 < cpu_seconds(os.getpid()) - before < 5


def test_the_cpu_is_named_with_the_vector_extensions_int8_depends_on() -> None:
    from benchmarks._common import cpu_description

    avx2 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx fma avx2 bmi2\n"
    assert cpu_description(avx2) == "AMD EPYC (avx2, fma; no avx512)"
    avx512 = "model name\t: AMD EPYC 9R14\nflags\t: avx2 fma avx512f avx512_vnni\nmodel name\t: other\n"
    assert cpu_description(avx512) == "AMD EPYC 9R14 (avx2, fma, avx512f, avx512_vnni)"
    assert cpu_description("") == "unknown (no avx2; no avx512)"


def test_api_report_judges_the_target_at_the_highest_client_count_without_the_floor() -> None:
    from benchmarks.api_load import FLOOR, Phase, report

    def phase(name: str, latency_s: float, errors: int = 0) -> Phase:
        p = Phase(name, seconds=1.0, latencies=[latency_s] * 10, stack_cpu=0.01, client_cpu=0.01)
        if errors:
            p.errors["HTTP 500"] = errors
        return p

    runs = {
        ("defaults", 1): [phase(FLOOR, 0.002), phase("POST /uploads", 0.2)],  # slow, but not the target's level
        ("defaults", 32): [phase(FLOOR, 0.5), phase("POST /uploads", 0.05)],  # the floor does not count
    }
    text = "\n".join(report(runs, seconds=1.0, rounds=1))
    assert "| 32 | GET /healthz (floor) | 10 |" in text
    assert "p99 ≤ 100 ms: met (worst of the three endpoints 50 ms)" in text
    runs[("defaults", 32)][1] = phase("POST /uploads", 0.05, errors=2)
    assert "zero errors: MISSED (2" in "\n".join(report(runs, seconds=1.0, rounds=1))
