"""Offline speech synthesis of audio descriptions: espeak-ng.

Why espeak-ng: it is a Debian package (`espeak-ng`) that runs with no network and no model to
download, and it speaks Finnish, Swedish and English, the languages of a Finnish public body's
shows. Its formant voice is robotic, but clear at the speaking rate used here. The neural offline
engines that install from PyPI or Debian were weighed and not chosen: Piper's Finnish and Swedish
voices are separate downloads of some 60 MB each from a model host (an offline machine would need
them fetched and pinned by hand), and Festival and Pico TTS have no Finnish voice. A producer who
wants a human voice records the descriptions and names the folder (`clips`), which wins over
synthesis cue by cue.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from media_pipeline.audio import children
from media_pipeline.errors import MediaError

BINARY = "espeak-ng"
RATE = 165  # words a minute: a little slower than espeak-ng's 175, as describers speak
# espeak-ng's voice for each language code's first part; others are tried as given
VOICES = {"fi": "fi", "sv": "sv", "en": "en-gb"}
TIMEOUT = 120


def voice_name(language: str) -> str:
    code = language.lower()
    return VOICES.get(code.split("-")[0], code)


@functools.cache
def identity(language: str) -> str:
    """What the spoken result depends on, for the build cache: the engine's version and voice."""
    path = shutil.which(BINARY)
    if path is None:
        return f"{BINARY} (absent) {voice_name(language)}"
    try:
        done = subprocess.run([path, "--version"], capture_output=True, timeout=30, check=False)
        version = done.stdout.decode("utf-8", "replace").split("Data at")[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    return f"{version} {voice_name(language)} {RATE}"


def speak(text: str, language: str, target: Path) -> Path:
    """`text` spoken in `language` into the WAV file `target`. The text goes on stdin, never on
    the command line, so no word of it is read as an option."""
    path = shutil.which(BINARY)
    if path is None:
        raise MediaError(f"{BINARY} is not installed; install it (Debian: apt-get install espeak-ng) or record "
                         "the descriptions and name their folder with `clips`", path=target.name)
    argv = [path, "-v", voice_name(language), "-s", str(RATE), "-w", str(target), "--stdin"]
    proc = children.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(text.encode("utf-8"), timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise MediaError(f"{BINARY} took over {TIMEOUT} s to speak a description", path=target.name) from None
    finally:
        children.forget(proc)
    if proc.returncode != 0 or not target.is_file() or target.stat().st_size <= 44:
        reason = err.decode("utf-8", "replace").strip().splitlines()
        raise MediaError(f"{BINARY} could not speak {voice_name(language)!r}: "
                         f"{reason[-1] if reason else 'no sound written'}", path=target.name)
    return target
