"""The web app's Vitest suite (hooks and components), run from pytest so `make test` covers it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_vitest_suite() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: the web app's tests need Node 20+ and npm")
    if not (FRONTEND / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True, timeout=600)
    result = subprocess.run(
        [npm, "test", "--", "--run"], cwd=FRONTEND, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
