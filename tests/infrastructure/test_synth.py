"""cdk-nag passes with every acknowledgement reasoned; `cdk synth` works offline, without credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infrastructure.conftest import validation_report

pytestmark = pytest.mark.infrastructure
REPO = Path(__file__).resolve().parents[2]


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(synth) -> None:
    report = validation_report(synth.outdir)
    findings = [
        (v["ruleName"], c["constructPath"])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] in ("AwsSolutions", "CloudFormation Validate")
        for v in plugin.get("violations", [])
        for c in v["violatingConstructs"]
    ]
    assert findings == []


def test_the_nag_pack_ran(synth) -> None:
    import aws_cdk as cdk

    # Acknowledgements exist (so the pack was consulted), and each carries a reason.
    acknowledged = []

    def walk(node) -> None:  # noqa: ANN001
        for entry in node.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.append(entry.data)
        for child in node.node.children:
            walk(child)

    walk(synth.stack)
    text = json.dumps(acknowledged, default=str)
    assert "AwsSolutions-IAM5" in text and "AwsSolutions-APIG2" in text
    assert '"reason": ""' not in text


def test_cdk_synth_runs_offline_without_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update({"CDK_OUTDIR": str(tmp_path), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    app = json.loads((REPO / "cdk.json").read_text())["app"]
    assert app == "python -m infra_cdk"
    done = subprocess.run([sys.executable, "-m", "infra_cdk"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    template = json.loads((tmp_path / "Grabadora.template.json").read_text())
    assert "AWS::Lambda::Url" in {r["Type"] for r in template["Resources"].values()}
    # No context lookups were needed (they would be recorded as missing)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert not manifest.get("missing")
