"""Real media bytes built by hand (no Pillow, no codecs): PNG, WAV, PCM, FLAC, MP3, MP4.

- PNG (RFC 2083): 8-bit RGB, one zlib IDAT, a vertical colour gradient seeded by the prompt.
- WAV / PCM: 24 kHz mono signed 16-bit little-endian (OpenAI documents ``pcm`` as exactly
  this, "24kHz (16-bit signed, low-endian), without the header"), a sine tone.
- FLAC (RFC 9639): STREAMINFO + fixed-blocksize frames of VERBATIM subframes, CRC-8/CRC-16.
- MP3 (ISO/IEC 13818-3): MPEG-2 Layer III, 24 kHz mono 32 kbit/s frames whose side
  information is all zero: a valid stream that decodes to silence (documented deviation: the
  synthetic speech is silent in mp3).
- Opus (in Ogg) and AAC (in ADTS): silent too, built in ``audio_containers``.
- MP4 (ISO/IEC 14496-12): ``ftyp`` + ``moov``/``mvhd`` carrying the clip duration and no
  media track: a structurally valid container, not a playable picture (documented).

Must not: do I/O. Everything is deterministic in its arguments.
"""

from __future__ import annotations

import math
import struct
import zlib
from array import array
from functools import lru_cache

from reference_server.providers.audio_containers import adts_aac_bytes, ogg_opus_bytes

__all__ = [
    "AUDIO_SAMPLE_RATE",
    "SPEECH_MEDIA_TYPES",
    "audio_seconds",
    "flac_bytes",
    "mp3_bytes",
    "mp4_bytes",
    "pcm_samples",
    "png_bytes",
    "speech_bytes",
    "wav_bytes",
]

AUDIO_SAMPLE_RATE = 24_000

# response_format -> media type: every CreateSpeechRequest.response_format. Ogg Opus is
# audio/ogg (the type RFC 7845 section 9 names for Ogg Opus files); ADTS is audio/aac.
SPEECH_MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
    "flac": "audio/flac",
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@lru_cache(maxsize=16)
def png_bytes(width: int, height: int, seed: int) -> bytes:
    """A valid RGB PNG of ``width`` x ``height``: a gradient whose colours depend on ``seed``."""
    r0, g0, b0 = seed & 0xFF, (seed >> 8) & 0xFF, (seed >> 16) & 0xFF
    rows = bytearray()
    for y in range(height):
        shade = (y * 255) // max(height - 1, 1)
        pixel = bytes(((r0 + shade) & 0xFF, (g0 + shade // 2) & 0xFF, (b0 + 255 - shade) & 0xFF))
        rows += b"\x00" + pixel * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 1))
        + _chunk(b"IEND", b"")
    )


def audio_seconds(text: str, speed: float = 1.0) -> float:
    """Length of synthetic speech: ~15 characters a second, between 0.5 s and 60 s."""
    return min(max(len(text) / 15.0 / speed, 0.5), 60.0)


def pcm_samples(seconds: float, seed: int) -> array[int]:
    """A sine tone; its frequency is a whole number of hertz, so one second tiles exactly."""
    count = int(seconds * AUDIO_SAMPLE_RATE)
    second = _one_second(220 + seed % 440)
    return (second * (count // AUDIO_SAMPLE_RATE + 1))[:count]


@lru_cache(maxsize=64)
def _one_second(frequency: int) -> array[int]:
    step = 2 * math.pi * frequency / AUDIO_SAMPLE_RATE
    return array("h", (int(8000 * math.sin(step * i)) for i in range(AUDIO_SAMPLE_RATE)))


def _le(samples: array[int]) -> bytes:
    data = array("h", samples)
    if struct.pack("=h", 1) != struct.pack("<h", 1):  # pragma: no cover - big-endian hosts
        data.byteswap()
    return data.tobytes()


def wav_bytes(samples: array[int]) -> bytes:
    data = _le(samples)
    fmt = struct.pack("<HHIIHH", 1, 1, AUDIO_SAMPLE_RATE, AUDIO_SAMPLE_RATE * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return table


_CRC16 = _crc16_table()


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def _utf8_number(n: int) -> bytes:
    # FLAC codes the frame number like UTF-8 (RFC 9639 section 9.1.5).
    if n < 0x80:
        return bytes((n,))
    if n < 0x800:
        return bytes((0xC0 | (n >> 6), 0x80 | (n & 0x3F)))
    return bytes((0xE0 | (n >> 12), 0x80 | ((n >> 6) & 0x3F), 0x80 | (n & 0x3F)))


def flac_bytes(samples: array[int]) -> bytes:
    block = 4096
    padded = array("h", samples)
    if len(padded) % block:
        padded.extend([0] * (block - len(padded) % block))
    total = len(padded)
    info = struct.pack(">HH", block, block) + b"\x00\x00\x00" + b"\x00\x00\x00"
    # 20 bits sample rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
    packed = (AUDIO_SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | total
    info += packed.to_bytes(8, "big") + b"\x00" * 16  # MD5 zero: "unknown" (allowed)
    out = bytearray(b"fLaC")
    out += bytes((0x80 | 0,)) + len(info).to_bytes(3, "big") + info
    big = array("h", padded)
    if struct.pack("=h", 1) == struct.pack("<h", 1):
        big.byteswap()
    raw = big.tobytes()
    for number in range(total // block):
        # sync 0xFFF8 (fixed blocksize); block size code 0111 (16-bit size-1 follows);
        # sample rate 0000 (from STREAMINFO); mono 0000; 16-bit 100; reserved 0.
        header = b"\xff\xf8" + bytes((0x70, 0x08)) + _utf8_number(number)
        header += struct.pack(">H", block - 1)
        header += bytes((_crc8(header),))
        frame = header + b"\x02" + raw[number * block * 2 : (number + 1) * block * 2]
        out += frame + struct.pack(">H", _crc16(frame))
    return bytes(out)


def mp3_bytes(seconds: float) -> bytes:
    # MPEG-2 (0xFFF3: version 2, layer III, no CRC), 32 kbit/s, 24 kHz, mono: 96-byte frames of
    # 576 samples with all-zero side information (silence).
    frame = b"\xff\xf3\x44\xc0" + b"\x00" * 92
    count = max(1, math.ceil(seconds * AUDIO_SAMPLE_RATE / 576))
    return frame * count


def speech_bytes(response_format: str, seconds: float, seed: int) -> bytes:
    if response_format == "mp3":
        return mp3_bytes(seconds)
    # The same sample count as wav and pcm, so every format lasts as long for the same text.
    if response_format == "opus":
        return ogg_opus_bytes(int(seconds * AUDIO_SAMPLE_RATE), seed)
    if response_format == "aac":
        return adts_aac_bytes(int(seconds * AUDIO_SAMPLE_RATE))
    samples = pcm_samples(seconds, seed)
    if response_format == "wav":
        return wav_bytes(samples)
    if response_format == "pcm":
        return _le(samples)
    if response_format == "flac":
        return flac_bytes(samples)
    raise ValueError(
        f"unsupported speech format {response_format!r}; use {sorted(SPEECH_MEDIA_TYPES)}"
    )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(seconds: int) -> bytes:
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">IIIII", 0, 0, 0, 1000, seconds * 1000)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + b"\x00" * 10
        + matrix
        + b"\x00" * 24
        + struct.pack(">I", 1),
    )
    return ftyp + _box(b"moov", mvhd)
