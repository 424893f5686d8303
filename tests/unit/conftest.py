"""Unit tier: no network, no AWS emulator. Shared helpers for the tests in this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from grabadora.settings import DevSettings


def shared_audio_dir() -> Path:
    """The shared recordings, a sibling of the repository: /work/shared/audio for /work/main."""
    return Path(__file__).resolve().parents[3] / "shared" / "audio"


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    directory = shared_audio_dir()
    if not directory.is_dir():
        pytest.skip(f"shared recordings not found at {directory} (expected next to the repository)")
    return directory


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GRABADORA_* variable of the developer's shell leaks into a unit test."""
    import os

    for name in list(os.environ):
        if name.startswith("GRABADORA_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(clean_env: None) -> DevSettings:
    # _env_file=None: a developer's .env must not change what a unit test sees.
    return DevSettings(_env_file=None, jwt_secret_key="k" * 64)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit tier never reaches out: a test that tries to connect anywhere fails loudly."""
    import socket

    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address, *args, **kwargs):
        if sock.family == getattr(socket, "AF_UNIX", None):
            return real_connect(sock, address, *args, **kwargs)
        raise AssertionError(f"unit tests must not use the network (tried to connect to {address!r})")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
