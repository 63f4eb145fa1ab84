"""Media sniffing and generation: what image, audio and video bytes really are.

Owns: reading image dimensions from PNG, JPEG and WebP headers; recognising the audio
containers OpenAI's speech endpoint produces (mp3, Ogg Opus, AAC in ADTS, FLAC, WAV, raw PCM)
by their magic bytes; recognising an MP4 (ISO BMFF) file; and generating a short, real WAV
file to upload to the transcription endpoint.

Must not: perform I/O, or decide verdicts (checks do; this module only says what bytes are).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "AUDIO_FORMATS",
    "AUDIO_MEDIA_TYPES",
    "AudioFormat",
    "ImageInfo",
    "audio_problem",
    "is_mp4",
    "sniff_audio",
    "sniff_image",
    "wav_tone",
]

# The `response_format` values of CreateSpeechRequest in OpenAI's spec.
AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
AUDIO_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)

# Media types a client may meet for each format. OpenAI's spec declares the speech body as
# `application/octet-stream` (accepted for every format); the platform itself answers with the
# format's own type (audio/mpeg for mp3 and so on). A type naming another format is wrong.
AUDIO_MEDIA_TYPES: dict[AudioFormat, frozenset[str]] = {
    "mp3": frozenset({"audio/mpeg", "audio/mp3", "audio/mpeg3"}),
    "opus": frozenset({"audio/ogg", "audio/opus", "audio/ogg; codecs=opus"}),
    "aac": frozenset({"audio/aac", "audio/x-aac", "audio/aacp"}),
    "flac": frozenset({"audio/flac", "audio/x-flac"}),
    "wav": frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    "pcm": frozenset({"audio/pcm", "audio/l16", "audio/raw", "audio/x-pcm"}),
}

ImageFormat = Literal["png", "jpeg", "webp"]


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """An image's container format and pixel size, read from its header."""

    format: ImageFormat
    width: int
    height: int

    @property
    def size(self) -> str:
        """The size as OpenAI's `size` parameter spells it (``"1024x1024"``)."""
        return f"{self.width}x{self.height}"


_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def sniff_image(data: bytes) -> ImageInfo | None:
    """Read format and size from an image header; None when the bytes are no PNG/JPEG/WebP."""
    if data.startswith(_PNG):
        # PNG spec 11.2.2: the first chunk is IHDR, width and height as 4-byte big-endian.
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return ImageInfo("png", width, height)
    if data.startswith(b"\xff\xd8"):
        return _sniff_jpeg(data)
    if len(data) >= 30 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _sniff_webp(data)
    return None


def _sniff_jpeg(data: bytes) -> ImageInfo | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageInfo("jpeg", width, height)
        pos += 2 + length
    return None


def _sniff_webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        # RFC 6386 9.1: 14-bit width and height after the start code.
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("webp", width, height)
    return None


def sniff_audio(data: bytes) -> str | None:
    """Name the audio container the bytes start with, or None when no known header is there.

    Returns one of ``mp3``, ``opus`` (Ogg with an OpusHead), ``ogg`` (another Ogg codec),
    ``aac`` (ADTS), ``flac``, ``wav``.
    """
    if data.startswith(b"ID3"):
        return "mp3"
    if data.startswith(b"OggS"):
        return "opus" if b"OpusHead" in data[:512] else "ogg"
    if data.startswith(b"fLaC"):
        return "flac"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        layer = (data[1] >> 1) & 0b11
        # ISO 13818-7 ADTS: 12-bit sync and layer 00; MPEG audio layer III: layer bits 01.
        if data[1] & 0xF0 == 0xF0 and layer == 0:
            return "aac"
        if layer == 1:
            return "mp3"
    return None


def audio_problem(fmt: AudioFormat, data: bytes) -> str | None:
    """Why ``data`` is not audio in ``fmt``, or None when its bytes fit that format."""
    if not data:
        return "the body is empty"
    found = sniff_audio(data)
    if fmt == "pcm":
        # Raw 16-bit little-endian samples: no container header, whole samples.
        if found is not None:
            return f"raw pcm was asked but the body is a {found} file"
        if data.lstrip()[:1] in (b"{", b"["):
            return "raw pcm was asked but the body looks like JSON"
        if len(data) % 2:
            return f"raw 16-bit pcm needs an even byte count, got {len(data)}"
        return None
    if found != fmt:
        head = data[:12]
        return f"{fmt} was asked but the body starts {head!r} ({found or 'unknown'} format)"
    return None


def is_mp4(data: bytes) -> bool:
    """Whether the bytes start an ISO base media file (MP4): a box whose type is ``ftyp``."""
    return len(data) >= 12 and data[4:8] == b"ftyp"


def wav_tone(seconds: float = 1.0, *, rate: int = 16000, frequency: float = 440.0) -> bytes:
    """A real mono 16-bit PCM WAV file holding a sine tone (RIFF/WAVE, canonical header)."""
    if not 0 < seconds <= 30:
        raise ValueError(f"seconds must be in (0, 30], got {seconds!r}")
    count = int(seconds * rate)
    amplitude = 0.3 * 32767
    samples = bytearray()
    for i in range(count):
        value = int(amplitude * math.sin(2 * math.pi * frequency * i / rate))
        samples += struct.pack("<h", value)
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt_chunk = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    data_chunk = b"data" + struct.pack("<I", len(samples)) + bytes(samples)
    return header + fmt_chunk + data_chunk
