"""cdk-nag acknowledgements (cdk-nag 3: CDK's `Validations.of().acknowledge()`), each with its reason."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def suppress(construct: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge rule id (or `Rule[finding]`) → reason on `construct` and what is under it."""
    cdk.Validations.of(construct).acknowledge(*[cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in reasons.items()])


def ref(construct: IConstruct, attribute: str = "Arn") -> str:
    """How cdk-nag spells a reference in a finding id, e.g. `<DataDataBucketA7E8509A.Arn>`."""
    cfn = construct.node.default_child  # type: ignore[union-attr]
    stack = cdk.Stack.of(construct)
    return f"<{stack.resolve(stack.get_logical_id(cfn))}.{attribute}>"


LAMBDA_BASIC = "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"
# The object-level actions CDK's bucket grants name with a trailing wildcard.
S3_READ_ACTIONS = ["s3:GetObject*", "s3:GetBucket*", "s3:List*"]


def s3_grant_findings(bucket: IConstruct, prefixes: list[str], actions: list[str], reason: str) -> dict[str, str]:
    """Acknowledgements for a `grant_*` on `bucket` limited to key `prefixes`."""
    findings = {f"AwsSolutions-IAM5[Action::{a}]": reason for a in actions}
    findings.update({f"AwsSolutions-IAM5[Resource::{ref(bucket)}/{p}]": reason for p in prefixes})
    return findings
