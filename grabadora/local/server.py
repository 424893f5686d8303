"""One ASGI app for the local stack: the API and the SSE relay on one port."""

from __future__ import annotations

from fastapi import FastAPI

from functions.api.app import create_app as create_api_app
from functions.stream.app import router as stream_router
from grabadora.local.spa import mount_spa


def create_local_app() -> FastAPI:
    """The API with the relay's route mounted beside it, as CloudFront presents them on AWS."""
    app = create_api_app()
    app.include_router(stream_router)
    mount_spa(app)  # last: the built web app at /, after every API route
    return app
