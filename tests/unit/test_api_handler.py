"""The Lambda entry point answers an API Gateway REST event through Mangum, with Powertools on."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class _Context:
    function_name: str = "grabadora-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:grabadora-api"
    aws_request_id: str = "req-1"


def _event(path: str, method: str = "GET") -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "api.example.com"},
        "multiValueHeaders": {"Host": ["api.example.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {"requestId": "abc", "stage": "api", "resourcePath": "/{proxy+}", "httpMethod": method,
                           "identity": {"sourceIp": "203.0.113.1"}},
        "body": None,
        "isBase64Encoded": False,
    }


def test_healthz_through_the_lambda_handler(capsys) -> None:
    from functions.api.handler import handler

    response = handler(_event("/healthz"), _Context())
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"status": "ok"}


def test_a_protected_route_without_a_token_is_a_401_not_a_crash() -> None:
    from functions.api.handler import handler

    response = handler(_event("/transcripts"), _Context())
    assert response["statusCode"] == 401 and "not signed in" in json.loads(response["body"])["detail"]
