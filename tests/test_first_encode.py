"""Recordings unlike the project's speech model, each made here by its own ffmpeg script, must land
on the target and under the ceiling on the FIRST encode: the limiter calibration, not a
correction, gets them there. A correction is a second encode, logged as "correcting"."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg
from media_pipeline.audio.encode import Output
from media_pipeline.audio.probe import probe
from media_pipeline.audio.process import render
from media_pipeline.model import AudioSettings

from audio_support import independent_loudness

# Speech-like bursts: band-limited noise gated into syllables of about 4 a second.
_SYLLABLES = "volume='0.5+0.5*sin(2*PI*4*t)*gt(sin(2*PI*0.7*t),-0.3)':eval=frame"


def _speech(seconds: float, seed: int) -> str:
    return (f"anoisesrc=color=pink:sample_rate=48000:amplitude=0.5:seed={seed}:duration={seconds},"
            f"bandpass=f=900:width_type=h:w=1400,{_SYLLABLES}")


def _music(seconds: float, level_db: float) -> str:
    """Chords (A minor) and a hi-hat of highpassed noise bursts twice a second, at `level_db`."""
    return (f"sine=f=220:sample_rate=48000:duration={seconds},volume=-8dB[m1];"
            f"sine=f=261.6:sample_rate=48000:duration={seconds},volume=-10dB[m2];"
            f"sine=f=329.6:sample_rate=48000:duration={seconds},volume=-11dB[m3];"
            f"anoisesrc=color=white:sample_rate=48000:amplitude=0.9:seed=7:duration={seconds},"
            "highpass=f=2000,volume='lt(mod(t,0.5),0.03)':eval=frame[hat];"
            f"[m1][m2][m3][hat]amix=inputs=4:normalize=0,volume={level_db}dB")


# name -> (seconds, a lavfi graph that writes [out], what makes it hard)
RECORDINGS = {
    # a clip shorter than two seconds, very quiet: gating has few blocks, the gain is large
    "very short": (1.6, f"{_speech(1.6, 1)},volume=-22dB[out]"),
    # mostly silence: 2 s of speech in every 10 s over a -70 dBFS floor
    "silence heavy": (60.0, f"{_speech(60, 3)},volume='lt(mod(t,10),2)':eval=frame[s];"
                      "anoisesrc=color=pink:sample_rate=48000:amplitude=0.0003:seed=4:duration=60[n];"
                      "[s][n]amix=inputs=2:normalize=0,volume=-8dB[out]"),
    # a level change every 5 s, 12 dB apart, repeating: an even sample would read one level only
    "repeating level changes": (60.0, f"{_speech(60, 5)},volume='if(lt(mod(t,10),5),1,0.25)':eval=frame,"
                                "volume=-10dB[out]"),
    # quiet speech and one hand clap 30 dB over it: the limiter has one peak to take
    "one loud transient": (30.0, f"{_speech(30, 6)},volume=-24dB[s];"
                           "anoisesrc=color=white:sample_rate=48000:amplitude=1:seed=8:duration=30,"
                           "volume='between(t,12,12.01)':eval=frame[clap];[s][clap]amix=inputs=2:normalize=0[out]"),
    # speech pushed into its peaks: a crest of 25 dB that the limiter must work deep into
    "deep limiting": (45.0, f"{_speech(45, 9)},volume='if(lt(mod(t,3),0.05),8,1)':eval=frame,"
                      "volume=-20dB[out]"),
}


def _make(folder: Path, name: str) -> Path:
    seconds, graph = RECORDINGS[name]
    path = folder / (name.replace(" ", "-") + ".wav")
    subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-filter_complex", graph,
                    "-map", "[out]", "-t", str(seconds), "-ac", "2", "-c:a", "pcm_s16le", "-y", str(path)], check=True)
    return path


@pytest.mark.parametrize("name", list(RECORDINGS))
def test_recordings_unlike_speech_land_on_the_first_encode(tmp_path: Path, caplog, name: str) -> None:
    source = _make(tmp_path, name)
    settings = AudioSettings()
    outputs = (Output(tmp_path / "out.mp3", "mp3", settings.bitrate_kbps),
               Output(tmp_path / "out.m4a", "m4a", settings.bitrate_kbps))
    caplog.set_level(logging.INFO, logger="media_pipeline")
    measured, _ = render(probe(source), settings, outputs)
    corrections = [r.getMessage() for r in caplog.records if r.getMessage().startswith("correcting")]
    assert not corrections, corrections
    for output, ours in zip(outputs, measured):
        theirs = independent_loudness(output.path)
        assert abs(theirs.integrated - settings.target_lufs) <= settings.tolerance_lu, (output.path.name, theirs)
        assert theirs.true_peak <= settings.true_peak_db, (output.path.name, theirs)
        assert theirs.integrated == pytest.approx(ours.integrated, abs=0.15)  # each rounded to 0.1




def _bright(bed_db: float) -> str:
    name = f"music bed {bed_db:g} dB"
    RECORDINGS[name] = (40.0, f"{_speech(40, 2)}[s];{_music(40, bed_db)}[m];[s][m]amix=inputs=2:normalize=0,"
                        "volume=-6dB[out]")
    return name


@pytest.mark.parametrize("bed_db", [-12.0, 0.0])
def test_speech_with_a_bright_music_bed_lands_on_target_after_corrections(tmp_path: Path, caplog,
                                                                          bed_db: float) -> None:
    """A hi-hat of noise above the encoder's lowpass: the encoder takes 0.8 to 1.1 LU where 0.4 was
    fitted on speech, and its true peak rises 3 dB over the limiter. The corrections learn both from
    the encode (the limiter lowered by the overshoot and a margin, the gain calibrated again for
    the encoder's measured offset) and land; before, the episode was refused as out of reach."""
    name = _bright(bed_db)
    try:
        source = _make(tmp_path, name)
    finally:
        del RECORDINGS[name]
    settings = AudioSettings()
    outputs = (Output(tmp_path / "out.mp3", "mp3", settings.bitrate_kbps),
               Output(tmp_path / "out.m4a", "m4a", settings.bitrate_kbps))
    caplog.set_level(logging.INFO, logger="media_pipeline")
    render(probe(source), settings, outputs)
    recalibrated = [r.getMessage() for r in caplog.records if "encoder offset" in r.getMessage()]
    assert recalibrated, "no correction: the recording no longer tests what it was made for"
    for output in outputs:
        theirs = independent_loudness(output.path)
        assert abs(theirs.integrated - settings.target_lufs) <= settings.tolerance_lu, (output.path.name, theirs)
        assert theirs.true_peak <= settings.true_peak_db, (output.path.name, theirs)


@pytest.mark.xfail(strict=True, reason="known: the encoder's overshoot on noise above its lowpass is only "
                   "known once it has encoded; such a recording takes one or two corrections")
def test_speech_with_a_bright_music_bed_lands_on_the_first_encode(tmp_path: Path, caplog) -> None:
    name = _bright(-12.0)
    try:
        test_recordings_unlike_speech_land_on_the_first_encode(tmp_path, caplog, name)
    finally:
        del RECORDINGS[name]
