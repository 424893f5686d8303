"""Builds the App and the stack; the tests and `python -m infra_cdk` both call `build_app`."""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
import cdk_nag

from infra_cdk.stack import GrabadoraStack


def build_app(context: dict[str, Any] | None = None, *, nag: bool = True, outdir: str | None = None) -> cdk.App:
    """The CDK app with the Grabadora stack; `nag` adds cdk-nag's AwsSolutions checks."""
    app = cdk.App(context=context or {}, outdir=outdir)
    # Environment-agnostic unless the deployer's account/region are known: no lookups either way.
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if account and region else None
    GrabadoraStack(app, app.node.try_get_context("stackName") or "Grabadora", env=env)
    if nag:
        cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    return app
