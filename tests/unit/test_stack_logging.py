"""Access logs of the dev server must not leak stream tokens carried in URLs."""

from __future__ import annotations

import logging

import pytest

from grabadora.local.stack import RedactTokens


def _record(msg: str, args) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, msg, args, None)


def test_token_in_a_request_line_is_redacted() -> None:
    # Given an access-log record whose args carry a stream URL with its token
    record = _record('%s - "%s" %d', ("127.0.0.1:5000", "GET /transcribe/X?token=abc.def HTTP/1.1", 200))
    # When the filter runs
    kept = RedactTokens().filter(record)
    # Then the record is kept, the token is gone, the rest intact
    message = record.getMessage()
    assert kept is True
    assert "token=[redacted]" in message
    assert "abc.def" not in message
    assert message == '127.0.0.1:5000 - "GET /transcribe/X?token=[redacted] HTTP/1.1" 200'


def test_token_in_uvicorn_access_args_is_redacted_keeping_other_parameters() -> None:
    # Given uvicorn's own access-log shape: (client, method, path with query, http version, status)
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/transcribe/01J?token=eyJ.eyJ.sig&last=3", "1.1", 200),
    )
    RedactTokens().filter(record)
    message = record.getMessage()
    assert "/transcribe/01J?token=[redacted]&last=3" in message
    assert "eyJ" not in message


def test_records_without_tokens_or_args_are_untouched() -> None:
    plain = _record("server started", None)
    assert RedactTokens().filter(plain) is True
    assert plain.getMessage() == "server started"
    other = _record("%s %d", ("GET /transcripts?limit=5", 200))
    RedactTokens().filter(other)
    assert other.getMessage() == "GET /transcripts?limit=5 200"


def test_mapping_args_are_redacted_and_still_format() -> None:
    # Given a record logged with a single dict argument (logging keeps it as a mapping)
    record = _record("%(path)s", ({"path": "/transcribe/X?token=abc"},))
    RedactTokens().filter(record)
    # Then it still formats, without the token
    assert record.getMessage() == "/transcribe/X?token=[redacted]"


def test_share_link_tokens_in_paths_are_redacted() -> None:
    # A share link's token is its path: neither the API's nor the app's page may be logged whole
    token = "jcEQmX20dEC4D53rKEgn9PN1G0E1VFe-k8i_F9wIYZ0"
    for path in (f"/shared/{token}", f"/compartido/{token}"):
        record = _record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", path, "1.1", 200))
        RedactTokens().filter(record)
        message = record.getMessage()
        assert token not in message and path.rsplit("/", 1)[0] + "/[redacted]" in message
