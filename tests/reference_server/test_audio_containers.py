"""Silent Ogg Opus and ADTS AAC speech: structure read back by hand, then real decoders.

The structural tests parse the bytes with code written here from RFC 3533 / RFC 7845 and
ISO/IEC 14496-3 (not with the module's own helpers) and prove they catch a broken page or
frame; the decoder tests run ffprobe/ffmpeg when installed and skip, saying so, when not.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from reference_server.providers.audio_containers import adts_aac_bytes, ogg_crc, ogg_opus_bytes
from reference_server.providers.media import (
    AUDIO_SAMPLE_RATE,
    SPEECH_MEDIA_TYPES,
    audio_seconds,
    speech_bytes,
)
from reference_server.validation.schemas import load_request_schemas

TEXTS = ["Hi.", "Hello from parity.", "x" * 700, "y" * 4096]
TEXT_IDS = ["shortest", "sentence", "ten-pages", "longest"]


def _bitwise_ogg_crc(data: bytes) -> int:
    # RFC 3533 section 6 again, bit by bit: polynomial 0x04C11DB7, initial 0, no reflection.
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else crc << 1
    return crc & 0xFFFFFFFF


@dataclass(frozen=True)
class Page:
    flags: int
    granule: int
    serial: int
    sequence: int
    packets: list[bytes]


def _pages(data: bytes) -> list[Page]:
    """Split an Ogg stream into pages, checking each page's CRC and that packets end on it."""
    pages = []
    pos = 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS", f"no capture pattern at {pos}"
        version, flags, granule, serial, sequence, crc, count = struct.unpack_from(
            "<BBqIIIB", data, pos + 4
        )
        assert version == 0
        lacing = data[pos + 27 : pos + 27 + count]
        end = pos + 27 + count + sum(lacing)
        page = data[pos:end]
        assert len(page) == end - pos, "truncated page"
        zeroed = page[:22] + b"\x00\x00\x00\x00" + page[26:]
        assert _bitwise_ogg_crc(zeroed) == crc, f"CRC mismatch on page {sequence}"
        packets, start, size = [], pos + 27 + count, 0
        for value in lacing:
            size += value
            if value < 255:
                packets.append(data[start : start + size])
                start, size = start + size, 0
        assert size == 0, "a packet continues past its page (not expected here)"
        pages.append(Page(flags, granule, serial, sequence, packets))
        pos = end
    return pages


def test_ogg_crc_matches_the_known_check_value() -> None:
    # CRC-32 with these parameters (the POSIX cksum CRC without its final XOR) of "123456789".
    assert ogg_crc(b"123456789") == 0x89A1897F == _bitwise_ogg_crc(b"123456789")


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_ogg_opus_pages_follow_rfc_7845(text: str) -> None:
    seconds = audio_seconds(text)
    samples = int(seconds * AUDIO_SAMPLE_RATE)
    pages = _pages(speech_bytes("opus", seconds, 0xDEADBEEF))
    assert [p.sequence for p in pages] == list(range(len(pages)))
    assert {p.serial for p in pages} == {0xDEADBEEF}
    head, tags, *audio = pages
    # ID header alone on the BOS page; comment header on its own page; both at granule 0.
    assert (head.flags, head.granule, len(head.packets)) == (0x02, 0, 1)
    magic, version, channels, pre_skip, rate, gain, family = struct.unpack(
        "<8sBBHIhB", head.packets[0]
    )
    assert (magic, version, channels, rate, gain, family) == (b"OpusHead", 1, 1, 24000, 0, 0)
    assert (tags.flags, tags.granule, len(tags.packets)) == (0x00, 0, 1)
    assert tags.packets[0].startswith(b"OpusTags")
    (vendor_length,) = struct.unpack_from("<I", tags.packets[0], 8)
    assert struct.unpack_from("<I", tags.packets[0], 12 + vendor_length) == (0,)
    assert audio, "no audio page"
    # Only the last page ends the stream; granules grow and count 48 kHz samples.
    assert [p.flags for p in audio] == [0] * (len(audio) - 1) + [0x04]
    decoded = 0
    for page in audio:
        for packet in page.packets:
            assert packet[0] == 0xF8, "TOC: CELT-only fullband 20 ms, mono, one frame"
            decoded += 960
        if page is not audio[-1]:
            assert page.granule == decoded
    final = audio[-1].granule
    assert final - pre_skip == 2 * samples, "playable length (granule - pre-skip) at 48 kHz"
    # End trimming (RFC 7845 section 4.4): less than one frame, on the EOS page only.
    assert 0 <= decoded - final < 960
    assert final > (audio[-2].granule if len(audio) > 1 else 0)


def test_ogg_page_reader_catches_a_broken_crc() -> None:
    data = bytearray(ogg_opus_bytes(24_000, 7))
    data[-1] ^= 0x01
    with pytest.raises(AssertionError, match="CRC mismatch"):
        _pages(bytes(data))


def _adts_frames(data: bytes) -> list[dict[str, int]]:
    """Walk ADTS frames (ISO/IEC 14496-3 section 1.A.2.2) by their frame length fields."""
    frames = []
    pos = 0
    while pos < len(data):
        header = int.from_bytes(data[pos : pos + 7], "big")
        fields = {}
        shift = 56
        for name, size in (
            ("sync", 12),
            ("id", 1),
            ("layer", 2),
            ("protection_absent", 1),
            ("profile", 2),
            ("sampling_index", 4),
            ("private", 1),
            ("channels", 3),
            ("original", 1),
            ("home", 1),
            ("copyright_bit", 1),
            ("copyright_start", 1),
            ("length", 13),
            ("fullness", 11),
            ("blocks", 2),
        ):
            shift -= size
            fields[name] = (header >> shift) & ((1 << size) - 1)
        assert fields["sync"] == 0xFFF, f"lost ADTS sync at byte {pos}"
        assert pos + fields["length"] <= len(data), f"frame at {pos} runs past the end"
        block = data[pos + 7 : pos + fields["length"]]
        bits = int.from_bytes(block, "big")
        width = len(block) * 8
        # raw_data_block: ID_SCE (0), tag, global_gain, ics_info..., max_sfb at bits 19..24.
        fields["element"] = bits >> (width - 3)
        fields["max_sfb"] = (bits >> (width - 25)) & 0x3F
        fields["end"] = (bits >> (width - 32)) & 0x7  # after the four 'present' flags
        frames.append(fields)
        pos += fields["length"]
    return frames


@pytest.mark.parametrize("text", TEXTS, ids=TEXT_IDS)
def test_adts_frames_are_silent_aac_lc_24k_mono(text: str) -> None:
    seconds = audio_seconds(text)
    samples = int(seconds * AUDIO_SAMPLE_RATE)
    frames = _adts_frames(speech_bytes("aac", seconds, 1))
    assert len(frames) == math.ceil(samples / 1024), "1024 samples per frame, rounded up"
    for frame in frames:
        assert (frame["layer"], frame["protection_absent"], frame["blocks"]) == (0, 1, 0)
        assert frame["profile"] == 1, "profile_ObjectType 1 is AAC LC"
        assert frame["sampling_index"] == 6, "index 6 is 24000 Hz"
        assert frame["channels"] == 1
        assert (frame["element"], frame["max_sfb"], frame["end"]) == (0, 0, 7)


def test_adts_walker_catches_a_wrong_frame_length() -> None:
    data = bytearray(adts_aac_bytes(4096))
    data[4] ^= 0x20  # aac_frame_length's high bits: the next frame no longer starts on a sync
    with pytest.raises(AssertionError, match=r"ADTS sync|past the end"):
        _adts_frames(bytes(data))


def test_every_spec_speech_format_is_produced() -> None:
    # The server refuses only what the spec's enum refuses, so it must produce all the rest.
    schema = load_request_schemas()["CreateSpeechRequest"].explainer.schema
    assert set(SPEECH_MEDIA_TYPES) == set(schema["properties"]["response_format"]["enum"])


_DECODERS = shutil.which("ffprobe") and shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    not _DECODERS, reason="ffprobe/ffmpeg not installed (apt-get install ffmpeg to run it)"
)


@needs_ffmpeg
@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "frame"),
    [("opus", "opus", 48_000, 1), ("aac", "aac", 24_000, 1024)],
    ids=["opus", "aac"],
)
@pytest.mark.parametrize("text", TEXTS[:3], ids=TEXT_IDS[:3])
def test_real_decoders_read_silence_of_the_right_length(
    tmp_path: Path, fmt: str, codec: str, rate: int, frame: int, text: str
) -> None:
    seconds = audio_seconds(text)
    path = tmp_path / f"speech.{fmt}"
    path.write_bytes(speech_bytes(fmt, seconds, 99))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert probe.stderr == ""
    (stream,) = json.loads(probe.stdout)["streams"]
    assert (stream["codec_name"], int(stream["sample_rate"]), stream["channels"]) == (
        codec,
        rate,
        1,
    )
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    assert decoded.stderr == b"", decoded.stderr.decode(errors="replace")
    count = len(decoded.stdout) // 2
    expected = int(seconds * AUDIO_SAMPLE_RATE) * rate // AUDIO_SAMPLE_RATE
    # Opus trims to the sample (RFC 7845 section 4.4); ADTS carries whole 1024-sample frames.
    assert expected <= count < expected + frame * rate // AUDIO_SAMPLE_RATE
    assert decoded.stdout == bytes(len(decoded.stdout)), "silence"


@needs_ffmpeg
def test_ffmpeg_rejects_a_broken_ogg_crc(tmp_path: Path) -> None:
    # The decoder test above can fail: ffmpeg reports a page whose CRC does not match.
    data = bytearray(ogg_opus_bytes(48_000, 5))
    data[-1] ^= 0x01
    path = tmp_path / "broken.opus"
    path.write_bytes(bytes(data))
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"],
        capture_output=True,
        check=False,  # the exit status varies by ffmpeg version; the message does not
        timeout=30,
    )
    assert b"CRC mismatch" in decoded.stderr
