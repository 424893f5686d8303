"""The benchmarks' pure helpers: percentiles and rates (benchmarks/_common.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks._common import per_minute, percentile, summary_ms, verdict  # noqa: E402


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
