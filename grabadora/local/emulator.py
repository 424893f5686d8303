"""moto's server as the AWS endpoint: real HTTP on 127.0.0.1, in a background thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

# Any credentials satisfy the emulator; real ones must never be sent to it.
EMULATOR_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "grabadora-local",
    "AWS_SECRET_ACCESS_KEY": "grabadora-local",
}


class Emulator:
    """Starts and stops an in-process moto server bound to loopback.

    The server is moto's own (`moto.moto_server`'s app and request handler, as its
    `ThreadedMotoServer` builds it); `wrap` puts WSGI middleware in front of the app, e.g. the
    gate that `grabadora.local.persistence` snapshots behind. The tests run it in their own
    process; `grabadora dev` runs it, with its snapshots, in `grabadora.local.emulator_process`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, wrap: Callable[[Any], Any] | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from grabadora.local import moto_patches

        moto_patches.apply()
        app: Any = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            host, port, wrap(app) if wrap else app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self.endpoint_url: str | None = None

    def start(self) -> str:
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def use_emulator_credentials() -> None:
    """Point boto3 at throwaway credentials so nothing real is ever signed for the emulator."""
    for key, value in EMULATOR_CREDENTIALS.items():
        os.environ[key] = value
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
