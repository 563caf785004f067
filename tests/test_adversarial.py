"""Recordings built to defeat an estimate: repeating level changes, long loud and quiet passages, a
noise floor with hum (`synth.adversarial`), and speech another program made. Every rendition lands
on the FIRST encode."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg, process
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


# Two synthetic voices (espeak-ng's formant speech: buzzy, with more energy near the top of the
# band than the project's own noise-based speech), one 10 dB quieter, the first also 8 dB louder,
# long pauses, 20 s of soft chords, a -62 dBFS noise floor with 50 Hz hum; 81 s looped to 20 min.
_VOICES = (("fi", 150, 35, "Tervetuloa webinaariin. Tänään puhumme tekoälystä julkisissa palveluissa ja siitä, "
            "miten ihmiskeskeisyys näkyy arjessa. Kysymyksiä voi esittää chatissa koko tilaisuuden ajan."),
           ("en", 170, 70, "Thank you. I would like to add that the citizens should be at the centre of every "
            "design decision, and that we measure outcomes, not outputs."),
           ("sv", 140, 50, "Det här är en kort kommentar på svenska om tillgänglighet och öppenhet."))


def _spoken_programme(folder: Path, seconds: float, seed: int) -> Path:
    parts = []
    for i, (voice, speed, pitch, text) in enumerate(_VOICES):
        parts.append(folder / f"voice{i}.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(parts[-1]), text],
                       check=True, timeout=60)
    chords = ";".join(f"sine=f={f}:d=20,volume={v}dB[c{k}]" for k, (f, v) in enumerate(((196, -9), (246.9, -11),
                                                                                         (293.7, -12))))
    silence = "anullsrc=r=48000:cl=stereo:d={}"
    graph = (f"{chords};[c0][c1][c2]amix=inputs=3:normalize=0,volume='0.6+0.4*sin(2*PI*0.5*t)':eval=frame,"
             "aformat=sample_rates=48000:channel_layouts=stereo[music];"
             + "".join(f"[{i}]aresample=48000,aformat=channel_layouts=stereo[v{i}];" for i in range(3))
             + "[v0]asplit=2[a1][a2];[v1]volume=-10dB,asplit=2[b1][b2];[a2]volume=8dB[loud];"
             + "".join(f"{silence.format(d)}[p{k}];" for k, d in enumerate((1.5, 8, 0.7, 2)))
             + "[a1][p0][b1][loud][p1][v2][p2][music][p3][b2]concat=n=10:v=0:a=1,volume=-12dB[speech];"
             f"anoisesrc=c=pink:r=48000:a=0.0012:d=100:seed={seed},aformat=channel_layouts=stereo[floor];"
             "sine=f=50:r=48000:d=100,volume=-66dB,aformat=channel_layouts=stereo[hum];"
             "[speech][floor][hum]amix=inputs=3:normalize=0:duration=first[out]")
    once = folder / "once.wav"
    subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error",
                    *[a for part in parts for a in ("-i", str(part))], "-filter_complex", graph, "-map", "[out]",
                    "-c:a", "pcm_s16le", "-y", str(once)], check=True, timeout=120)
    looped = folder / "spoken.wav"
    subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-stream_loop", "-1",
                    "-i", str(once), "-t", str(seconds), "-c:a", "pcm_s16le", "-y", str(looped)], check=True, timeout=120)
    return looped


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_20_minutes_of_formant_speech_as_a_mono_podcast_land_under_the_ceiling_with_one_encode(
        tmp_path: Path, started, caplog) -> None:
    """Speech made by another program than the project's own, as a 96k mono MP3 podcast: LAME's true
    peaks overshot the limiter by up to 1.56 dB on it, over the 1.5 dB margin the MP3 had, and the
    episode took a second encode. Every encode is counted at the ffmpeg runner."""
    # the noise floor's seed: over 16 seeds LAME's overshoot ranged from 1.06 to 1.51 dB (1.25 on
    # average); with this one it was the 1.51 that put the old margin's encode 0.01 dB over
    source = _spoken_programme(tmp_path, 1200.0, seed=8)
    root = make_workspace(tmp_path / "ws", audio="target_lufs = -19.0\nchannels = 1\nbitrate = 96")
    add_episode(root, "001", source)
    ws, show, episode = load(root, "testi/001")
    caplog.set_level(logging.INFO, logger="media_pipeline")
    del started[:]
    result = process.process_episode(ws, show, episode)
    encodes = sum(any(a == "-c:a" and b == "libmp3lame" for a, b in zip(argv, argv[1:])) for argv, _ in started)
    assert encodes == 1, [r.getMessage() for r in caplog.records if r.getMessage().startswith("correcting")]
    (rendition,) = result.renditions
    measured = independent_loudness(rendition.path)
    assert abs(measured.integrated - show.audio.target_lufs) <= 0.5, measured
    assert measured.true_peak <= show.audio.true_peak_db, measured
