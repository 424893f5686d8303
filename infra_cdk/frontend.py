"""Frontend: the SPA on S3 + CloudFront (OAC), with API and stream paths on the same origin."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra_cdk.api import Api
from infra_cdk.config import DeployConfig
from infra_cdk.data import Data
from infra_cdk.nag import ANY_RESOURCE, LAMBDA_BASIC, S3_READ_ACTIONS, s3_grant_findings, suppress
from infra_cdk.stream import Stream

# Paths the API Lambda answers. POST /transcribe is the exact path; GET /transcribe/{job_id}
# (the SSE stream, live sessions' too) is `/transcribe/*`, which goes to the relay's Function URL.
# `/live` and `/live/*` are the live-session routes (POST /live, /live/{id}/audio, /live/{id}/stop);
# the SPA's own screen is /grabar, so nothing of the app is shadowed. `/shared/*` is the public
# read of a share link (GET /shared/{token}); the app's page for it is /compartido/<token>.
API_PATHS = ["/auth/*", "/uploads*", "/transcribe", "/transcripts*", "/me*", "/live", "/live/*", "/healthz", "/docs", "/openapi.json", "/v1/*", "/shared/*"]
STREAM_PATHS = ["/transcribe/*"]

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
        stream_behaviour = cloudfront.BehaviorOptions(
            origin=origins.FunctionUrlOrigin(stream.url, read_timeout=cdk.Duration.seconds(60), keepalive_timeout=cdk.Duration.seconds(60)),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # ?token=, Last-Event-ID and Authorization reach the relay; Host is the Function URL's.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers_policy,
        )
        behaviours = {path: api_behaviour for path in API_PATHS}
        behaviours.update({path: stream_behaviour for path in STREAM_PATHS})

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
        )
        suppress(
            self.distribution,
            {
                "AwsSolutions-CFR1": "No geo restriction: the service is for any country.",
                "AwsSolutions-CFR2": "WAF is optional (cost); docs/deploy.md shows how to attach a web ACL.",
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
