"""A recording is decoded once to be measured: the pre-check before publishing (nothing to
normalise?) runs the analysis the audio work needs, and the audio work takes it from there, in the
same run, or from the build cache in a later one while the file is unchanged. The ffmpeg runs are
counted where they start (`ffmpeg.popen`)."""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

import pytest

from media_pipeline.audio import analysis, ffmpeg
from media_pipeline.model import AudioSettings
from media_pipeline.publishing import publish as publishing
from media_pipeline_demo import synth

from audio_support import reads, run_cli
from conftest import SHOW_TOML
from publish_support import load

NOW = datetime(2026, 5, 1, tzinfo=timezone.utc)
# trims silence and levels: the analysis carries silencedetect's bounds and the levelling envelope
LEVELLED = SHOW_TOML + "trim_silence = true\nmax_loudness_range = 8.0\nhighpass = 80\n"


@pytest.fixture
def new_process(monkeypatch):
    """Forget what this process measured, as a later run starts with nothing in memory."""
    def forget() -> None:
        monkeypatch.setattr(analysis, "_kept", OrderedDict())
    forget()
    return forget


def decodes(started: list[tuple[list[str], int]], source: Path) -> dict[str, int]:
    """The runs that read `source`, by kind: measuring (ebur128 over the analysis chain, nothing
    written), calibrating (the encode graph with its limiter into ebur128, no encoder), encoding;
    a probe (`-t 0`: the header read, nothing decoded) is no decode."""
    kinds = {"measure": 0, "calibrate": 0, "encode": 0, "other": 0}
    for argv, _ in started:
        if str(source) not in reads(argv) or any(a == "-t" and b == "0" for a, b in zip(argv, argv[1:])):
            continue
        text = " ".join(argv)
        if "-c:a" in argv:
            kinds["encode"] += 1
        elif "alimiter" in text:
            kinds["calibrate"] += 1
        elif "ebur128" in text:
            kinds["measure"] += 1
        else:
            kinds["other"] += 1
    return kinds


def _age(path: Path) -> None:
    then = time.time() - 3600
    os.utime(path, (then, then))


def _publish(root: Path):
    ws, catalog = load(root)
    report = publishing.publish(ws, catalog, catalog.episodes["testi"], now=NOW)
    assert report.ok, report.failures
    return report


@pytest.mark.parametrize("aged", [False, True], ids=["just-written", "settled"])
@pytest.mark.parametrize("toml", [SHOW_TOML, LEVELLED], ids=["plain", "trimmed-and-levelled"])
def test_a_first_publish_measures_a_new_recording_once_and_encodes_it_once(workspace, started, new_process, aged,
                                                                           toml) -> None:
    """Just written (inside the racy window: nothing may be kept in the build cache) or settled,
    the pre-check's analysis is the one the audio work uses."""
    workspace.show(toml=toml)
    workspace.episode("001", seconds=8)
    source = workspace.root / "media" / "testi" / "001.wav"
    if aged:
        _age(source)
    _publish(workspace.root)
    assert decodes(started, source) == {"measure": 1, "calibrate": decodes(started, source)["calibrate"],
                                        "encode": 1, "other": 0}, started
    assert (workspace.root / "public" / "testi").is_dir()


def test_check_with_a_build_cache_leaves_publish_nothing_to_measure(workspace, started, new_process) -> None:
    """`check` keeps its analysis in an existing build cache; a later publish (a new process: the
    memory of this one forgotten) reads it there and decodes the recording only to encode it. A
    recording changed since is measured again."""
    workspace.show(toml=LEVELLED)
    workspace.episode("001", seconds=8)
    source = workspace.root / "media" / "testi" / "001.wav"
    _age(source)
    build = workspace.root / ".media-pipeline" / "cache"
    build.mkdir(parents=True)
    checked = run_cli(workspace.root, "check", "testi/001")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert decodes(started, source)["measure"] == 1
    assert len(list((build / "_analysis").glob("*.json"))) == 1
    new_process()
    del started[:]
    _publish(workspace.root)
    assert decodes(started, source) == {"measure": 0, "calibrate": decodes(started, source)["calibrate"],
                                        "encode": 1, "other": 0}, started

    synth.speech(source, 8.0, level_lufs=-30, channels=1, seed=7)  # a new take
    _age(source)
    new_process()
    del started[:]
    _publish(workspace.root)
    assert decodes(started, source)["measure"] == 1 and decodes(started, source)["encode"] == 1


def test_check_without_a_build_cache_creates_none(workspace, new_process) -> None:
    workspace.show(toml=LEVELLED)
    workspace.episode("001", seconds=4)
    _age(workspace.root / "media" / "testi" / "001.wav")
    checked = run_cli(workspace.root, "check", "testi/001")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not (workspace.root / ".media-pipeline").exists()


def test_a_kept_analysis_is_the_measured_one_and_a_changed_file_is_measured_again(tmp_path, new_process,
                                                                                   started, caplog) -> None:
    """What a later run reads back from the build cache is, number for number, what the analysis
    measured (the levelling envelope and the trimmed bounds included); a rewritten file is read
    again; an unreadable memo only means measuring again."""
    source = synth.badly_levelled(tmp_path / "talk.wav", 40.0)
    _age(source)
    settings = AudioSettings(trim_silence=True, max_loudness_range=8.0, highpass_hz=80)
    memo = tmp_path / "memo"
    measured = analysis.recording(source, settings, memo_dir=memo)
    assert measured.levelling is not None and measured.levelling.points
    assert measured == analysis.analyse(source, settings, trim=True, level=True)
    new_process()
    del started[:]
    with caplog.at_level(logging.INFO, logger="media_pipeline"):
        assert analysis.recording(source, settings, memo_dir=memo) == measured
    assert started == [] and "kept from an earlier run" in caplog.text
    # other settings shape another analysis
    assert analysis.recording(source, AudioSettings(), memo_dir=memo).levelling is None
    assert len(started) == 1

    for file in memo.glob("*.json"):
        file.write_text("{not json")
    new_process()
    del started[:]
    assert analysis.recording(source, settings, memo_dir=memo) == measured and len(started) == 1
    new_process()
    del started[:]
    assert analysis.recording(source, settings, memo_dir=memo) == measured and started == []  # kept again

    synth.speech(source, 6.0, level_lufs=-20, channels=1)
    _age(source)
    del started[:]
    again = analysis.recording(source, settings, memo_dir=memo)
    assert len(started) == 1 and again != measured


def test_a_recording_silent_once_trimmed_is_refused_before_audio_work_with_one_line(workspace, new_process) -> None:
    """0.5 s of tone in 6 s of silence, in a show that trims silence: `check` and `publish` say so
    in the same line, read off the one analysis."""
    workspace.show(toml=SHOW_TOML + "trim_silence = true\n")
    workspace.episode("001", seconds=4)
    source = workspace.root / "media" / "testi" / "002.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "sine=f=440:d=0.5", "-af", "apad=whole_dur=6,volume=-20dB", "-ac", "1",
                "-y", source], what=source)
    workspace.write("episodes/testi/002.md", "---\ntitle: \"Jakso 2\"\npublish_at: 2026-01-16T09:00:00+02:00\n"
                    "source: media/testi/002.wav\n---\n\nHiljaista.\n")
    checked = run_cli(workspace.root, "check", "testi/002")
    line = "episodes/testi/002.md: source: media/testi/002.wav: is silent once silence is trimmed"
    assert checked.returncode == 1 and line in checked.stdout + checked.stderr, checked.stdout + checked.stderr
    published = run_cli(workspace.root, "publish", "--show", "testi", "--now", "2026-03-10T12:00", "--no-notify")
    errors = [x for x in published.stderr.splitlines() if x.startswith("error:")]
    assert published.returncode == 1 and len(errors) == 1 and line in errors[0], published.stderr
    assert list((workspace.root / "public" / "testi").glob("001*")) and not list(
        (workspace.root / "public" / "testi").glob("002*"))
