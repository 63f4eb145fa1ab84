"""Silent speech in the two compressed containers OpenAI documents: Ogg Opus and AAC in ADTS.

OpenAI's text-to-speech guide names them: ``opus`` is Opus in Ogg, ``aac`` is AAC in ADTS.
Both are built by hand, without a codec, from packets that decode to digital silence:

- Ogg Opus (RFC 7845 over RFC 3533): an ``OpusHead`` page, an ``OpusTags`` page, then audio
  pages of one-byte-TOC CELT-only 20 ms frames whose range-coded payload sets CELT's silence
  flag (RFC 6716 sections 3.1 and 4.3); granule positions count 48 kHz samples, and the last
  page trims the stream to the exact length (RFC 7845 section 4.4).
- ADTS (ISO/IEC 14496-3 section 1.A.2, as ISO/IEC 13818-7): AAC-LC, 24 kHz, mono; each frame
  holds one raw data block of 1024 samples: a single channel element with ``max_sfb`` 0 (no
  spectral data at all, hence silence) and the END element.

Lengths are given in samples at the speech rate (24 kHz), so these formats last exactly as long
as the wav and pcm answers for the same text.

Must not: do I/O, or choose a length (the caller applies the text length rule).
"""

from __future__ import annotations

import math
import struct

__all__ = ["adts_aac_bytes", "ogg_crc", "ogg_opus_bytes"]

_SPEECH_RATE = 24_000
# Opus always counts time at 48 kHz, whatever the input rate (RFC 7845 section 4).
_OPUS_RATE = 48_000
_FRAME_48K = 960  # one 20 ms frame
# TOC byte (RFC 6716 section 3.1): config 31 (CELT-only, fullband, 20 ms), mono, code 0 (one
# frame). Payload 0xFF 0xFE: the range coder reads CELT's first symbol, the silence flag
# (section 4.3, Table 56), as 1; libopus emits exactly these bytes for digital silence.
_SILENT_OPUS_PACKET = bytes((31 << 3, 0xFF, 0xFE))
# The pre-skip libopus writes (its look-ahead at 48 kHz). Decoders drop it from the start and
# subtract it from every granule position (RFC 7845 section 4.2), so the length stays exact.
_PRE_SKIP = 312
_PACKETS_PER_PAGE = 50  # one second per page; a page holds at most 255 lacing values

_CONTINUED, _BOS, _EOS = 0x01, 0x02, 0x04


def _ogg_crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


_OGG_CRC = _ogg_crc_table()


def ogg_crc(data: bytes) -> int:
    """RFC 3533 section 6: CRC-32, polynomial 0x04C11DB7, initial 0, no reflection, no final XOR
    (not zlib's CRC-32), over the whole page with its CRC field set to zero."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC[(crc >> 24) ^ byte]
    return crc


def _ogg_page(packets: list[bytes], flags: int, granule: int, serial: int, sequence: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        # A packet is coded as 255-byte segments plus one shorter (possibly empty) segment.
        lacing += b"\xff" * (len(packet) // 255) + bytes((len(packet) % 255,))
    if len(lacing) > 255:
        raise ValueError(f"{len(lacing)} lacing values do not fit one Ogg page (at most 255)")
    header = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0)
    page = header + bytes((len(lacing),)) + bytes(lacing) + b"".join(packets)
    return page[:22] + struct.pack("<I", ogg_crc(page)) + page[26:]


def ogg_opus_bytes(samples: int, serial: int) -> bytes:
    """An Ogg Opus stream (mono) of ``samples`` 24 kHz samples of silence, as RFC 7845 lays out.

    ``serial`` is the logical stream's serial number (any 32-bit value; deterministic here).
    """
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples!r}")
    serial &= 0xFFFFFFFF
    length = samples * (_OPUS_RATE // _SPEECH_RATE)
    # RFC 7845 section 5.1: version 1, channels, pre-skip, input rate (informational),
    # output gain 0, channel mapping family 0 (mono or stereo, no mapping table).
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _PRE_SKIP, _SPEECH_RATE, 0, 0)
    vendor = b"parity reference server"
    # Section 5.2: vendor string, then the number of user comments (none).
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    # Section 3: the ID header alone on the first page (BOS), the comment header ending its
    # page, audio on the pages after; header pages carry granule position 0.
    out = bytearray(_ogg_page([head], _BOS, 0, serial, 0))
    out += _ogg_page([tags], 0, 0, serial, 1)
    count = max(1, math.ceil((_PRE_SKIP + length) / _FRAME_48K))
    sequence, done = 2, 0
    while done < count:
        on_page = min(_PACKETS_PER_PAGE, count - done)
        done += on_page
        last = done == count
        # Granule position: samples decoded up to the end of the page's last packet, pre-skip
        # included; on the EOS page it may fall short of that, trimming the end (section 4.4).
        granule = _PRE_SKIP + length if last else done * _FRAME_48K
        flags = _EOS if last else 0
        out += _ogg_page([_SILENT_OPUS_PACKET] * on_page, flags, granule, serial, sequence)
        sequence += 1
    return bytes(out)


# ADTS fixed + variable header, protection_absent=1 (7 bytes, no CRC).
_ADTS_HEADER = 7
_AAC_LC = 2  # audio object type; the header stores it minus one
_SAMPLING_INDEX_24K = 6  # ISO/IEC 14496-3 Table 1.18: index 6 is 24000 Hz
_MONO = 1  # channel_configuration 1: one single channel element
_FRAME_SAMPLES = 1024  # AAC-LC long block


def _silent_raw_data_block() -> bytes:
    # raw_data_block() (ISO/IEC 14496-3 section 4.4.2.1) for mono: one SCE, then END.
    fields = (
        (0, 3),  # id_syn_ele: ID_SCE
        (0, 4),  # element_instance_tag
        (140, 8),  # global_gain: any value; with no bands it scales nothing
        (0, 1),  # ics_info: ics_reserved_bit
        (0, 2),  # window_sequence: ONLY_LONG_SEQUENCE
        (1, 1),  # window_shape: KBD
        (0, 6),  # max_sfb 0: no section, scale factor or spectral data follows (silence)
        (0, 1),  # predictor_data_present
        (0, 1),  # pulse_data_present
        (0, 1),  # tns_data_present
        (0, 1),  # gain_control_data_present
        (7, 3),  # id_syn_ele: ID_END
    )
    bits = 0
    width = 0
    for value, size in fields:
        bits = (bits << size) | value
        width += size
    pad = -width % 8  # byte_alignment()
    return (bits << pad).to_bytes((width + pad) // 8, "big")


_SILENT_BLOCK = _silent_raw_data_block()


def _adts_header(frame_length: int) -> bytes:
    bits = 0
    for value, size in (
        (0xFFF, 12),  # syncword
        (0, 1),  # ID: MPEG-4
        (0, 2),  # layer
        (1, 1),  # protection_absent: no CRC
        (_AAC_LC - 1, 2),  # profile_ObjectType
        (_SAMPLING_INDEX_24K, 4),  # sampling_frequency_index
        (0, 1),  # private_bit
        (_MONO, 3),  # channel_configuration
        (0, 1),  # original_copy
        (0, 1),  # home
        (0, 1),  # copyright_identification_bit
        (0, 1),  # copyright_identification_start
        (frame_length, 13),  # aac_frame_length: header included
        (0x7FF, 11),  # adts_buffer_fullness: 0x7FF signals variable rate
        (0, 2),  # number_of_raw_data_blocks_in_frame minus one
    ):
        bits = (bits << size) | value
    return bits.to_bytes(_ADTS_HEADER, "big")


def adts_aac_bytes(samples: int) -> bytes:
    """ADTS frames of silent AAC-LC, 24 kHz mono, covering ``samples`` samples (rounded up to
    whole 1024-sample frames, at least one)."""
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples!r}")
    frame = _adts_header(_ADTS_HEADER + len(_SILENT_BLOCK)) + _SILENT_BLOCK
    return frame * max(1, math.ceil(samples / _FRAME_SAMPLES))
