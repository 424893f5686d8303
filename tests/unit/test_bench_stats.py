"""The benchmarks' pure helpers: percentiles, rates, --against settings, CPU time (benchmarks/_common.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks._common import at_most, cpu_seconds, parse_settings, per_minute, percentile, summary_ms  # noqa: E402


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
    assert at_most("p50 ≤ 50 ms", 50, 50, "").verdict == "met"
    assert at_most("p50 ≤ 50 ms", 50.1, 50, "").verdict == "MISSED"


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
    assert "API p99 ≤ 100 ms at 32 concurrent clients: met (worst POST /uploads 50 ms; at 1 client worst p99 200 ms)" in text
    runs[("defaults", 32)][1] = phase("POST /uploads", 0.05, errors=2)
    assert "API: zero errors: MISSED (2 errors in 40 requests)" in "\n".join(report(runs, seconds=1.0, rounds=1))


def test_targets_travel_from_a_part_to_run_all_s_table(tmp_path: Path) -> None:
    from benchmarks._common import Target, at_most, read_targets, targets_line, targets_table, write_targets

    made = [at_most("relay p50 ≤ 50 ms", 24.0, 50, "24 ms"), Target("API: zero errors", "3 errors", False)]
    write_targets(tmp_path / "t.json", made)
    assert read_targets(tmp_path / "t.json") == made
    assert targets_line(made) == "- targets: relay p50 ≤ 50 ms: met (24 ms); API: zero errors: MISSED (3 errors)"
    table = targets_table([("relay", made)])
    assert table[2:] == ["| relay | relay p50 ≤ 50 ms | 24 ms | met |", "| relay | API: zero errors | 3 errors | MISSED |"]
    assert at_most("x", 50.0, 50, "").met and not at_most("x", 50.1, 50, "").met


def test_pipeline_targets_judge_the_ratio_on_the_longest_file_and_the_fixed_cost_on_the_shortest() -> None:
    from benchmarks.pipeline import CASES, CaseResult, DirectRun, PipelineRun, targets

    def result(case, audio_s: float, direct_wall: float, pipe_wall: float, first_seg: float, first_delta: float) -> CaseResult:  # noqa: ANN001
        r = CaseResult(case, audio_s)
        r.direct = [DirectRun(direct_wall, first_seg, ["a"])] * 3
        r.pipeline = [PipelineRun(pipe_wall, first_delta, 0.02, 0.03, first_delta, 0.02, ["a"], "job")] * 3
        return r

    long_, short = CASES  # 70 s and 11 s
    verdicts = targets([result(long_, 70.2, 17.0, 17.6, 7.0, 7.2), result(short, 11.0, 1.4, 1.65, 1.4, 1.8)])
    by_name = {t.target: t for t in verdicts}
    ratio = by_name[f"overhead ratio ≤ 1.05 ({long_.file})"]
    assert ratio.met and ratio.measured.startswith("1.035x")  # +600 ms on the long file: its ratio decides
    assert by_name[f"fixed cost per job ≤ 300 ms ({short.file})"].met  # +250 ms
    assert by_name[f"first delta ≤ 300 ms after faster-whisper's first segment ({long_.file})"].met  # +200 ms
    late = by_name[f"first delta ≤ 300 ms after faster-whisper's first segment ({short.file})"]
    assert not late.met and late.measured == "+400 ms"


def test_relay_targets_include_the_quiet_back_off_only_when_it_was_measured() -> None:
    import math

    from benchmarks.relay import Scenario, relay_targets

    lat = Scenario("latency", ["j"], commits={("j", i): 0.0 for i in range(100)})
    lat.received = [{"job": "j", "seq": i, "t": 0.020 + i * 0.0001} for i in range(100)]
    lat.reads, lat.streamed_s = 600, 30.0  # 1,200 reads a minute while events flow
    fan = Scenario("fanout", ["a", "b"], commits={("a", 0): 0.0, ("b", 0): 0.0})
    fan.received = [{"job": "a", "seq": 0, "t": 0.1}]  # b's event never arrived
    quiet = Scenario("quiet", ["q"])
    verdicts = {t.target: t for t in relay_targets(lat, fan, quiet)}
    assert verdicts["relay p50 ≤ 50 ms"].met and verdicts["relay p99 ≤ 250 ms"].met
    assert not verdicts["2 concurrent streams, nothing lost"].met
    assert len(verdicts) == 3 and math.isnan(quiet.idle_reads_per_min)
    quiet.idle_reads_per_min = 130.0  # more than a tenth of 1,200
    backed_off = relay_targets(lat, fan, quiet)[-1]
    assert backed_off.target.startswith("relay backs off") and not backed_off.met
