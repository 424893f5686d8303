"""Lazily built, cached boto3 clients. Only adapters call these."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from grabadora.settings import get_settings

# boto3 sessions are not thread-safe; clients are. Build each client once, under a lock.
_lock = threading.Lock()

_CONFIG = Config(
    # Standard mode backs off exponentially with jitter; 8 attempts ride out a few seconds of
    # endpoint trouble before a job falls back to SQS redelivery.
    retries={"mode": "standard", "max_attempts": 8},
    max_pool_connections=64,
    connect_timeout=5,
    read_timeout=30,
)


@lru_cache(maxsize=None)
def _client(service: str) -> Any:
    settings = get_settings()
    with _lock:
        session = boto3.session.Session(region_name=settings.region)
        kwargs: dict[str, Any] = {"config": _CONFIG}
        if service == "s3":
            # SigV4 signs Content-Length into presigned PUTs, so S3 refuses a body of another size.
            kwargs["config"] = _CONFIG.merge(Config(signature_version="s3v4"))
        if service == "iot-data" and settings.iot_endpoint and not settings.aws_endpoint_url:
            # IoT data has a per-account endpoint; boto3's default host is not it.
            iot = settings.iot_endpoint
            kwargs["endpoint_url"] = iot if iot.startswith("https://") else f"https://{iot}"
        endpoint = settings.s3_endpoint_url if service == "s3" and settings.s3_endpoint_url else settings.aws_endpoint_url
        if endpoint:
            kwargs["endpoint_url"] = endpoint
            if service == "s3":
                # Path-style keeps presigned URLs on the emulator's host instead of bucket subdomains.
                kwargs["config"] = kwargs["config"].merge(Config(s3={"addressing_style": "path"}))
        return session.client(service, **kwargs)


def client(service: str) -> Any:
    """The process's boto3 client for one AWS service."""
    return _client(service)


def reset_clients() -> None:
    """Forget cached clients (after settings change, e.g. in tests)."""
    _client.cache_clear()
