"""What the importer computes from a recording's audio, once: checksum, size, duration, the
waveform peaks per channel, and the browser copy (pydub, which runs Debian's ffmpeg).

Everything here blocks (file reads, ffmpeg): the importer runs it in a worker, never on the
event loop.  Peaks are the loudest sample of each of ``PEAKS`` equal slices of a channel,
scaled to 0-255, so the player draws the waveform without decoding the file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydub import AudioSegment

PEAKS = 800  # slices per channel: one per pixel of a wide player
CHUNK = 1 << 20
BrowserFormat = Literal["opus", "mp3"]
#: ffmpeg settings of each browser format (MP3 at 24 kHz: wide-band speech, >= 16 kHz).
EXPORT: dict[str, tuple[str, str, list[str]]] = {
    "opus": ("opus", "libopus", ["-b:a", "32k", "-ar", "48000"]),
    "mp3": ("mp3", "libmp3lame", ["-b:a", "48k", "-ar", "24000"]),
}


@dataclass(frozen=True, slots=True)
class FileFacts:
    """A file's size and SHA-256 (hex)."""

    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class AudioFacts:
    """The decoded audio's duration, channel count and peaks per channel."""

    duration_s: float
    channels: int
    peaks: list[list[int]]


def file_facts(path: Path) -> FileFacts:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return FileFacts(size, digest.hexdigest())


def decode(path: Path) -> AudioSegment:
    """The file's audio.  Opened here and closed on return: given a path to a WAV file, pydub
    opens it itself and leaves it open (the voice messages are WAV)."""
    with path.open("rb") as source:
        return AudioSegment.from_file(source, format=path.suffix.lstrip(".") or None)


def stereo(patient: AudioSegment, operator: AudioSegment) -> AudioSegment:
    """Patient left, operator right; the shorter side padded with silence at its end."""
    rate = max(patient.frame_rate, operator.frame_rate)
    left = patient.set_channels(1).set_frame_rate(rate).set_sample_width(2)
    right = operator.set_channels(1).set_frame_rate(rate).set_sample_width(2)
    frames = max(int(left.frame_count()), int(right.frame_count()))
    left, right = (_pad(side, frames) for side in (left, right))
    return AudioSegment.from_mono_audiosegments(left, right)


def _pad(side: AudioSegment, frames: int) -> AudioSegment:
    missing = frames - int(side.frame_count())
    if missing <= 0:
        return side
    silence = b"\x00" * (missing * side.frame_width)
    return side + side._spawn(silence)


def audio_facts(audio: AudioSegment, slices: int = PEAKS) -> AudioFacts:
    duration = float(audio.frame_count()) / audio.frame_rate
    channels = audio.split_to_mono() if audio.channels > 1 else [audio]
    return AudioFacts(duration, audio.channels, [peaks(c, slices) for c in channels])


def peaks(mono: AudioSegment, slices: int = PEAKS) -> list[int]:
    """The loudest sample of each slice, 0-255 (pydub's ``max``: C speed on an hour of
    audio)."""
    frames = int(mono.frame_count())
    if frames == 0:
        return []
    full_scale = float(mono.max_possible_amplitude)
    out = []
    for i in range(min(slices, frames)):
        start, end = frames * i // slices, max(frames * (i + 1) // slices, frames * i // slices + 1)
        loudest = mono.get_sample_slice(start, end).max
        out.append(min(255, round(255 * loudest / full_scale)))
    return out


def export(audio: AudioSegment, target: Path, fmt: BrowserFormat) -> None:
    """Write the browser copy to ``target`` (a temporary name; the caller renames it)."""
    container, codec, parameters = EXPORT[fmt]
    audio.export(str(target), format=container, codec=codec, parameters=parameters).close()
    fsync(target)


def fsync(path: Path) -> None:
    """Make ``path``'s bytes durable before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
