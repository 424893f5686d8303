"""Serve the built web app (frontend/dist) at `/` on the local server, with SPA fallback.

Files under dist are served as they are; any other GET that is not an API path answers
index.html so client-side routes (/grabar, /biblioteca/<id>) survive a reload. API paths are
never shadowed: their routes are registered first, and an unknown API path stays a JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

DEFAULT_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"

API_PREFIXES = ("auth", "uploads", "transcribe", "transcripts", "live", "me", "healthz", "docs", "redoc", "openapi.json", "v1", "shared")

_NOT_BUILT = """<!doctype html><html lang="es"><meta charset="utf-8"><title>Grabadora</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Grabadora</h1><p>La aplicación web no está compilada. / The web app is not built.</p>
<p>Run <code>make dev</code> (it builds it), or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>
<p>API docs: <a href="/docs">/docs</a></p></body></html>"""


def _is_api(path: str) -> bool:
    first = path.lstrip("/").split("/", 1)[0]
    return first in API_PREFIXES


def mount_spa(app: FastAPI, dist_dir: Path | str | None = None) -> None:
    """Add the catch-all GET route; call it after every API route is registered."""
    dist = Path(dist_dir) if dist_dir is not None else DEFAULT_DIST

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request):  # noqa: ARG001 - request kept for symmetry
        if _is_api(path):
            raise HTTPException(status_code=404, detail="Not Found")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(
                _NOT_BUILT, status_code=503 if path == "" else 404,
                headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"},
            )
        if path:
            candidate = (dist / path).resolve()
            if candidate.is_relative_to(dist.resolve()) and candidate.is_file():
                cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
                return FileResponse(candidate, headers={"Cache-Control": cache})
            if path.startswith("assets/"):
                raise HTTPException(status_code=404, detail="Not Found")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
