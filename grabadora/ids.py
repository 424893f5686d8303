"""Identifiers: ULIDs, so ids sort by creation time."""

from ulid import ULID


def new_id() -> str:
    """A fresh ULID as its 26-character string."""
    return str(ULID())
