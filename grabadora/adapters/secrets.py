"""Secrets Manager: the app's keys, read at run time through Powertools' parameters utility.

Used by `grabadora.settings` while the settings themselves are being built, so the client is
made here from the given endpoint and region (not through `grabadora.aws`, which reads the
settings).
"""

from __future__ import annotations

import json


def read_secret(secret_id: str, *, endpoint_url: str | None, region: str, max_age: int) -> str:
    """The secret's value (a JSON secret's "key" field, or the plain string), cached `max_age` s."""
    from aws_lambda_powertools.utilities import parameters

    if endpoint_url:  # the emulator or LocalStack
        import boto3

        client = boto3.client("secretsmanager", endpoint_url=endpoint_url, region_name=region)
        value = parameters.SecretsProvider(boto3_client=client).get(secret_id, max_age=max_age)
    else:
        value = parameters.get_secret(secret_id, max_age=max_age)
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("key"), str):
            return data["key"]
    return text
