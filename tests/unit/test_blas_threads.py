"""numpy's OpenBLAS runs one thread in every Grabadora process (grabadora/__init__.py).

Its idle threads busy-wait after each call and take the cores the decoder needs
(docs/BENCHMARKS.md, "On a GPU: the policy replayed"). Each check runs a fresh interpreter,
since the limit only takes effect if it is set before numpy loads OpenBLAS.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import ctypes
{imports}
import numpy
path = next((line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() and ".so" in line), None)
if path is None:
    print("no-openblas")
else:
    lib = ctypes.CDLL(path)
    name = next(n for n in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads") if hasattr(lib, n))
    print(getattr(lib, name)())
"""


def _threads(imports: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"} | env
    out = subprocess.run([sys.executable, "-c", PROBE.format(imports=imports)], env=environ,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def spare_cores() -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: OpenBLAS runs one thread anyway, so the limit cannot show")
    if _threads("") == "no-openblas":
        pytest.skip("this numpy is not built on OpenBLAS")


@pytest.mark.usefixtures("spare_cores")
@pytest.mark.parametrize("imports", ["import grabadora", "import gpu_container.worker", "import grabadora.cli"])
def test_every_entry_point_runs_numpy_blas_on_one_thread(imports: str) -> None:
    assert int(_threads("")) > 1  # numpy alone: a thread per core
    assert _threads(imports) == "1"


@pytest.mark.usefixtures("spare_cores")
def test_an_operators_own_setting_wins() -> None:
    assert _threads("import grabadora", OPENBLAS_NUM_THREADS="2") == "2"
