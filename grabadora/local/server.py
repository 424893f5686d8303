"""One ASGI app for the local stack: the API and the SSE relay on one port."""

from __future__ import annotations

from urllib.parse import urlsplit

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.api.app import create_app as create_api_app
from functions.stream.app import router as stream_router
from grabadora import metrics
from grabadora.local.spa import mount_spa
from grabadora.settings import DevSettings, settings_as

# Swagger UI and ReDoc (FastAPI's /docs and /redoc) load their scripts and styles from jsDelivr
# and start with an inline script; the web app itself needs none of that.
_DOCS_PATHS = ("/docs", "/redoc")
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src blob:; font-src 'self' https://fonts.gstatic.com; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def storage_origin(settings: DevSettings) -> str | None:
    """Where presigned upload and audio URLs point (the emulator locally), for the CSP."""
    endpoint = settings.s3_endpoint_url or settings.aws_endpoint_url
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(settings: DevSettings) -> str:
    """The web app's policy: its own scripts and styles only, no framing, no plugins.

    Uploads (presigned PUT) and playback (presigned GET) go to the storage endpoint; blob: URLs
    are the downloads the app builds and recordings played back before upload.
    """
    storage = storage_origin(settings)
    extra = f" {storage}" if storage else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"media-src 'self' blob:{extra}; connect-src 'self'{extra}; worker-src 'self' blob:; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Adds the security headers to every answer: the SPA's files, the API and the streams."""

    def __init__(self, app: ASGIApp, *, settings: DevSettings) -> None:
        self.app = app
        self._csp = content_security_policy(settings)

    def _policy(self, path: str) -> str:
        return _DOCS_CSP if path.startswith(_DOCS_PATHS) else self._csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self._policy(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), geolocation=(), microphone=(self)"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(Exception):
    pass


def max_body_bytes(settings: DevSettings) -> int:
    """The largest request body any route takes: a multipart or OpenAI file, plus 1 MB of form."""
    return (max(settings.max_multipart_mb, settings.openai_max_file_mb) + 1) * 1024 * 1024


class BodyLimit:
    """413 for a request body over `max_body_bytes` (API Gateway caps bodies at 10 MB on AWS;
    uvicorn has no cap of its own): by Content-Length before reading, else while it streams in."""

    def __init__(self, app: ASGIApp, *, settings: DevSettings) -> None:
        self.app = app
        self.limit = max_body_bytes(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = (
        '{"detail": "the request body is over the %d MB limit", "code": "too_large"}' % (limit // (1024 * 1024))
    ).encode()
    await send({
        "type": "http.response.start", "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})


async def prometheus_metrics(request: Request) -> Response:
    """GET /metrics: the business and request metrics in Prometheus' text format (local stack
    only: the API on AWS has no such route, its figures go to CloudWatch). With
    GRABADORA_METRICS_TOKEN set it asks for `Authorization: Bearer <token>`."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return JSONResponse({"detail": "metrics: send Authorization: Bearer <GRABADORA_METRICS_TOKEN>"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
    exposition = metrics.prometheus_text()
    if exposition is None:
        return JSONResponse({"detail": "metrics go to CloudWatch here (GRABADORA_METRICS_NAMESPACE), or prometheus-client is not installed"},
                            status_code=404)
    body, content_type = exposition
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def create_local_app(settings: DevSettings | None = None) -> FastAPI:
    """The API with the relay's route mounted beside it, as CloudFront presents them on AWS.

    `settings` are those `grabadora dev` built (by default the process's); they are final here:
    the storage endpoint in the security policy, the body limit and the metrics token.
    Trusting proxies' X-Forwarded-For is the server's part (`forwarded_allow_ips` of uvicorn).
    """
    settings = settings if settings is not None else settings_as(DevSettings)
    app = create_api_app()
    app.state.settings = settings
    app.include_router(stream_router)
    app.add_api_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)
    mount_spa(app)  # last: the built web app at /, after every API route
    app.add_middleware(metrics.RequestMetrics)  # inside BodyLimit: sees the matched route template
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)  # outermost: the 413 gets the headers too
    return app
