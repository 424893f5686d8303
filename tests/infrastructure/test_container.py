"""gpu_container/Dockerfile passes hadolint and keeps its contract; docker-compose.yml is coherent."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.infrastructure
REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "gpu_container" / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.skip("hadolint not installed (pip install -e '.[infra]')")
    return found


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([hadolint(), "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_is_cuda12_cudnn9_runtime_with_the_model_baked_in_and_no_root() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-", text, re.M)  # cuDNN 9 ships with CUDA 12.6 images
    assert "ARG GRABADORA_WHISPER_MODEL" in text and "resolve_model(" in text
    assert "'.[worker,diarization]'" in text and "--no-deps resemblyzer==" in text
    # torch only when speakers are asked for at build time; otherwise the worker extra alone
    assert "ARG GRABADORA_SPEAKERS=false" in text and "pip install --no-cache-dir '.[worker]'" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.findall(r"^CMD (.+)$", text, re.M)[-1] == '["python", "-m", "gpu_container"]'


def test_compose_runs_localstack_minio_api_relay_and_worker_on_one_endpoint() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"localstack", "minio", "provision", "api", "relay", "worker"} <= set(services)
    for name in ("provision", "api", "relay", "worker"):
        env = services[name]["environment"]
        assert env["GRABADORA_AWS_ENDPOINT_URL"].startswith("http://"), name
    assert services["worker"]["command"][-2:] == ["-m", "gpu_container"] or "gpu_container" in str(services["worker"]["command"])


def test_compose_relay_polls_as_the_benchmarked_aws_shape() -> None:
    """The compose relay, like the Lambda (tests/infrastructure/test_functions.py), polls at the
    interval benchmarks/relay.py measures for a relay whose writer is another process."""
    yaml = pytest.importorskip("yaml")
    from benchmarks.relay import AWS_POLL

    relay = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["relay"]["environment"]
    assert {k: relay[k] for k in AWS_POLL} == AWS_POLL
