"""Recordings built to defeat an estimate: repeating level changes, long loud and quiet passages, a
noise floor with hum (`synth.adversarial`). Every rendition lands on the FIRST encode."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from media_pipeline.audio import process
from media_pipeline_demo import synth

from audio_support import add_episode, independent_loudness, load, make_workspace


@pytest.mark.slow
def test_the_20_minute_looped_webinar_lands_on_target_with_one_encode_per_rendition(tmp_path: Path, started,
                                                                                      caplog) -> None:
    """The recording that was refused before (`w20.mp4 measured -15.0 LUFS and -2.0 dBTP after
    encoding, outside -16 ± 0.5 LU`): a 3-minute programme looped to 20 minutes, its level changes
    repeating every 180 s, as a webinar (-16 LUFS, AAC in MP4 plus MP3), processed as publishing
    processes it. The encodes are counted at the ffmpeg runner: one run writes both renditions."""
    source = synth.adversarial(tmp_path / "w20.mp4", 1200.0, loop=180.0)
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "001", source)
    ws, show, episode = load(root, "testi/001")
    caplog.set_level(logging.INFO, logger="media_pipeline")
    del started[:]  # making the recording encoded AAC too: count from here
    result = process.process_episode(ws, show, episode)
    # an encode run names its encoder after -c:a (a verifier reads a pipe with -f aac)
    per_rendition = {codec: sum(any(a == "-c:a" and b == codec for a, b in zip(argv, argv[1:])) for argv, _ in started)
                     for codec in ("aac", "libmp3lame")}
    assert per_rendition == {"aac": 1, "libmp3lame": 1}, per_rendition
    assert not [r for r in caplog.records if r.getMessage().startswith("correcting")]
    assert [r.path.suffix for r in result.renditions] == [".mp4", ".mp3"]
    for rendition in result.renditions:
        measured = independent_loudness(rendition.path)  # ebur128=peak=true, a separate reading
        assert abs(measured.integrated - show.audio.target_lufs) <= 0.5, (rendition.path.name, measured)
        assert measured.true_peak <= show.audio.true_peak_db, (rendition.path.name, measured)
