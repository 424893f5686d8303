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

from grabadora.settings import (  # noqa: E402
    ApiSettings, CommonSettings, DevSettings, ExporterSettings, RelaySettings, WorkerSettings, forget_settings, settings_as, use_settings,
)

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
    settings = DevSettings(_env_file=None, stage="prod", jwt_secret_arn=jwt_arn, secrets_key_arn=fernet_arn)
    assert settings.jwt_secret_key.get_secret_value() == JWT
    key = settings.secrets_key.get_secret_value()
    assert key == FERNET_43 + "="
    Fernet(key.encode())  # a valid Fernet key once padded


def test_secrets_are_cached_for_max_age(secrets) -> None:
    client, jwt_arn, _ = secrets
    first = RelaySettings(_env_file=None, stage="prod", jwt_secret_arn=jwt_arn)
    client.put_secret_value(SecretId=jwt_arn, SecretString=json.dumps({"key": "rotated" * 8}))
    again = RelaySettings(_env_file=None, stage="prod", jwt_secret_arn=jwt_arn)
    assert again.jwt_secret_key.get_secret_value() == first.jwt_secret_key.get_secret_value() == JWT


def test_each_process_needs_only_its_own_keys() -> None:
    # Each deployable's class has the keys it uses, and refuses the built-in development value
    # of each of them outside the dev stage; a key it does not have cannot be asked of it.
    worker = WorkerSettings(_env_file=None, stage="prod")
    assert not hasattr(worker, "jwt_secret_key") and not hasattr(worker, "secrets_key")
    with pytest.raises(ValueError, match="GRABADORA_JWT_SECRET_KEY"):
        RelaySettings(_env_file=None, stage="prod")
    assert not hasattr(RelaySettings(_env_file=None, stage="prod", jwt_secret_key="x" * 40), "secrets_key")
    with pytest.raises(ValueError, match="GRABADORA_SECRETS_KEY"):
        ExporterSettings(_env_file=None, stage="prod")
    assert not hasattr(ExporterSettings(_env_file=None, stage="prod", secrets_key="y" * 44), "jwt_secret_key")
    for both in (ApiSettings, DevSettings):
        with pytest.raises(ValueError, match="GRABADORA_SECRETS_KEY"):
            both(_env_file=None, stage="prod", jwt_secret_key="x" * 40)
        with pytest.raises(ValueError, match="GRABADORA_JWT_SECRET_KEY"):
            both(_env_file=None, stage="prod", secrets_key="y" * 44)


def test_each_deployable_reads_only_its_own_fields() -> None:
    # The worker has no HTTP limits, the relay no model, the exporter no sign-in throttle; the
    # dev stack, which runs all four in one process, has every field of each.
    fields = {kind: set(kind.model_fields) for kind in (ApiSettings, RelaySettings, WorkerSettings, ExporterSettings)}
    assert "whisper_model" in fields[WorkerSettings] and "whisper_model" not in fields[RelaySettings] | fields[ApiSettings]
    assert "max_upload_mb" not in fields[WorkerSettings] | fields[ExporterSettings]
    assert "stream_max_seconds" in fields[RelaySettings] and "stream_max_seconds" not in fields[ApiSettings]
    assert "export_max_attempts" in fields[ExporterSettings] and "export_max_attempts" not in fields[ApiSettings]
    assert set().union(*fields.values()) <= set(DevSettings.model_fields)
    assert all(issubclass(DevSettings, kind) for kind in fields)


def test_code_asking_for_another_deployables_settings_is_told_which_it_has() -> None:
    use_settings(WorkerSettings(_env_file=None))
    try:
        assert isinstance(settings_as(CommonSettings), WorkerSettings)
        with pytest.raises(TypeError, match="RelaySettings needed, but this process runs with WorkerSettings"):
            settings_as(RelaySettings)
    finally:
        forget_settings()


def test_without_arns_the_dev_keys_are_used() -> None:
    settings = DevSettings(_env_file=None)
    assert settings.jwt_secret_arn is None and settings.secrets_key_arn is None
    assert settings.jwt_secret_key.get_secret_value() == DevSettings.model_fields["jwt_secret_key"].default.get_secret_value()


def test_the_example_environment_lists_every_setting_under_the_class_that_reads_it() -> None:
    import re
    from pathlib import Path

    import grabadora.settings as settings_module

    text = (Path(__file__).parents[2] / ".env.example").read_text()
    listed = {name.lower() for name in re.findall(r"^#? ?GRABADORA_([A-Z0-9_]+)=", text, re.M)}
    assert set(DevSettings.model_fields) <= listed
    assert listed - set(DevSettings.model_fields) == {"api_url"}  # the CLI's, read by grabadora/cli.py
    # Each section names a class; every variable in it is declared by that class itself.
    for title, body in re.findall(r"^# ---- .*\((\w+Settings)\) ----\n(.*?)(?=^# ----|\Z)", text, re.M | re.S):
        own = getattr(settings_module, title).__dict__["__annotations__"]
        for name in re.findall(r"^#? ?GRABADORA_([A-Z0-9_]+)=", body, re.M):
            assert name.lower() in own, f"{name} listed under {title}"


def test_each_served_app_reads_its_own_class_from_the_environment(clean_env) -> None:
    from functions.api.app import served_app as api_app
    from functions.stream.app import served_app as relay_app
    from grabadora.settings import get_settings

    try:
        for served, kind in ((api_app, ApiSettings), (relay_app, RelaySettings)):
            forget_settings()
            served()
            assert type(get_settings()) is kind
    finally:
        forget_settings()
