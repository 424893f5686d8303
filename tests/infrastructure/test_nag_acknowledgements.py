"""Every cdk-nag acknowledgement answers a finding that exists: none for a rule that never fires
on its construct (a resource since removed, or one that satisfies the rule anyway).

The stack is synthesised once with every `suppress` recorded instead of applied, so cdk-nag
reports all its findings; each recorded acknowledgement must match one of them at or under
the construct it was made on.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.infrastructure.conftest import validation_report

pytestmark = pytest.mark.infrastructure


def test_no_acknowledgement_is_stale(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import infra_cdk.nag
    from infra_cdk.app import build_app

    declared: list[tuple[str, str]] = []

    def record(construct, reasons: dict[str, str]) -> None:  # noqa: ANN001
        declared.extend((construct.node.path, rule) for rule in reasons)

    original = infra_cdk.nag.suppress
    for name, module in list(sys.modules.items()):
        if name.startswith("infra_cdk") and getattr(module, "suppress", None) is original:
            monkeypatch.setattr(module, "suppress", record)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html>")
    (tmp_path / "layer" / "python").mkdir(parents=True)
    out = tmp_path / "cdk.out"
    app = build_app({"frontendDistDir": str(tmp_path / "dist"), "dependenciesLayerDir": str(tmp_path / "layer")}, outdir=str(out))
    try:
        app.synth()
    except Exception as e:  # noqa: BLE001 - nothing acknowledged: cdk-nag fails the synth
        assert "ValidationFailed" in str(e)
    findings = [
        (v["ruleName"], c["constructPath"])
        for plugin in validation_report(out)["pluginReports"]
        for v in plugin.get("violations", [])
        for c in v["violatingConstructs"]
    ]
    assert declared and findings

    def answers(path: str, rule: str) -> bool:
        return any((r == rule or r.startswith(rule + "[")) and (c == path or c.startswith(path + "/")) for r, c in findings)

    stale = [f"{path}: {rule}" for path, rule in declared if not answers(path, rule)]
    assert stale == [], json.dumps(stale, indent=1)
