"""What `grabadora dev` changes from the defaults, and only when it should."""

from __future__ import annotations

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
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
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


def test_a_poll_set_by_the_user_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRABADORA_RELAY_POLL_MIN_SECONDS", "0.02")
    DevStack(with_worker=True)
    assert get_settings().relay_poll_min_seconds == 0.02


def test_the_embedded_emulator_gets_no_iot_publishes_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    embedded_emulator_defaults()
    assert get_settings().iot_publish is False
    monkeypatch.setenv("GRABADORA_IOT_PUBLISH", "true")
    embedded_emulator_defaults()
    get_settings.cache_clear()
    assert get_settings().iot_publish is True
