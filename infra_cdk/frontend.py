"""Frontend: the SPA on S3 + CloudFront (OAC), with API and stream paths on the same origin."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra_cdk.api import Api
from infra_cdk.common import rate_limit_web_acl
from infra_cdk.config import DeployConfig
from infra_cdk.data import Data
from infra_cdk.nag import ANY_RESOURCE, LAMBDA_BASIC, S3_READ_ACTIONS, s3_grant_findings, suppress
from infra_cdk.stream import OPENAI_MAX_FILE_MB, OPENAI_READ_TIMEOUT_SECONDS, Stream

# Paths the API Lambda answers. POST /transcribe is the exact path; GET /transcribe/{job_id}
# (the SSE stream, live sessions' too) is `/transcribe/*`, which goes to the relay's Function URL.
# `/live` and `/live/*` are the live-session routes (POST /live, /live/{id}/audio, /live/{id}/stop);
# the SPA's own screen is /grabar, so nothing of the app is shadowed. `/shared/*` is the public
# read of a share link (GET /shared/{token}); the app's page for it is /compartido/<token>.
API_PATHS = ["/auth/*", "/uploads*", "/transcribe", "/transcripts*", "/me*", "/live", "/live/*", "/healthz", "/docs", "/openapi.json", "/shared/*"]
STREAM_PATHS = ["/transcribe/*"]
# OpenAI-compatible routes: API Gateway too (its `/v1` resource streams from the stream function),
# with a longer origin read timeout and a size check at the edge.
OPENAI_PATHS = ["/v1/*"]

# A body over what a Lambda invocation can carry would fail between API Gateway and the function,
# not in the app: refuse it here in OpenAI's error shape. 64 KiB of slack for the form's other
# fields, as the app's own check (functions/common/openai_routes.py) allows.
OPENAI_MAX_BODY_BYTES = OPENAI_MAX_FILE_MB * 1024 * 1024 + 64 * 1024
OPENAI_SIZE_CHECK = """function handler(event) {
  var request = event.request;
  var length = request.headers['content-length'];
  if (length && parseInt(length.value, 10) > %(limit)d) {
    return {
      statusCode: 413,
      statusDescription: 'Payload Too Large',
      headers: { 'content-type': { value: 'application/json' } },
      body: { encoding: 'text', data: JSON.stringify({ error: {
        message: 'file: over the %(mb)d MB limit of /v1 on this deployment; larger files go through POST /uploads and POST /transcribe',
        type: 'invalid_request_error', param: 'file', code: null } }) }
    };
  }
  return request;
}""" % {"limit": OPENAI_MAX_BODY_BYTES, "mb": OPENAI_MAX_FILE_MB}

# SPA fallback on the S3 behaviour only: a path without a file extension is an app route, so it
# gets index.html. (Error-page rewriting would also turn the API's own 404s into index.html.)
SPA_REWRITE = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) { request.uri = '/index.html'; }
  return request;
}"""


def content_security_policy(storage: str) -> str:
    """The web app's CSP (the same as `grabadora.local.server.content_security_policy`, with the
    audio bucket as the storage origin). /docs on AWS loads Swagger UI from jsDelivr and is
    blocked by it; the schema is at /openapi.json."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"media-src 'self' blob: {storage}; connect-src 'self' {storage}; worker-src 'self' blob:; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


class Frontend(Construct):
    def __init__(self, scope: Construct, id: str, *, data: Data, api: Api, stream: Stream, config: DeployConfig) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "SiteBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=data.logs_bucket,
            server_access_logs_prefix="site/",
            removal_policy=cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        spa_rewrite = cloudfront.Function(
            self,
            "SpaRewrite",
            code=cloudfront.FunctionCode.from_inline(SPA_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="SPA fallback: extensionless paths serve /index.html",
        )

        # Security headers on everything CloudFront answers (app, API, streams): the web app's
        # strict CSP (its own scripts and styles; uploads and playback go to the audio bucket's
        # presigned URLs), no framing, nosniff, no referrer, and HSTS for two years.
        audio = data.bucket
        storage = f"https://{audio.bucket_name}.s3.amazonaws.com https://{audio.bucket_regional_domain_name}"
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Grabadora: CSP, HSTS, nosniff, frame-ancestors none, no referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(storage), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730), include_subdomains=True, preload=False, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )

        api_behaviour = cloudfront.BehaviorOptions(
            origin=origins.RestApiOrigin(api.rest_api),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Every header (Authorization included), cookie and query string, except Host:
            # API Gateway routes on its own host name.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
        )
        # The relay's Function URL takes only requests CloudFront signs (origin access control,
        # SigV4; the URL's auth type is AWS_IAM), so nobody reaches it around the distribution.
        # Lambda takes no unsigned payload: a POST or PUT through this origin would need the
        # viewer to send its body's SHA-256 as x-amz-content-sha256, which browsers and OpenAI's
        # SDKs do not. So this origin serves GETs only (the event streams); /v1's POSTs go
        # through API Gateway. The signature takes the Authorization header: streams authenticate
        # with their stream_url token (?token=), as the web app's EventSource does anyway.
        stream_behaviour = cloudfront.BehaviorOptions(
            origin=origins.FunctionUrlOrigin.with_origin_access_control(
                stream.url, read_timeout=cdk.Duration.seconds(60), keepalive_timeout=cdk.Duration.seconds(60)),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # ?token= and Last-Event-ID reach the relay; Host is the Function URL's.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
        )
        openai_size_check = cloudfront.Function(
            self,
            "OpenAiSizeCheck",
            code=cloudfront.FunctionCode.from_inline(OPENAI_SIZE_CHECK),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment=f"/v1: refuse bodies over {OPENAI_MAX_FILE_MB} MB of audio with 413 in OpenAI's error shape",
        )
        openai_behaviour = cloudfront.BehaviorOptions(
            # The app answers its own timeout (with the job id) before this one, and a streamed
            # answer sends a comment line every few seconds, so CloudFront never cuts it short.
            origin=origins.RestApiOrigin(
                api.rest_api, read_timeout=cdk.Duration.seconds(OPENAI_READ_TIMEOUT_SECONDS), keepalive_timeout=cdk.Duration.seconds(60)),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
            function_associations=[
                cloudfront.FunctionAssociation(function=openai_size_check, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)
            ],
        )
        behaviours = {path: api_behaviour for path in API_PATHS}
        behaviours.update({path: stream_behaviour for path in STREAM_PATHS})
        behaviours.update({path: openai_behaviour for path in OPENAI_PATHS})
        self.web_acl_id = self._edge_web_acl(config)

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Grabadora: SPA, API and live stream on one origin",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                function_associations=[
                    cloudfront.FunctionAssociation(function=spa_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)
                ],
            ),
            additional_behaviors=behaviours,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=data.logs_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=self.web_acl_id,
        )
        suppress(
            self.distribution,
            {
                "AwsSolutions-CFR1": "No geo restriction: the service is for any country.",
                **({} if self.web_acl_id else {
                    "AwsSolutions-CFR2": "Edge WAF turned off (-c edgeWafRateLimit=0): the API stage keeps its regional web ACL."}),
                "AwsSolutions-CFR4": "The default *.cloudfront.net certificate; with a custom domain set a TLSv1.2_2021 minimum.",
            },
        )

        self.deployed = False
        if (config.frontend_dist_dir / "index.html").is_file():
            deployment = s3deploy.BucketDeployment(
                self,
                "Deploy",
                sources=[s3deploy.Source.asset(str(config.frontend_dist_dir))],
                destination_bucket=self.bucket,
                distribution=self.distribution,
                distribution_paths=["/*"],
            )
            self.deployed = True
            # CDK's singleton handler sits at the stack root; suppress on it, by its id.
            stack = cdk.Stack.of(self)
            for child in stack.node.children:
                if child.node.id.startswith("Custom::CDKBucketDeployment"):
                    suppress(
                        child,
                        {
                            LAMBDA_BASIC: "CDK's BucketDeployment handler uses AWSLambdaBasicExecutionRole.",
                            ANY_RESOURCE: "CDK's BucketDeployment handler policy (CloudFront invalidation has no resource scoping here).",
                            **s3_grant_findings(self.bucket, ["*"], [*S3_READ_ACTIONS, "s3:DeleteObject*", "s3:Abort*"],
                                                "CDK's BucketDeployment handler syncs the whole site bucket."),
                            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]":
                            "CDK's BucketDeployment handler reads the asset from the bootstrap bucket.",
                            "AwsSolutions-L1": "CDK's BucketDeployment handler runtime is chosen by CDK.",
                        },
                    )
            self._deployment = deployment
        else:
            cdk.Annotations.of(self).add_info(
                f"{config.frontend_dist_dir} not built: the SPA is not deployed (npm run build in frontend/, then cdk deploy)."
            )

    def _edge_web_acl(self, config: DeployConfig) -> str | None:
        """The distribution's web ACL: `edgeWebAclArn` when given, else one made here.

        A CloudFront web ACL must live in us-east-1. Made here it exists only when the stack is
        deployed there (a CloudFormation condition, so the template stays region-agnostic);
        elsewhere create one in us-east-1 and pass its ARN (docs/deploy.md, "WAF at the edge").
        """
        if config.edge_web_acl_arn:
            return config.edge_web_acl_arn
        if not config.edge_waf_rate_limit:
            return None
        in_us_east_1 = cdk.CfnCondition(self, "InUsEast1", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, "us-east-1"))
        # At the edge the source address is the viewer's own.
        self.edge_web_acl = rate_limit_web_acl(self, "EdgeWebAcl", waf_scope="CLOUDFRONT", name="grabadora-edge",
                                               limit=config.edge_waf_rate_limit)
        self.edge_web_acl.cfn_options.condition = in_us_east_1
        return cdk.Fn.condition_if(in_us_east_1.logical_id, self.edge_web_acl.attr_arn, cdk.Aws.NO_VALUE).to_string()
