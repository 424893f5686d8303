"""moto's server as the AWS endpoint: real HTTP on 127.0.0.1, in a background thread."""

from __future__ import annotations

import os

# Any credentials satisfy the emulator; real ones must never be sent to it.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "grabadora-local",
    "AWS_SECRET_ACCESS_KEY": "grabadora-local",
}


class Emulator:
    """Starts and stops an in-process moto server bound to loopback."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        from grabadora.local import moto_patches

        moto_patches.apply()
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint_url: str | None = None

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        self._server.stop()


def use_emulator_credentials() -> None:
    """Point boto3 at throwaway credentials so nothing real is ever signed for the emulator."""
    for key, value in EMULATOR_CREDENTIALS.items():
        os.environ[key] = value
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
