"""The Lambdas start the way Lambda starts them: the code asset in the task root, every dependency
only in the layer at /opt/python, and nothing else on the path.

The relay is the Stream function's handler, `functions/stream/run.sh`, which the Lambda Web Adapter
starts as a plain script: no managed-runtime bootstrap puts the layer on `sys.path` for it, so
run.sh has to. Here the script runs as the adapter would run it (issue 20, item 1: without that,
every live stream on AWS is a 502):

- the environment holds only what Lambda sets (PATH with the interpreter's directory first,
  LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR and PYTHONPATH pointing at an empty runtime directory, the
  AWS_* names) plus the function's own environment read from the synthesised template, with
  local stand-ins for the deploy-time values (table names, region, secrets) and one addition:
  GRABADORA_AWS_ENDPOINT_URL, the embedded emulator standing in for DynamoDB;
- the interpreter is a venv made without pip and without system site-packages, so `python` is
  as bare as Lambda's /var/lang/bin/python;
- the task root is a copy of the code asset CDK staged for the function (cdk.out/asset.<hash>);
- the dependencies are a layer built as docs/deploy.md builds it (pip --target --platform
  manylinux2014_x86_64 --only-binary=:all:), cached under build/ by a hash of the dependency list,
  and mounted at /opt/python in a private mount namespace (unshare), the rest of /opt kept.

The API and exporter handlers are imported and invoked by module path in the same environment,
with PYTHONPATH as the managed runtime arranges it for handlers (task root, /opt/python, runtime).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.infrastructure

REPO = Path(__file__).resolve().parents[2]
LAYER_CACHE = REPO / "build" / "test-lambda-layer"  # build/ is gitignored and excluded from assets
LAYER_PLATFORM = "manylinux2014_x86_64"
REGION = "us-east-1"
STREAM_HANDLER = "functions/stream/run.sh"
API_HANDLER = "functions.api.handler.handler"
EXPORTER_HANDLER = "functions.exporter.handler.lambda_handler"

# Inside a private mount namespace: /opt becomes a view holding what /opt already held (bind
# mounts: an interpreter or tool installed there stays reachable) and the layer's python/ at
# /opt/python, as Lambda merges layers into /opt. Then the command runs, in that namespace.
MOUNT_LAYER = r"""
set -e
layer=$1; view=$2; shift 2
for entry in /opt/* /opt/.[!.]*; do
  [ -e "$entry" ] || continue
  name=${entry#/opt/}
  [ "$name" = python ] && continue
  if [ -d "$entry" ]; then mkdir -p "$view/$name"; else : > "$view/$name"; fi
  mount --bind "$entry" "$view/$name"
done
mkdir -p "$view/python"
mount --bind "$layer/python" "$view/python"
mount --rbind "$view" /opt
exec "$@"
"""


# --- what the stack deploys ------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    runtime: str  # "python3.11"
    memory: int
    environment: dict[str, Any]  # values as in the template: strings or intrinsic functions
    code_asset: Path  # the directory CDK staged in cdk.out for the function's code


@pytest.fixture(scope="module")
def functions(synth) -> dict[str, Function]:  # noqa: ANN001 - the conftest's Synth
    found: dict[str, Function] = {}
    for logical_id, resource in synth.resources("AWS::Lambda::Function").items():
        props = resource["Properties"]
        key = props["Code"]["S3Key"]
        found[props["Handler"]] = Function(
            logical_id=logical_id,
            handler=props["Handler"],
            runtime=props["Runtime"],
            memory=int(props.get("MemorySize", 128)),
            environment=props.get("Environment", {}).get("Variables", {}),
            code_asset=synth.outdir / f"asset.{key.removesuffix('.zip')}",
        )
    for handler in (STREAM_HANDLER, API_HANDLER, EXPORTER_HANDLER):
        assert handler in found, f"no function with handler {handler} in the template: {sorted(found)}"
    runtimes = {found[h].runtime for h in (STREAM_HANDLER, API_HANDLER, EXPORTER_HANDLER)}
    assert len(runtimes) == 1, f"the functions share one layer but not one runtime: {runtimes}"
    return found


@pytest.fixture(scope="module")
def python_version(functions: dict[str, Function]) -> str:
    """The runtime's Python ("3.11"); the layer's compiled wheels only load in that version."""
    version = functions[STREAM_HANDLER].runtime.removeprefix("python")
    if f"{sys.version_info.major}.{sys.version_info.minor}" != version:
        pytest.skip(f"the functions run Python {version}; this interpreter is {sys.version.split()[0]}")
    if sys.platform != "linux" or platform.machine() != "x86_64":
        pytest.skip(f"the layer is built for {LAYER_PLATFORM}; this machine is {sys.platform}/{platform.machine()}")
    return version


# --- the Lambda-like machine -----------------------------------------------------------------


@pytest.fixture(scope="module")
def layer(python_version: str) -> Path:
    """The dependency layer as docs/deploy.md builds it, built once per machine (build/ cache)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    dependencies = list(pyproject["project"]["dependencies"])
    recipe = {"dependencies": dependencies, "platform": LAYER_PLATFORM, "implementation": "cp", "python": python_version}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    target = LAYER_CACHE / key
    if (target / "python").is_dir():
        return target
    partial = LAYER_CACHE / f"{key}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "python").mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
        "--target", str(partial / "python"), "--platform", LAYER_PLATFORM, "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:", *dependencies,
    ]  # fmt: skip
    built = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    if built.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        pytest.fail(f"building the dependency layer failed ({' '.join(command)}):\n{built.stderr[-4000:]}")
    (partial / "recipe.json").write_text(json.dumps(recipe, indent=1))  # at /opt/recipe.json: harmless
    try:
        partial.rename(target)
    except OSError:  # built meanwhile by another run: keep that one
        shutil.rmtree(partial, ignore_errors=True)
    return target


@pytest.fixture(scope="module")
def mount_namespace(layer: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command prefix that runs a command with the layer at /opt/python, or a skip."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if unshare is None or mount is None:
        pytest.skip("needs util-linux's unshare and mount to put the layer at /opt/python")
    if not Path("/opt").is_dir():
        pytest.skip("/opt does not exist, so there is nowhere to mount the layer as Lambda does")
    candidates = [[unshare, "--mount"]] if os.geteuid() == 0 else []
    candidates.append([unshare, "--mount", "--map-root-user"])
    failures = []
    for prefix in candidates:
        view = tmp_path_factory.mktemp("opt-probe")
        probe = subprocess.run(
            [*prefix, "/bin/sh", "-c", MOUNT_LAYER, "sh", str(layer), str(view), "/bin/sh", "-c", "test -d /opt/python/uvicorn"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if probe.returncode == 0:
            return prefix
        failures.append(f"{' '.join(prefix)}: {probe.stderr.strip() or f'exit {probe.returncode}'}")
    pytest.skip("no private mount namespace can be made here to put the layer at /opt/python: " + "; ".join(failures))


@pytest.fixture(scope="module")
def interpreter_dir(python_version: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare interpreter (this Python, no pip, no site-packages): Lambda's /var/lang/bin."""
    venv = tmp_path_factory.mktemp("lang")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    assert (venv / "bin" / "python").exists()
    return venv / "bin"


@pytest.fixture(scope="module")
def task_root(functions: dict[str, Function], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the code asset the three functions share (the staged directory CDK would zip)."""
    assets = {functions[h].code_asset for h in (STREAM_HANDLER, API_HANDLER, EXPORTER_HANDLER)}
    assert len(assets) == 1, f"expected one shared code asset, got {assets}"
    (asset,) = assets
    assert asset.is_dir(), f"the code asset was not staged at {asset}"
    root = tmp_path_factory.mktemp("var") / "task"
    shutil.copytree(asset, root, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    assert not (root / ".venv").exists() and not (root / "tests").exists(), "the code asset holds what it excludes"
    return root


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LAMBDA_RUNTIME_DIR (/var/runtime): Lambda's PYTHONPATH; here it holds nothing useful."""
    return tmp_path_factory.mktemp("runtime")


@pytest.fixture(scope="module")
def deploy_secrets() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {"GRABADORA_JWT_SECRET_KEY": secrets.token_hex(32), "GRABADORA_SECRETS_KEY": Fernet.generate_key().decode()}


def resolve_environment(function: Function, deploy_secrets: dict[str, str]) -> dict[str, str]:
    """The function's environment, its deploy-time values replaced by local stand-ins (the
    secrets' ARNs by those of the same secrets created in the emulator: `secret_arns`)."""
    from grabadora.settings import DevSettings

    resolved = {}
    for name, value in function.environment.items():
        field = name.removeprefix("GRABADORA_").lower()
        if isinstance(value, str):
            resolved[name] = value
        elif name in deploy_secrets:
            resolved[name] = deploy_secrets[name]
        elif value == {"Ref": "AWS::Region"}:
            resolved[name] = REGION
        elif name.startswith("GRABADORA_") and field in DevSettings.model_fields and {"Ref", "Fn::GetAtt"} & set(value):
            resolved[name] = str(DevSettings.model_fields[field].default)  # what the emulator provisions
        elif name in ("GRABADORA_WORKER_CLUSTER", "GRABADORA_WORKER_SERVICE"):
            continue  # no ECS service here: without its name the worker nudge is off, as locally
        else:
            raise AssertionError(f"{function.logical_id}: no local stand-in for {name}={value!r}")
    return resolved


@pytest.fixture(scope="module")
def secret_arns(emulator: str, deploy_secrets: dict[str, str]) -> dict[str, str]:
    """The two keys as CDK generates them (JSON {"key": ...}; the Fernet key without its '='),
    stored in the emulator's Secrets Manager: the functions read them at start-up by ARN."""
    import json as json_

    from grabadora import aws

    client = aws.client("secretsmanager")
    jwt = client.create_secret(Name=f"jwt-{time.monotonic_ns()}", SecretString=json_.dumps({"key": deploy_secrets["GRABADORA_JWT_SECRET_KEY"]}))
    fernet = client.create_secret(Name=f"fernet-{time.monotonic_ns()}",
                                  SecretString=json_.dumps({"key": deploy_secrets["GRABADORA_SECRETS_KEY"].rstrip("=")}))
    return {"GRABADORA_JWT_SECRET_ARN": jwt["ARN"], "GRABADORA_SECRETS_KEY_ARN": fernet["ARN"]}


@pytest.fixture(scope="module")
def lambda_env(
    interpreter_dir: Path, task_root: Path, runtime_dir: Path, deploy_secrets: dict[str, str], secret_arns: dict[str, str],
    emulator: str,
) -> Any:  # noqa: ANN401
    """What Lambda puts in the environment of a function's process, and nothing else (its AWS
    endpoint is the emulator, where the secrets it names are)."""
    from grabadora.local.emulator import EMULATOR_CREDENTIALS

    def build(function: Function, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{interpreter_dir}:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task_root}:{task_root}/lib:/opt/lib",
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "PYTHONPATH": str(runtime_dir),
            "_HANDLER": function.handler,
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            **EMULATOR_CREDENTIALS,  # the role's credentials: throwaway ones, nothing real is signed
            "AWS_SESSION_TOKEN": "grabadora-local",
            **resolve_environment(function, {**deploy_secrets, **secret_arns}),
            "GRABADORA_AWS_ENDPOINT_URL": emulator,
            **extra,
        }

    return build


def in_lambda(mount_namespace: list[str], layer: Path, tmp_path: Path, *command: str) -> list[str]:
    view = Path(tmp_path) / f"opt-{time.monotonic_ns()}"
    view.mkdir()
    return [*mount_namespace, "/bin/sh", "-c", MOUNT_LAYER, "sh", str(layer), str(view), *command]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the relay, started by run.sh --------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    """The embedded moto server with the project's tables, for this process and the relay."""
    from grabadora import aws
    from grabadora.local.emulator import EMULATOR_CREDENTIALS, Emulator
    from grabadora.local.provision import provision
    from grabadora.resources import build_resources
    from grabadora.settings import get_settings

    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("GRABADORA_") or name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
                mp.delenv(name)
        for name, value in EMULATOR_CREDENTIALS.items():
            mp.setenv(name, value)
        server = Emulator("127.0.0.1", 0)
        url = server.start()
        mp.setenv("GRABADORA_AWS_ENDPOINT_URL", url)
        mp.setenv("GRABADORA_REGION", REGION)
        get_settings.cache_clear()
        aws.reset_clients()
        try:
            settings = get_settings()
            provision(build_resources(settings), settings.region)
            yield url
        finally:
            get_settings.cache_clear()
            aws.reset_clients()
            server.stop()
    get_settings.cache_clear()


@dataclass
class FinishedJob:
    user_id: str
    job_id: str
    events: list[Any]


@pytest.fixture(scope="module")
def finished_job(emulator: str) -> FinishedJob:
    """A job whose whole log is already in DynamoDB, written through the project's adapters."""
    from grabadora.adapters.events_table import EventsTable
    from grabadora.adapters.transcripts_table import TranscriptsTable
    from grabadora.adapters.user_state import UserStateTable
    from grabadora.models import JobEvent, JobStatus, TranscriptItem, utc_now

    user_id, job_id = "user-lambda-start", "01LAMBDASTARTJOB0000000000"
    now = utc_now()
    TranscriptsTable().create(
        TranscriptItem(user_id=user_id, transcript_id=job_id, status=JobStatus.COMPLETED, title="Arranque",
                       progress=1, attempts=1, created_at=now, updated_at=now)
    )  # fmt: skip
    events = [
        JobEvent(job_id=job_id, seq=0, type="progress", data={"progress": 0.0}),
        JobEvent(job_id=job_id, seq=1, type="delta", data={"text": "Hola", "t0": 0.0, "t1": 0.42}),
        JobEvent(job_id=job_id, seq=2, type="delta", data={"text": "señores", "t0": 0.42, "t1": 1.1}),
        JobEvent(job_id=job_id, seq=3, type="progress", data={"progress": 1.0}),
        JobEvent(job_id=job_id, seq=4, type="completed", data={"transcript_id": job_id, "text": "Hola señores"}),
    ]
    EventsTable().append(events)
    UserStateTable().open_session(user_id)  # the account exists (tokens are checked against it)
    return FinishedJob(user_id, job_id, events)


@pytest.fixture(scope="module")
def relay(
    functions: dict[str, Function],
    lambda_env: Any,  # noqa: ANN401
    mount_namespace: list[str],
    layer: Path,
    task_root: Path,
    emulator: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """functions/stream/run.sh started as the Web Adapter starts it; its base URL once it answers."""
    function = functions[STREAM_HANDLER]
    port = str(free_port())
    # The adapter proxies to AWS_LWA_PORT (falling back to PORT); both name the free port here.
    env = lambda_env(function, AWS_LWA_PORT=port, PORT=port, GRABADORA_AWS_ENDPOINT_URL=emulator)
    scratch = tmp_path_factory.mktemp("relay")
    log_path = scratch / "relay.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            in_lambda(mount_namespace, layer, scratch, str(task_root / function.handler)),
            env=env,
            cwd=task_root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    # The adapter's readiness check: any answer below 500 on the configured path.
    readiness = env.get("AWS_LWA_READINESS_CHECK_PATH", "/")
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(trust_env=False, timeout=2) as client:
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"{function.handler} exited with {process.returncode} before answering on {url}:\n"
                        + log_path.read_text(errors="replace")[-4000:]
                    )
                try:
                    if client.get(url + readiness).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{function.handler} did not answer on {url} within 60 s:\n" + log_path.read_text(errors="replace")[-4000:])
                time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def parse_sse(body: str) -> list[dict[str, str]]:
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":") and ":" in line:
                name, _, value = line.partition(":")
                fields[name] = fields.get(name, "") + value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


def test_run_sh_serves_a_live_stream_from_the_layer_alone(
    relay: str, finished_job: FinishedJob, deploy_secrets: dict[str, str]
) -> None:
    from grabadora import auth
    from grabadora.settings import DevSettings

    settings = DevSettings(_env_file=None, jwt_secret_key=deploy_secrets["GRABADORA_JWT_SECRET_KEY"])
    token = auth.issue_stream_token(settings, finished_job.user_id, finished_job.job_id)
    with httpx.Client(trust_env=False, timeout=30) as client:
        response = client.get(f"{relay}/transcribe/{finished_job.job_id}", params={"token": token})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    received = parse_sse(response.text)
    assert [(e["id"], e["event"]) for e in received] == [(str(e.seq), e.type) for e in finished_job.events]
    assert [json.loads(e["data"]) for e in received] == [e.data for e in finished_job.events]
    assert received[-1]["event"] == "completed"


def test_run_sh_refuses_a_stream_without_a_token(relay: str, finished_job: FinishedJob) -> None:
    with httpx.Client(trust_env=False, timeout=30) as client:
        response = client.get(f"{relay}/transcribe/{finished_job.job_id}")
    assert response.status_code == 401, response.text


# --- the API and exporter handlers, as the managed runtime imports them ------------------------

INVOKE = r"""
import importlib, json, os, sys
from dataclasses import dataclass

@dataclass
class Context:
    function_name: str = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory_limit_in_mb: int = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:" + os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    aws_request_id: str = "req-lambda-start"

module_name, _, attribute = os.environ["_HANDLER"].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
result = handler(json.loads(sys.argv[1]), Context())
origins = {name: sys.modules[name].__file__ for name in (module_name, sys.argv[2])}
print("RESULT " + json.dumps({"result": result, "origins": origins}))
"""


def invoke_handler(
    function: Function,
    event: dict,
    dependency: str,
    *,
    lambda_env: Any,  # noqa: ANN401
    mount_namespace: list[str],
    layer: Path,
    task_root: Path,
    runtime_dir: Path,
    tmp_path: Path,
) -> dict:
    """Import `function.handler` by its module path and call it, in the Lambda-like environment."""
    # The managed runtime's bootstrap puts the task root and /opt/python ahead of the runtime dir.
    env = lambda_env(function, PYTHONPATH=f"{task_root}:/opt/python:{runtime_dir}")
    done = subprocess.run(
        in_lambda(mount_namespace, layer, tmp_path, "python", "-c", INVOKE, json.dumps(event), dependency),
        env=env,
        cwd=task_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"{function.handler} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    outcome = json.loads(lines[-1].removeprefix("RESULT "))
    module_name = function.handler.rpartition(".")[0]
    assert outcome["origins"][module_name].startswith(str(task_root)), outcome["origins"]
    assert outcome["origins"][dependency].startswith("/opt/python/"), outcome["origins"]
    return outcome["result"]


def api_gateway_event(path: str, method: str = "GET") -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "api.example.com"},
        "multiValueHeaders": {"Host": ["api.example.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {"requestId": "abc", "stage": "api", "resourcePath": "/{proxy+}", "httpMethod": method,
                           "identity": {"sourceIp": "203.0.113.1"}},
        "body": None,
        "isBase64Encoded": False,
    }  # fmt: skip


def test_api_handler_answers_from_the_layer_alone(
    functions: dict[str, Function],
    lambda_env: Any,  # noqa: ANN401
    mount_namespace: list[str],
    layer: Path,
    task_root: Path,
    runtime_dir: Path,
    tmp_path: Path,
) -> None:
    result = invoke_handler(
        functions[API_HANDLER], api_gateway_event("/healthz"), "fastapi",
        lambda_env=lambda_env, mount_namespace=mount_namespace, layer=layer, task_root=task_root,
        runtime_dir=runtime_dir, tmp_path=tmp_path,
    )  # fmt: skip
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"]) == {"status": "ok"}


def test_exporter_handler_answers_from_the_layer_alone(
    functions: dict[str, Function],
    lambda_env: Any,  # noqa: ANN401
    mount_namespace: list[str],
    layer: Path,
    task_root: Path,
    runtime_dir: Path,
    tmp_path: Path,
) -> None:
    # An unreadable message fails validation before any AWS call and is reported back to SQS.
    record = {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": "not an export message",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "x",
                       "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:grabadora-exports",
        "awsRegion": REGION,
    }  # fmt: skip
    result = invoke_handler(
        functions[EXPORTER_HANDLER], {"Records": [record]}, "aws_lambda_powertools",
        lambda_env=lambda_env, mount_namespace=mount_namespace, layer=layer, task_root=task_root,
        runtime_dir=runtime_dir, tmp_path=tmp_path,
    )  # fmt: skip
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
