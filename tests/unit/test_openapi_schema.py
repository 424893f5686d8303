"""The web app's API client is generated from frontend/openapi.json: it must match the API."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
GENERATED = FRONTEND / "src" / "api" / "schema.d.ts"


def _exporter():
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "frontend" / "scripts" / "export_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schema_matches_the_api() -> None:
    committed = (ROOT / "frontend" / "openapi.json").read_text(encoding="utf-8")
    assert committed == _exporter().schema_text(), (
        "frontend/openapi.json is stale: run `cd frontend && npm run gen:api` and commit "
        "openapi.json and src/api/schema.d.ts"
    )


def _declared_keys(block: str) -> set[str]:
    """The keys a block of schema.d.ts declares at its first level (4-space indent)."""
    return set(re.findall(r'^ {4}"?([^"\s:?]+)"?\??: ', block, flags=re.MULTILINE))


def test_generated_client_declares_every_path_and_schema_of_the_api() -> None:
    schema = json.loads((FRONTEND / "openapi.json").read_text(encoding="utf-8"))
    generated = GENERATED.read_text(encoding="utf-8")
    paths = generated.split("export interface paths {", 1)[1].split("\n}\n", 1)[0]
    schemas = generated.split("export interface components {", 1)[1].split("\n    schemas: {", 1)[1].split("\n    };\n", 1)[0]
    stale = "frontend/src/api/schema.d.ts is stale: run `cd frontend && npm run gen:api`"
    assert _declared_keys(paths) == set(schema["paths"]), stale
    assert {k for k in _declared_keys("\n" + schemas.replace("\n        ", "\n    "))} == set(schema["components"]["schemas"]), stale


def test_generated_client_is_what_the_generator_writes_today(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: the web app's generated client needs Node 20+ and npm")
    if not (FRONTEND / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True, timeout=600)
    fresh = tmp_path / "schema.d.ts"
    # The generation step of `npm run gen:api`, from the committed (and checked above) openapi.json.
    subprocess.run(
        [str(FRONTEND / "node_modules" / ".bin" / "openapi-typescript"), "openapi.json",
         "--default-non-nullable", "false", "-o", str(fresh)],
        cwd=FRONTEND, check=True, capture_output=True, timeout=120,
    )
    assert fresh.read_text(encoding="utf-8") == GENERATED.read_text(encoding="utf-8"), (
        "frontend/src/api/schema.d.ts is not what openapi-typescript writes from openapi.json: "
        "run `cd frontend && npm run gen:api` and commit it"
    )


def test_spa_serves_the_app_and_keeps_api_paths(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from functions.api.app import create_app
    from grabadora.local.spa import mount_spa

    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<div id=root></div>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    app = create_app()
    mount_spa(app, tmp_path)
    client = TestClient(app)
    assert client.get("/").text == "<div id=root></div>"
    assert client.get("/biblioteca/01ABC").text == "<div id=root></div>"
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/openapi.json").json()["openapi"]
    assert client.get("/transcripts/nothing/here").status_code in (401, 404)
    assert client.get("/transcripts").status_code == 401
    assert client.get("/v1/anything").status_code == 404


@pytest.mark.parametrize(
    "probe",
    ["/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/a/%2e%2e/%2e%2e/secret.txt"],
)
def test_a_path_out_of_the_build_answers_the_app_not_the_file(tmp_path: Path, probe: str) -> None:
    from fastapi.testclient import TestClient

    from functions.api.app import create_app
    from grabadora.local.spa import mount_spa

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=root></div>")
    (tmp_path / "secret.txt").write_text("not for the web")  # beside the build, one `..` away
    app = create_app()
    mount_spa(app, dist)
    client = TestClient(app)
    answer = client.get(probe)
    assert (answer.status_code, answer.text) == (200, "<div id=root></div>")
    # Under /assets/ the fallback is a 404, never the file either
    escaped = client.get("/assets/%2e%2e/%2e%2e/secret.txt")
    assert (escaped.status_code, escaped.json()) == (404, {"detail": "Not Found"})


def test_spa_without_a_build_says_how_to_build(tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from grabadora.local.spa import mount_spa

    app = FastAPI()
    mount_spa(app, tmp_path / "missing")
    answer = TestClient(app).get("/")
    assert "npm run build" in answer.text and "make dev" in answer.text
