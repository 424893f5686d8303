"""API keys for integrators and OpenAI-compatible clients.

A key reads `gr_<user_id><key_id>_<secret>`: the user and key ids say where its record is (one
GetItem, no scan, no index), and the record holds only a SHA-256 of the 32-byte random secret.
A fast hash suffices for a random secret of that size; slow KDFs are for guessable passwords.
The whole key is shown once, at creation, and can be revoked at any time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from grabadora.adapters.user_state import ApiKeysTable
from grabadora.errors import Conflict, NotFound, Unauthorized
from grabadora.ids import new_id
from grabadora.models import utc_now

PREFIX = "gr_"
_KEY = re.compile(r"^gr_([0-9A-HJKMNP-TV-Z]{26})([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$")
MAX_KEYS = 20


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def looks_like_api_key(token: str) -> bool:
    return token.startswith(PREFIX)


def create(table: ApiKeysTable, user_id: str, name: str) -> dict:
    """A new key; the answer is the only time its full value is shown."""
    if len(table.list(user_id)) >= MAX_KEYS:
        raise Conflict(f"at most {MAX_KEYS} API keys per account: revoke one first")
    key_id, secret = new_id(), secrets.token_urlsafe(32)
    record = {"key_id": key_id, "name": name, "sha256": _digest(secret), "created_at": utc_now(), "last4": secret[-4:]}
    table.put(user_id, key_id, record)
    return {**_public(record), "key": f"{PREFIX}{user_id}{key_id}_{secret}"}


def list_keys(table: ApiKeysTable, user_id: str) -> list[dict]:
    return sorted((_public(r) for r in table.list(user_id)), key=lambda r: r["created_at"])


def revoke(table: ApiKeysTable, user_id: str, key_id: str) -> None:
    if not table.delete(user_id, key_id):
        raise NotFound("API key not found")


def authenticate(table: ApiKeysTable, key: str) -> str:
    """The user id a key belongs to; `Unauthorized` for anything else."""
    match = _KEY.match(key)
    record = table.get(match.group(1), match.group(2)) if match else None
    if record is None or not hmac.compare_digest(record["sha256"], _digest(match.group(3))):
        raise Unauthorized("invalid API key")
    return match.group(1)


def _public(record: dict) -> dict:
    return {
        "id": record["key_id"],
        "name": record["name"],
        "created_at": record["created_at"],
        "hint": f"{PREFIX}…{record['last4']}",
    }
