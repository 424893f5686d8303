"""Synthesises the stack once per session (with cdk-nag) for every infrastructure test."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

aws_cdk = pytest.importorskip("aws_cdk", reason="the infra extra is not installed (pip install -e '.[infra]')")
from aws_cdk.assertions import Template  # noqa: E402


@dataclass
class Synth:
    stack: Any
    template: Template
    json: dict
    outdir: Path

    def resources(self, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_}

    def logical_id(self, construct) -> str:  # noqa: ANN001
        return self.stack.resolve(self.stack.get_logical_id(construct.node.default_child))

    def role_actions(self, role) -> set[str]:  # noqa: ANN001
        """Every action granted to `role` by the policies attached to it (inline policies)."""
        role_id = self.logical_id(role)
        actions: set[str] = set()
        for policy in self.resources("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    acts = statement["Action"]
                    actions.update([acts] if isinstance(acts, str) else acts)
        return actions


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from infra_cdk.app import build_app

    # A stand-in SPA build and dependency layer, so both optional parts are synthesised.
    root = tmp_path_factory.mktemp("infra")
    (root / "dist").mkdir()
    (root / "dist" / "index.html").write_text("<!doctype html><title>Grabadora</title>")
    (root / "layer" / "python").mkdir(parents=True)
    (root / "layer" / "python" / "README").write_text("stand-in dependency layer")
    outdir = root / "cdk.out"
    app = build_app({"frontendDistDir": str(root / "dist"), "dependenciesLayerDir": str(root / "layer")}, outdir=str(outdir))
    stack = app.node.find_child("Grabadora")
    app.synth()
    template = Template.from_stack(stack)
    return Synth(stack, template, template.to_json(), outdir)


@pytest.fixture(scope="session")
def template(synth: Synth) -> Template:
    return synth.template


@pytest.fixture(scope="session")
def resources(synth: Synth):
    """The resource definitions the stack was built from (stage-qualified: grabadora-prod-…)."""
    return synth.stack.resources


def validation_report(outdir: Path) -> dict:
    path = outdir / "validation-report.json"
    return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}
