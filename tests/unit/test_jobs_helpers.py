"""The pure checks in front of every upload: file name, media type, size."""

from __future__ import annotations

import pytest

from grabadora.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from grabadora.services.jobs import check_media_type, check_size, safe_filename

# --- safe_filename ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/path/to/song.mp3", "song.mp3"),
        ("C:\\Users\\ana\\Music\\song.mp3", "song.mp3"),
        ("..\\..\\windows\\system32\\evil.wav", "evil.wav"),
        ("reunión semanal.m4a", "reunión semanal.m4a"),
        ("plain.flac", "plain.flac"),
    ],
)
def test_safe_filename_keeps_only_the_base_name(given: str, expected: str) -> None:
    # Given a name that may carry directories (POSIX or Windows) / Then only the file name is kept
    assert safe_filename(given) == expected


def test_safe_filename_replaces_control_and_odd_characters() -> None:
    # Given a name with NUL, newline, shell and key-hostile characters
    name = safe_filename("a\x00b\nc<>|*?\"'$.wav")
    # Then each one is replaced, the extension survives, and nothing unsafe is left
    assert name.endswith(".wav")
    assert name.startswith("a_b_c")
    assert not set(name) & set("\x00\n<>|*?\"'$/\\")


def test_safe_filename_trims_leading_dots_and_spaces() -> None:
    # Given a hidden-file style name / Then it cannot start with a dot (no ".." left either)
    assert safe_filename(" ..hidden.mp3 ") == "hidden.mp3"


@pytest.mark.parametrize("given", ["", "   ", ".", "..", "...", "/", "../", " . . "])
def test_safe_filename_rejects_names_that_name_no_file(given: str) -> None:
    with pytest.raises(InvalidInput):
        safe_filename(given)


def test_safe_filename_truncates_long_names_keeping_the_extension() -> None:
    # Given a 300-character stem / Then the name is bounded and still ends in its extension
    name = safe_filename("x" * 300 + ".mp3")
    assert name.endswith(".mp3")
    assert len(name) <= 128
    assert name == "x" * (len(name) - 4) + ".mp3"


def test_safe_filename_truncates_long_names_without_extension() -> None:
    assert len(safe_filename("y" * 1000)) <= 128


# --- check_media_type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, content_type, expected",
    [
        ("a.mp3", "audio/mpeg", "audio/mpeg"),
        ("a.mp4", "video/mp4", "video/mp4"),
        ("a.webm", "audio/webm;codecs=opus", "audio/webm"),
        ("a.webm", "Audio/WebM; codecs=opus", "audio/webm"),
        ("a.ogg", "application/ogg", "application/ogg"),
    ],
)
def test_audio_and_video_types_are_accepted(filename: str, content_type: str, expected: str) -> None:
    # Given an audio or video content type (maybe with parameters) / Then its bare, lower-case type
    assert check_media_type(filename, content_type) == expected


@pytest.mark.parametrize("content_type", ["application/octet-stream", ""])
def test_generic_type_with_a_media_extension_is_accepted(content_type: str) -> None:
    # Given a browser that labels an .mp3 generically / Then the type is guessed from the extension
    assert check_media_type("voice.MP3", content_type) == "audio/mpeg"


@pytest.mark.parametrize(
    "filename, content_type",
    [
        ("a.txt", "text/plain"),
        ("a.mp3", "text/plain"),  # the extension does not override a declared non-media type
        ("a.txt", "application/octet-stream"),
        ("a", "application/octet-stream"),
        ("a.pdf", "application/pdf"),
        ("a.txt", ""),
    ],
)
def test_non_media_is_unsupported(filename: str, content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        check_media_type(filename, content_type)
    assert "content_type" in caught.value.detail


# --- check_size -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -1])
def test_empty_file_is_invalid(size: int) -> None:
    with pytest.raises(InvalidInput):
        check_size(size, limit_mb=10)


def test_over_the_limit_is_too_large() -> None:
    # Given a file one byte over 10 MB / Then PayloadTooLarge naming the limit
    with pytest.raises(PayloadTooLarge) as caught:
        check_size(10 * 1024 * 1024 + 1, limit_mb=10)
    assert "10 MB" in caught.value.detail


@pytest.mark.parametrize("size", [1, 10 * 1024 * 1024])
def test_within_the_limit_passes(size: int) -> None:
    # Given a size from one byte up to exactly the limit / Then no error
    assert check_size(size, limit_mb=10) is None
