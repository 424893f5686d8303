"""The tree's seams, checked: deployables meet only through the core and functions/common."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(folder: str) -> dict[str, set[str]]:
    """Module names each file under `folder` imports."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [("functions/api", "functions.stream"), ("functions/stream", "functions.api")])
def test_the_api_and_the_relay_do_not_import_each_other(folder: str, forbidden: str) -> None:
    crossing = {f: sorted(n for n in names if n.startswith(forbidden)) for f, names in _imports(folder).items()}
    assert not {f: n for f, n in crossing.items() if n}


def test_the_core_imports_no_deployable() -> None:
    crossing = {
        f: sorted(n for n in names if n.startswith(("functions", "gpu_container", "infra_cdk")))
        for f, names in _imports("grabadora").items()
        # The local stack and the `grabadora` command start the deployables, by design.
        if not f.startswith(("grabadora/local/", "grabadora/cli.py"))
    }
    assert not {f: n for f, n in crossing.items() if n}


def test_only_adapters_and_the_client_factory_talk_to_boto3() -> None:
    allowed = ("grabadora/adapters/", "grabadora/aws.py", "grabadora/local/", "gpu_container/ecs_runtime.py")
    users = {
        f for folder in ("grabadora", "functions", "gpu_container")
        for f, names in _imports(folder).items()
        if any(n == "boto3" or n.startswith(("boto3.", "botocore")) for n in names)
    }
    assert {f for f in users if not f.startswith(allowed)} == set()


def test_a_transcripts_fields_are_listed_once() -> None:
    from grabadora.models import TranscriptDetail, TranscriptItem, TranscriptSummary

    # The listing reads exactly the summary's fields, and every one is a stored field.
    stored = set(TranscriptItem.model_fields)
    assert set(TranscriptSummary.stored_fields()) <= stored
    # The detail view adds only what is not stored on the item (the audio URL, the document's parts, exports' ids).
    computed = {"id", "audio_url", "text", "segments", "exports", "language_probability", "model"}
    assert set(TranscriptDetail.model_fields) - stored <= computed
