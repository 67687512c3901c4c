"""Real espeak-ng + sox: the prompts are 8 kHz mono 16-bit WAV with speech in them, cached."""

from __future__ import annotations

import array
import asyncio
import shutil
import wave
from pathlib import Path

import pytest

from clinicall.ivr.prompts import PromptText
from clinicall.prompt_build import PromptBuildError, build_prompts

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox")

ITEMS = [
    PromptText("welcome", "uk", "Вітаємо у медичному центрі."),
    PromptText("welcome", "ru", "Добро пожаловать в медицинский центр."),
    PromptText("welcome", "en", "Welcome to the medical centre."),
]


def _peak(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
        samples = array.array("h", frames)
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), max(map(abs, samples))


async def test_builds_asterisk_wav_per_language(tmp_path: Path) -> None:
    paths = await build_prompts(ITEMS, tmp_path / "sounds", cache_dir=tmp_path / "cache")
    assert paths == [tmp_path / "sounds" / "clinicall" / lang / "welcome.wav"
                     for lang in ("uk", "ru", "en")]
    for path in paths:
        rate, channels, width, peak = _peak(path)
        assert (rate, channels, width) == (8000, 1, 2)
        assert peak > 1000, f"{path} is silent"
    assert paths[0].read_bytes() != paths[1].read_bytes()


async def test_second_run_uses_the_cache(tmp_path: Path) -> None:
    seen: list[tuple[str, bool]] = []
    await build_prompts(ITEMS, tmp_path / "a", cache_dir=tmp_path / "cache")

    def progress(done: int, total: int, item: PromptText, cached: bool) -> None:
        seen.append((item.language, cached))

    changed = [*ITEMS[:2], PromptText("welcome", "en", "Welcome to the clinic.")]
    await build_prompts(changed, tmp_path / "b", cache_dir=tmp_path / "cache", progress=progress)
    assert sorted(seen) == [("en", False), ("ru", True), ("uk", True)]
    assert (tmp_path / "b/clinicall/uk/welcome.wav").read_bytes() == (
        tmp_path / "a/clinicall/uk/welcome.wav").read_bytes()
    assert len(list((tmp_path / "cache").glob("*.wav"))) == 4
    assert not list((tmp_path / "cache").glob("*.part.wav"))


async def test_unknown_language_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PromptBuildError, match="no voice for language 'de'"):
        await build_prompts([PromptText("x", "de", "Hallo")], tmp_path, cache_dir=tmp_path / "c")


async def test_a_recorded_prompt_replaces_the_spoken_one(tmp_path: Path) -> None:
    """The clinic's own recording (any rate, stereo) becomes the 8 kHz prompt; others are spoken."""
    recorded = tmp_path / "recorded"
    (recorded / "uk").mkdir(parents=True)
    tone = recorded / "uk" / "welcome.wav"
    synth = await asyncio.create_subprocess_exec(
        "sox", "-n", "-r", "44100", "-c", "2", str(tone), "synth", "1.5", "sine", "440")
    assert await synth.wait() == 0
    paths = await build_prompts(ITEMS, tmp_path / "sounds", cache_dir=tmp_path / "cache",
                                recorded=recorded)
    with wave.open(str(paths[0])) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert abs(w.getnframes() / 8000 - 1.5) < 0.05  # the recording, not 2-3 s of speech
    spoken = await build_prompts(ITEMS[:1], tmp_path / "spoken", cache_dir=tmp_path / "cache")
    assert paths[0].read_bytes() != spoken[0].read_bytes()
    assert _peak(paths[1])[3] > 1000  # ru has no recording: still spoken
