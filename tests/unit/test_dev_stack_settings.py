"""What `grabadora dev` changes from the defaults, and only when it should."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from grabadora import aws
from grabadora.local.stack import DevStack, embedded_emulator_defaults
from grabadora.settings import get_settings

_NAMES = (
    "GRABADORA_RELAY_POLL_MIN_SECONDS",
    "GRABADORA_RELAY_POLL_MAX_SECONDS",
    "GRABADORA_IOT_PUBLISH",
    "GRABADORA_AWS_ENDPOINT_URL",
    "GRABADORA_SQS_WAIT_SECONDS",
    "GRABADORA_EMULATOR_PORT",
)


@pytest.fixture(autouse=True)
def _clean_env() -> Iterator[None]:
    # DevStack sets these with os.environ.setdefault; monkeypatch.delenv records nothing for a
    # name that is absent, so the test restores them itself and later tests see the old values.
    saved = {name: os.environ.pop(name, None) for name in _NAMES}
    get_settings.cache_clear()
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()
    aws.reset_clients()


def test_with_the_worker_in_process_the_relay_polls_slowly_and_the_doorbell_is_on() -> None:
    DevStack(with_worker=True)
    settings = get_settings()
    assert (settings.relay_poll_min_seconds, settings.relay_poll_max_seconds) == (0.25, 1.0)
    assert settings.relay_wake_on_local_commit


def test_without_the_worker_the_relay_keeps_the_fast_poll() -> None:
    DevStack(with_worker=False)
    settings = get_settings()
    assert (settings.relay_poll_min_seconds, settings.relay_poll_max_seconds) == (0.05, 0.1)


def test_a_poll_set_by_the_user_is_kept() -> None:
    os.environ["GRABADORA_RELAY_POLL_MIN_SECONDS"] = "0.02"
    DevStack(with_worker=True)
    assert get_settings().relay_poll_min_seconds == 0.02


def test_the_embedded_emulator_gets_no_iot_publishes_unless_asked() -> None:
    embedded_emulator_defaults()
    assert get_settings().iot_publish is False
    os.environ["GRABADORA_IOT_PUBLISH"] = "true"
    embedded_emulator_defaults()
    get_settings.cache_clear()
    assert get_settings().iot_publish is True
