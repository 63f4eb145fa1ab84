"""conformance.media: image sizes from headers, audio containers by magic bytes, WAV, MP4."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from conformance.media import (
    AUDIO_FORMATS,
    AUDIO_MEDIA_TYPES,
    ImageInfo,
    audio_problem,
    is_mp4,
    sniff_audio,
    sniff_image,
    wav_tone,
)


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress((b"\x00" + b"\x00\x00\x00" * width) * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _webp(kind: bytes, payload: bytes) -> bytes:
    chunk = kind + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _vp8(width: int, height: int) -> bytes:
    frame = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 4
    return _webp(b"VP8 ", frame)


def _vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _webp(b"VP8L", b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 5)


def _vp8x(width: int, height: int) -> bytes:
    payload = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return _webp(b"VP8X", payload)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_png(64, 32), ImageInfo("png", 64, 32)),
        (_jpeg(1024, 768), ImageInfo("jpeg", 1024, 768)),
        (_vp8(300, 200), ImageInfo("webp", 300, 200)),
        (_vp8l(1024, 1024), ImageInfo("webp", 1024, 1024)),
        (_vp8x(1536, 1024), ImageInfo("webp", 1536, 1024)),
    ],
    ids=["png", "jpeg", "webp-vp8", "webp-vp8l", "webp-vp8x"],
)
def test_media_sniff_image_reads_format_and_size(data: bytes, expected: ImageInfo) -> None:
    assert sniff_image(data) == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a" + b"\x00" * 30, _png(8, 8)[:20], b"\xff\xd8\xff\xd9", b'{"b64_json": 1}'],
    ids=["empty", "gif", "truncated-png", "jpeg-without-frame", "json"],
)
def test_media_sniff_image_rejects_other_bytes(data: bytes) -> None:
    assert sniff_image(data) is None


def test_media_image_size_is_spelled_like_the_size_parameter() -> None:
    assert ImageInfo("png", 1024, 1536).size == "1024x1536"


_OPUS_PAGE = b"OggS\x00\x02" + b"\x00" * 21 + b"\x13" + b"OpusHead\x01\x01" + b"\x00" * 9
_AUDIO = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + b"\x00" * 20,
    "opus": _OPUS_PAGE,
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 10,
    "flac": b"fLaC\x80\x00\x00\x22" + b"\x00" * 34,
    "wav": wav_tone(0.1),
}


@pytest.mark.parametrize("fmt", list(_AUDIO), ids=list(_AUDIO))
def test_media_sniff_audio_names_each_container(fmt: str) -> None:
    assert sniff_audio(_AUDIO[fmt]) == fmt
    assert audio_problem(fmt, _AUDIO[fmt]) is None  # type: ignore[arg-type]


def test_media_sniff_audio_tells_mpeg_frames_from_adts_and_other_ogg() -> None:
    assert sniff_audio(b"\xff\xfb\x90\x64" + b"\x00" * 8) == "mp3"
    assert sniff_audio(b"\xff\xf9\x50\x80" + b"\x00" * 8) == "aac"
    assert sniff_audio(b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis") == "ogg"
    assert sniff_audio(b"\x00\x01\x02\x03") is None


def test_media_audio_problem_names_the_wrong_container() -> None:
    problem = audio_problem("opus", _AUDIO["wav"])
    assert problem is not None
    assert "opus" in problem
    assert "wav" in problem
    assert audio_problem("mp3", b"") == "the body is empty"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x01" * 100, None),
        (wav_tone(0.1), "wav file"),
        (b"\x00\x01\x02", "even byte count"),
        (b'{"audio": "x"}', "JSON"),
    ],
    ids=["raw", "wav", "odd", "json"],
)
def test_media_pcm_must_be_raw_whole_samples(data: bytes, expected: str | None) -> None:
    problem = audio_problem("pcm", data)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert expected in problem


def test_media_media_types_cover_every_speech_format() -> None:
    assert set(AUDIO_MEDIA_TYPES) == set(AUDIO_FORMATS)
    assert "audio/mpeg" in AUDIO_MEDIA_TYPES["mp3"]


def test_media_wav_tone_is_a_real_wav_file() -> None:
    with wave.open(io.BytesIO(wav_tone(0.5, rate=8000)), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 4000
        assert any(wav.readframes(100))


@pytest.mark.parametrize("seconds", [0, -1, 31], ids=["zero", "negative", "too-long"])
def test_media_wav_tone_validates_its_length(seconds: float) -> None:
    with pytest.raises(ValueError, match=repr(seconds)):
        wav_tone(seconds)


def test_media_is_mp4_needs_an_ftyp_box() -> None:
    assert is_mp4(struct.pack(">I", 24) + b"ftypisom" + b"\x00" * 12)
    assert not is_mp4(b"GIF89a" + b"\x00" * 10)
    assert not is_mp4(b"")
