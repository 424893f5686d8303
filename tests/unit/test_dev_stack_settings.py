"""What `grabadora dev` changes from the defaults, only when it should, and without the environment."""

from __future__ import annotations

import os

import pytest

from grabadora.local.stack import DevStack, dev_settings, on_embedded_emulator
from grabadora.settings import DevSettings


@pytest.fixture(autouse=True)
def _no_grabadora_variables(clean_env: None) -> None:
    """The machine's own GRABADORA_* variables would count as the user's choices here."""


def test_with_the_worker_in_process_the_relay_polls_slowly() -> None:
    settings = dev_settings(with_worker=True)
    assert (settings.relay_poll_min_seconds, settings.relay_poll_max_seconds) == (0.25, 1.0)
    assert settings.sqs_wait_seconds == 2


def test_without_the_worker_the_relay_keeps_the_fast_poll() -> None:
    settings = dev_settings(with_worker=False)
    assert (settings.relay_poll_min_seconds, settings.relay_poll_max_seconds) == (0.05, 0.1)


def test_what_the_user_set_is_kept_and_the_command_line_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRABADORA_RELAY_POLL_MIN_SECONDS", "0.02")
    monkeypatch.setenv("GRABADORA_SQS_WAIT_SECONDS", "5")
    monkeypatch.setenv("GRABADORA_PORT", "9000")
    settings = dev_settings(with_worker=True, port=8123, model="tiny.en")
    assert settings.relay_poll_min_seconds == 0.02 and settings.sqs_wait_seconds == 5
    assert settings.relay_poll_max_seconds == 1.0  # not set by the user: the stack's default
    assert (settings.port, settings.whisper_model) == (8123, "tiny.en")


def test_the_embedded_emulator_gets_no_iot_publishes_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    on_emulator = on_embedded_emulator(dev_settings(), "http://127.0.0.1:4566")
    assert on_emulator.aws_endpoint_url == "http://127.0.0.1:4566"
    assert on_emulator.iot_publish is False
    monkeypatch.setenv("GRABADORA_IOT_PUBLISH", "true")
    assert on_embedded_emulator(dev_settings(), "http://127.0.0.1:4566").iot_publish is True


def test_the_stack_takes_its_settings_as_an_object_and_writes_no_environment() -> None:
    # Given settings built in code, none of them in the environment
    before = dict(os.environ)
    settings = dev_settings(base=DevSettings(_env_file=None, port=8123, users_table="elsewhere-users"))
    # When the stack is built from them
    stack = DevStack(settings)
    # Then it holds that object and the environment is as it was
    assert stack.settings is settings and stack.settings.users_table == "elsewhere-users"
    assert dict(os.environ) == before
