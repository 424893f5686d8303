"""Keys read from Secrets Manager at run time (Powertools, cached), never from the environment on AWS.

moto's in-process mock stands in for Secrets Manager; without a secret ARN the settings' own
values (grabadora dev's keys) are used as before.
"""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

pytest.importorskip("moto")
from moto import mock_aws  # noqa: E402

from grabadora.settings import Settings  # noqa: E402

JWT = "k" * 64
FERNET_43 = Fernet.generate_key().decode().rstrip("=")  # what CDK generates: 43 characters, no '='


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ENDPOINT_URL", "GRABADORA_AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        import boto3
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        client = boto3.client("secretsmanager", region_name="us-east-1")
        jwt_arn = client.create_secret(Name="grabadora-jwt", SecretString=json.dumps({"key": JWT}))["ARN"]
        fernet_arn = client.create_secret(Name="grabadora-fernet", SecretString=json.dumps({"key": FERNET_43}))["ARN"]
        yield client, jwt_arn, fernet_arn
        parameters.clear_caches()


def test_keys_come_from_secrets_manager_when_their_arns_are_set(secrets) -> None:
    _, jwt_arn, fernet_arn = secrets
    settings = Settings(_env_file=None, stage="prod", jwt_secret_arn=jwt_arn, secrets_key_arn=fernet_arn)
    assert settings.jwt_secret_key.get_secret_value() == JWT
    key = settings.secrets_key.get_secret_value()
    assert key == FERNET_43 + "="
    Fernet(key.encode())  # a valid Fernet key once padded


def test_secrets_are_cached_for_max_age(secrets) -> None:
    client, jwt_arn, _ = secrets
    first = Settings(_env_file=None, stage="prod", jwt_secret_arn=jwt_arn, required_keys="jwt_secret_key")
    client.put_secret_value(SecretId=jwt_arn, SecretString=json.dumps({"key": "rotated" * 8}))
    again = Settings(_env_file=None, stage="prod", jwt_secret_arn=jwt_arn, required_keys="jwt_secret_key")
    assert again.jwt_secret_key.get_secret_value() == first.jwt_secret_key.get_secret_value() == JWT


def test_each_process_needs_only_its_own_keys() -> None:
    # The worker needs neither key, the relay only the JWT key: the dev defaults are not refused
    # for the keys a process does not use, and still refused for the ones it does.
    Settings(_env_file=None, stage="prod", required_keys="")
    with pytest.raises(ValueError, match="GRABADORA_JWT_SECRET_KEY"):
        Settings(_env_file=None, stage="prod", required_keys="jwt_secret_key")
    with pytest.raises(ValueError, match="GRABADORA_SECRETS_KEY"):
        Settings(_env_file=None, stage="prod", jwt_secret_key="x" * 40)


def test_without_arns_the_dev_keys_are_used() -> None:
    settings = Settings(_env_file=None)
    assert settings.jwt_secret_arn is None and settings.secrets_key_arn is None
    assert settings.jwt_secret_key.get_secret_value() == Settings.model_fields["jwt_secret_key"].default.get_secret_value()
