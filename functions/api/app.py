"""The public HTTP API (FastAPI). `handler.py` wraps it for Lambda."""

from __future__ import annotations

from fastapi import FastAPI

from functions.common import openai_routes
from grabadora.http_errors import install_error_handlers
from grabadora.settings import ApiSettings, serve_as
from functions.api.routes import auth, health, live, me, shares, transcribe, transcripts, uploads


def served_app() -> FastAPI:
    """The API as a process of its own serves it (the Lambda handler, docker compose): its
    settings are `ApiSettings`, read from its environment."""
    serve_as(ApiSettings)
    return create_app()


def create_app() -> FastAPI:
    """A fresh API app; builds no AWS client and reads no setting until a request needs one."""
    app = FastAPI(
        title="Grabadora API",
        version="0.1.0",
        description="Upload audio, transcribe it with faster-whisper, stream the words live.",
    )
    install_error_handlers(app)
    for router in (health.router, auth.router, me.router, uploads.router, transcribe.router, transcripts.router, shares.router, shares.public_router, live.router):
        app.include_router(router)
    # OpenAI-compatible /v1/*: served with the rest of the API by `grabadora dev`; on AWS API
    # Gateway sends /v1 to the stream function instead (response streaming, no 29 s cut).
    app.include_router(openai_routes.router)
    _document_hand_declared_bodies(app)
    return app


def _document_hand_declared_bodies(app: FastAPI) -> None:
    """Add the models that hand-declared request bodies refer to (POST /transcribe) to the schema."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(transcribe.REQUEST_COMPONENTS)
        return app.openapi_schema or schema

    app.openapi = openapi  # type: ignore[method-assign]
