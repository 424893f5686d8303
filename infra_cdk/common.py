"""What every Python Lambda shares: the code asset, the dependency layer, the app secrets."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra_cdk.config import ASSET_EXCLUDE, REPO_ROOT, DeployConfig
from infra_cdk.nag import ANY_RESOURCE, LAMBDA_BASIC, suppress

RUNTIME = lambda_.Runtime.PYTHON_3_11  # the project's Python (pyproject: requires-python >= 3.11)


class Shared(Construct):
    """One code asset (the repository, minus what no function needs), one dependency layer, secrets."""

    def __init__(self, scope: Construct, id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, id)
        self.code = lambda_.Code.from_asset(str(REPO_ROOT), exclude=ASSET_EXCLUDE)
        self.dependencies: lambda_.ILayerVersion | None = None
        if config.dependencies_layer_dir.is_dir():
            self.dependencies = lambda_.LayerVersion(
                self,
                "Dependencies",
                code=lambda_.Code.from_asset(str(config.dependencies_layer_dir)),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description="grabadora's runtime dependencies (pip install --target, manylinux2014_x86_64)",
            )
        else:
            cdk.Annotations.of(self).add_warning_v2(
                "grabadora:no-dependency-layer",
                f"{config.dependencies_layer_dir} not found: the Lambdas are synthesised without their "
                "dependency layer and will not import. Build it first (docs/deploy.md).",
            )

        # Generated at deploy time, never in the template. The JWT key as is; the Fernet key is
        # 43 random URL-safe characters + "=" (a valid 32-byte urlsafe-base64 key).
        self.jwt_secret = secretsmanager.Secret(
            self,
            "JwtSecret",
            description="GRABADORA_JWT_SECRET_KEY",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}", generate_string_key="key", password_length=64, exclude_punctuation=True
            ),
        )
        self.secrets_key = secretsmanager.Secret(
            self,
            "SecretsKey",
            description="GRABADORA_SECRETS_KEY (Fernet key, without its final '=')",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",
                generate_string_key="key",
                password_length=43,
                exclude_punctuation=True,
                include_space=False,
            ),
        )
        for secret in (self.jwt_secret, self.secrets_key):
            suppress(
                secret,
                {
                    "AwsSolutions-SMG4": "Rotating the JWT key signs every user out and rotating the Fernet key "
                    "needs a re-encryption of stored integration secrets; both are manual, documented in docs/deploy.md."
                },
            )

    def read_secrets(self, fn: lambda_.Function, *, jwt: bool = False, fernet: bool = False) -> None:
        """Tell `fn` which secrets it reads at run time, by ARN in its environment (never their
        values), and grant it exactly those: `secretsmanager:GetSecretValue` on each, nothing
        else. The app reads them once per container through Powertools' parameters utility
        (grabadora/settings.py), whose class for the function says which keys it needs."""
        chosen = [s for s, wanted in ((self.jwt_secret, jwt), (self.secrets_key, fernet)) if wanted]
        if chosen:
            fn.add_to_role_policy(iam.PolicyStatement(
                sid="ReadAppSecrets", actions=["secretsmanager:GetSecretValue"], resources=[s.secret_arn for s in chosen],
            ))
        environment = {
            **({"GRABADORA_JWT_SECRET_ARN": self.jwt_secret.secret_arn} if jwt else {}),
            **({"GRABADORA_SECRETS_KEY_ARN": self.secrets_key.secret_arn} if fernet else {}),
        }
        for key, value in environment.items():
            fn.add_environment(key, value)

    def function(
        self,
        scope: Construct,
        id: str,
        *,
        handler: str,
        environment: dict[str, str],
        timeout: cdk.Duration,
        memory_size: int = 1024,
        layers: list[lambda_.ILayerVersion] | None = None,
        description: str,
        reserved_concurrent_executions: int | None = None,
    ) -> lambda_.Function:
        """A Python function on the shared code asset, with its own role, log group and X-Ray."""
        log_group = logs.LogGroup(scope, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY)
        fn = lambda_.Function(
            scope,
            id,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            code=self.code,
            handler=handler,
            layers=[*(layers or []), *([self.dependencies] if self.dependencies else [])],
            environment=environment,
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            description=description,
            reserved_concurrent_executions=reserved_concurrent_executions,
        )
        suppress(
            fn,
            {
                LAMBDA_BASIC: "AWSLambdaBasicExecutionRole only (CloudWatch Logs writes); every data permission is a grant_* on this function's own role.",
                ANY_RESOURCE: "X-Ray's PutTraceSegments/PutTelemetryRecords have no resource type (tracing=ACTIVE).",
                "AwsSolutions-L1": "Pinned to Python 3.11, the version the project is built and tested on (pyproject requires-python).",
            },
        )
        return fn


def rate_limit_web_acl(
    scope: Construct,
    construct_id: str,
    *,
    waf_scope: str,
    name: str,
    limit: int,
    forwarded_for: bool = False,
) -> wafv2.CfnWebACL:
    """A web ACL that allows everything but blocks an address past `limit` requests in 5 minutes.

    `waf_scope` is CLOUDFRONT (the distribution, where the source address is the viewer's) or
    REGIONAL (the API stage; behind CloudFront the viewer is in X-Forwarded-For, `forwarded_for`).
    """
    rate = wafv2.CfnWebACL.RateBasedStatementProperty(
        limit=limit,
        aggregate_key_type="FORWARDED_IP" if forwarded_for else "IP",
        forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(header_name="X-Forwarded-For", fallback_behavior="MATCH")
        if forwarded_for else None,
    )
    return wafv2.CfnWebACL(
        scope,
        construct_id,
        scope=waf_scope,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True),
        rules=[wafv2.CfnWebACL.RuleProperty(
            name="RatePerIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=rate),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=f"{name}-rate", sampled_requests_enabled=True),
        )],
    )
