"""Liveness."""

from fastapi import APIRouter

from functions.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The API process answers."""
    return Health(status="ok")
