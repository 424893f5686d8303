"""A recording's duration from its header, without decoding (the API has no PyAV or ffmpeg).

Used to reserve a job's quota at submit time (`grabadora/services/quota.py`). It reads at most
the first and last 64 KB: WAV (exact, from the byte rate and the data chunk), FLAC (exact, from
STREAMINFO), MP3 (exact from a Xing/Info or VBRI header; for CBR, size over bitrate), Ogg
(Vorbis/Opus/FLAC: the last page's granule position) and MP4/M4A/MOV (`mvhd`). Anything else,
or a header that cannot be read, is estimated from the file's size at `FALLBACK_BITS_PER_SECOND`.
The worker's decoded duration settles the reservation either way, so a wrong guess costs a
reservation that is too large or too small for the job's time in the queue, never the usage.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 64 * 1024
# 32 kbit/s: low for music, typical for speech in Opus/AAC/MP3; a file of unknown format is
# assumed to be at least this dense (so its reservation errs long for real speech recordings).
FALLBACK_BITS_PER_SECOND = 32_000


def estimate_from_size(size: int) -> float:
    return size * 8 / FALLBACK_BITS_PER_SECOND


def probe_duration(size: int, read: Callable[[int, int], bytes]) -> tuple[float, bool]:
    """(seconds, exact) for a file of `size` bytes; `read(offset, length)` gives its bytes.

    `exact` is False when the duration is the size-based estimate.
    """
    try:
        head = read(0, min(size, HEAD_BYTES))
        for parse in (_wav, _flac, _mp4, _mp3):
            seconds = parse(head, size)
            if seconds is not None and seconds >= 0:
                return seconds, True
        if head[:4] == b"OggS":
            tail = read(max(0, size - TAIL_BYTES), min(size, TAIL_BYTES))
            seconds = _ogg(head, tail)
            if seconds is not None:
                return seconds, True
    except Exception:  # noqa: BLE001 - any malformed header falls back to the estimate
        pass
    return estimate_from_size(size), False


def probe_bytes(body: bytes) -> tuple[float, bool]:
    return probe_duration(len(body), lambda offset, length: body[offset : offset + length])


def _wav(head: bytes, size: int) -> float | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, length = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if chunk == b"fmt ":
            byte_rate = struct.unpack_from("<I", head, pos + 16)[0]
        elif chunk == b"data":
            if not byte_rate:
                return None
            available = max(0, size - (pos + 8))
            # A streaming writer leaves 0 or 0xFFFFFFFF; the file's own size bounds it anyway.
            data = available if length in (0, 0xFFFFFFFF) else min(length, available)
            return data / byte_rate
        pos += 8 + length + (length & 1)
    return None


def _flac(head: bytes, size: int) -> float | None:  # noqa: ARG001
    if head[:4] != b"fLaC":
        return None
    # STREAMINFO is the first metadata block: 4-byte block header, then its 34 bytes.
    info = head[8:26]
    bits = int.from_bytes(info[10:18], "big")
    rate = bits >> 44
    samples = bits & ((1 << 36) - 1)
    if not rate:
        return None
    return samples / rate


_MP3_BITRATES = {
    (3, 3): [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],  # MPEG1 L1
    (3, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],  # MPEG1 L2
    (3, 1): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],  # MPEG1 L3
    (2, 3): [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],  # MPEG2 L1
    (2, 2): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],  # MPEG2 L2/L3
}
_MP3_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def _mp3(head: bytes, size: int) -> float | None:
    start = 0
    if head[:3] == b"ID3":
        tag = head[6:10]
        start = 10 + ((tag[0] & 0x7F) << 21 | (tag[1] & 0x7F) << 14 | (tag[2] & 0x7F) << 7 | (tag[3] & 0x7F))
        if head[5] & 0x10:
            start += 10
        if start + 4 > len(head):
            return None
    # The first frame sync at or after the tag (within the head).
    pos = start
    while pos + 4 <= len(head):
        if head[pos] == 0xFF and head[pos + 1] & 0xE0 == 0xE0:
            version, layer = (head[pos + 1] >> 3) & 3, (head[pos + 1] >> 1) & 3
            bitrate_index, rate_index = head[pos + 2] >> 4, (head[pos + 2] >> 2) & 3
            if version != 1 and layer and 0 < bitrate_index < 15 and rate_index < 3:
                break
        pos += 1
    else:
        return None
    table = (3 if version == 3 else 2, layer if version == 3 or layer == 3 else 2)
    bitrate = _MP3_BITRATES[table][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    samples_per_frame = 384 if layer == 3 else (1152 if version == 3 or layer == 2 else 576)
    mono = (head[pos + 3] >> 6) == 3
    side = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    xing = pos + 4 + side
    if head[xing : xing + 4] in (b"Xing", b"Info"):
        flags = struct.unpack_from(">I", head, xing + 4)[0]
        if flags & 1:
            frames = struct.unpack_from(">I", head, xing + 8)[0]
            return frames * samples_per_frame / rate
    vbri = pos + 4 + 32
    if head[vbri : vbri + 4] == b"VBRI":
        frames = struct.unpack_from(">I", head, vbri + 14)[0]
        return frames * samples_per_frame / rate
    return (size - pos) * 8 / bitrate


def _ogg(head: bytes, tail: bytes) -> float | None:
    # The codec's sample rate from the first page's identification header.
    if b"\x01vorbis" in head[:200]:
        i = head.index(b"\x01vorbis")
        rate, skip = struct.unpack_from("<I", head, i + 12)[0], 0
    elif b"OpusHead" in head[:200]:
        i = head.index(b"OpusHead")
        rate, skip = 48000, struct.unpack_from("<H", head, i + 10)[0]
    elif b"\x7fFLAC" in head[:200]:
        i = head.index(b"\x7fFLAC")
        rate, skip = int.from_bytes(head[i + 27 : i + 30], "big") >> 4, 0
    else:
        return None
    last = tail.rfind(b"OggS")
    if last < 0 or last + 14 > len(tail) or not rate:
        return None
    granule = struct.unpack_from("<q", tail, last + 6)[0]
    if granule < 0:
        return None
    return max(0, granule - skip) / rate


def _mp4(head: bytes, size: int) -> float | None:  # noqa: ARG001
    if head[4:8] != b"ftyp":
        return None
    i = head.find(b"mvhd")
    if i < 0:
        return None  # moov at the end: left to the estimate
    version = head[i + 4]
    if version == 1:
        timescale, duration = struct.unpack_from(">IQ", head, i + 4 + 4 + 16)
    else:
        timescale, duration = struct.unpack_from(">II", head, i + 4 + 4 + 8)
    return duration / timescale if timescale else None


def declared_duration(path: str) -> float | None:
    """The duration a file's header *declares* (WAV data length, FLAC sample count, an MP3's
    Xing/VBRI frame count, MP4 `mvhd`), or None when its header declares none. The worker
    compares it with what it decoded, to tell a truncated file from a short one."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None
    try:
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            pos, byte_rate = 12, 0
            while pos + 8 <= len(head):
                chunk, length = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
                if chunk == b"fmt ":
                    byte_rate = struct.unpack_from("<I", head, pos + 16)[0]
                elif chunk == b"data":
                    return length / byte_rate if byte_rate and length not in (0, 0xFFFFFFFF) else None
                pos += 8 + length + (length & 1)
            return None
        for parse in (_flac, _mp4):
            seconds = parse(head, 0)
            if seconds is not None:
                return seconds
        # MP3: only a Xing/Info or VBRI header declares a length (CBR has none to compare).
        seconds = _mp3(head, 0)
        return seconds if seconds is not None and seconds > 0 else None
    except Exception:  # noqa: BLE001
        return None
