"""Api: API Gateway REST API → the API Lambda (Mangum), and `/v1` → the stream function with response
streaming; throttling and a WAF rate rule on the stage."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra_cdk.common import Shared, rate_limit_web_acl
from infra_cdk.config import DeployConfig
from infra_cdk.data import Data
from infra_cdk.nag import S3_READ_ACTIONS, s3_grant_findings, suppress

STAGE = "api"
# API Gateway proxies bodies of these types base64-encoded; Mangum decodes them (multipart uploads).
BINARY_MEDIA_TYPES = ["multipart/form-data", "application/octet-stream", "audio/*", "video/*"]


class Api(Construct):
    def __init__(
        self, scope: Construct, id: str, *, data: Data, shared: Shared, config: DeployConfig, environment: dict[str, str],
        openai_function: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, id)
        self.function = shared.function(
            self,
            "Function",
            handler="functions.api.handler.handler",
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": "grabadora-api",
                "POWERTOOLS_METRICS_NAMESPACE": "Grabadora",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            },
            timeout=cdk.Duration.seconds(29),  # API Gateway's integration limit
            memory_size=1024,
            description="Grabadora API (FastAPI under Mangum)",
        )
        fn = self.function
        # Least privilege, each grant what the routes do:
        data.users.grant_read_write_data(fn)  # sign-up, sign-in
        data.transcripts.grant_read_write_data(fn)  # jobs, library, corrections, delete
        data.user_state.grant_read_write_data(fn)  # integrations, usage/quota
        data.events.grant_read_write_data(fn)  # DELETE /transcripts/{id} removes the events
        data.bucket.grant_read_write(fn)  # presigned PUT/GET are signed with this role; delete
        data.jobs.grant_send_messages(fn)
        # Live sessions: POST /live enqueues the session; POST /live/{id}/audio stores one frame
        # with a conditional PutItem (a repeated seq is a no-op). Nothing else on the frames.
        data.live.grant_send_messages(fn)
        data.live_frames.grant(fn, "dynamodb:PutItem")
        suppress(fn, s3_grant_findings(data.bucket, ["*"], [*S3_READ_ACTIONS, "s3:DeleteObject*", "s3:Abort*"],
                                       "Users' objects live under audio/{user}/ and transcripts/{user}/ for any user; the app scopes keys per user."))
        data.exports.grant_send_messages(fn)

        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name="grabadora",
            description="Grabadora API",
            binary_media_types=BINARY_MEDIA_TYPES,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False,
                ),
            ),
        )
        integration = apigw.LambdaIntegration(fn, proxy=True)
        api = self.rest_api
        # Everything the SPA calls: the app checks the bearer token itself.
        api.root.add_method("ANY", integration)
        api.root.add_resource("{proxy+}").add_method("ANY", integration)
        # /v1 (OpenAI-compatible) holds its response open while the worker transcribes, longer than
        # API Gateway's 29 s and than a Mangum (buffered) Lambda can: it goes to the stream
        # function (uvicorn under the Lambda Web Adapter) with response streaming, whose
        # integration may last 15 minutes. No API Gateway key: OpenAI's SDKs send only
        # `Authorization: Bearer <key>`, which the app checks itself (a Grabadora API key).
        openai = apigw.LambdaIntegration(
            openai_function, proxy=True, response_transfer_mode=apigw.ResponseTransferMode.STREAM,
            timeout=cdk.Duration.minutes(15), scope_permission_to_method=False,
        )
        v1 = api.root.add_resource("v1")
        v1.add_method("ANY", openai)
        v1.add_resource("{proxy+}").add_method("ANY", openai)

        # A rate rule per client IP on the stage (the raw execute-api URL is public too, beside
        # CloudFront): a flood from one address is blocked before it reaches the Lambda.
        self.web_acl = None
        if config.api_waf_rate_limit:
            self.web_acl = rate_limit_web_acl(self, "WebAcl", waf_scope="REGIONAL", name="grabadora-api",
                                              limit=config.api_waf_rate_limit, forwarded_for=True)
            wafv2.CfnWebACLAssociation(self, "WebAclAssociation", resource_arn=api.deployment_stage.stage_arn,
                                       web_acl_arn=self.web_acl.attr_arn)
        suppress(
            api,
            {
                "AwsSolutions-APIG2": "Requests are validated by the app (FastAPI/pydantic), which answers 422 with the field at fault.",
                **({} if config.api_waf_rate_limit else {
                    "AwsSolutions-APIG3": "WAF turned off (-c apiWafRateLimit=0); the stage is throttled and CloudFront fronts it."}),
                "AwsSolutions-APIG4": "Authorization is the app's: a bearer JWT (ARCHITECTURE 3), or on /v1/* a Grabadora API key as the bearer.",
                "AwsSolutions-COG4": "Users are the app's own accounts (JWT), not a Cognito user pool.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]":
                "The account-level API Gateway CloudWatch role uses AWS's managed push-to-logs policy.",
            },
        )

    @property
    def function_ref(self) -> lambda_.IFunction:
        return self.function
