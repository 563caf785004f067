"""Draft transcripts from offline speech recognition (faster-whisper, CTranslate2 Whisper models).

No audio leaves the machine: the episode's source is decoded by ffmpeg in ten-minute windows of
16 kHz mono samples (never the whole file in memory) and recognised by a local model. The words,
with their times, are grouped into cues that keep to the show's captioning norms, and the draft
is written as WebVTT; the episode file then names it with `draft: true` until a person has
checked it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from media_pipeline.audio import ffmpeg, probe
from media_pipeline.config.frontmatter import edit_front_matter, put_line
from media_pipeline.errors import ConfigError, MediaError
from media_pipeline.model import Episode, Show, TranscriptSettings
from media_pipeline.transcripts.cues import Cue, Transcript
from media_pipeline.transcripts.forms import to_vtt
from media_pipeline.util.fsutil import atomic_write

log = logging.getLogger(__name__)

INSTALL_HINT = "speech recognition needs the asr extra: pip install 'media-pipeline[asr]'"
SAMPLE_RATE = 16000
WINDOW_SECONDS = 600.0  # ~38 MB of float samples at a time
_SENTENCE_END = (".", "?", "!", "…")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


# Whisper's English-only models have 51,864 tokens; the multilingual ones 51,865 or more.
_ENGLISH_ONLY_VOCABULARY = 51864
LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "en": "English"}


def english_only(model: str) -> bool:
    """Whether the model recognises English alone: a name or folder ending in `.en` (tiny.en,
    Systran/faster-whisper-small.en), or a CTranslate2 folder whose vocabulary has no language tokens
    beyond English's. Reads no more than the vocabulary file."""
    folder = Path(model).expanduser()
    if folder.name.lower().endswith(".en"):
        return True
    vocabulary = folder / "vocabulary.txt"
    if vocabulary.is_file():
        with vocabulary.open("rb") as handle:
            return sum(1 for _ in handle) <= _ENGLISH_ONLY_VOCABULARY
    return False


def language_problem(settings: TranscriptSettings, language: str) -> str | None:
    """Why the show's model cannot transcribe `language`, in one line, or None when it can."""
    code = language.split("-")[0].lower()
    if code == "en" or not english_only(settings.model):
        return None
    return (f"model {settings.model!r} recognises English only and cannot transcribe "
            f"{LANGUAGE_NAMES.get(code, code)} ({language}); set [transcripts] model to a multilingual "
            "one such as \"small\" or \"medium\" (docs/feeds.md)")


def load_model(settings: TranscriptSettings):
    """The engine's model: a folder path (offline machines) or a model name the engine knows.

    Raises MediaError with the one line saying what to install when the engine is missing.
    """
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise MediaError(INSTALL_HINT) from None
    name = settings.model
    folder = Path(name).expanduser()
    if folder.is_dir():
        name = str(folder)
    elif "/" in settings.model or settings.model.startswith("."):
        raise MediaError(f"model folder not found: {settings.model}", field="transcripts.model")
    try:
        return WhisperModel(name, device="cpu", compute_type="int8")
    except Exception as exc:  # the engine raises many kinds: a missing file, a bad format, no network
        raise MediaError(f"cannot load speech recognition model {settings.model!r}: {exc}",
                         field="transcripts.model") from None


def recognise(audio: Path, settings: TranscriptSettings, *, language: str, duration: float,
              progress: Callable[[float], None] | None = None) -> list[Word]:
    """Words with times (seconds from the start of `audio`), recognised window by window."""
    import numpy as np

    model = load_model(settings)
    words: list[Word] = []
    start = 0.0
    while start < duration:
        length = min(WINDOW_SECONDS, duration - start)
        raw = ffmpeg.run(["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", audio, "-vn", "-ac", "1",
                          "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"], what=audio, capture_stdout=True).stdout
        samples = np.frombuffer(raw, dtype=np.float32)
        segments, _info = model.transcribe(samples, language=language.split("-")[0].lower(), beam_size=5,
                                           word_timestamps=True, condition_on_previous_text=False)
        for segment in segments:
            for w in segment.words or ():
                words.append(Word(start + float(w.start), start + float(w.end), w.word))
            if progress:
                progress(min(1.0, (start + segment.end) / duration))
        start += WINDOW_SECONDS
    if progress:
        progress(1.0)
    return words


def cues_from_words(words: Iterable[Word], settings: TranscriptSettings) -> list[Cue]:
    """Group words into cues: a new cue at a pause of 0.7 s or more, after a sentence once the
    cue holds a line's worth, and before the text would pass the lines, characters or duration
    the norms allow; each cue's text is wrapped into balanced lines."""
    limit = settings.max_lines * settings.max_line_chars
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        text = word.text.strip()
        if not text:
            continue
        w = Word(word.start, max(word.end, word.start + 0.01), text)
        if current:
            joined = len(" ".join(x.text for x in current)) + 1 + len(text)
            pause = w.start - current[-1].end
            full_sentence = (current[-1].text.endswith(_SENTENCE_END)
                             and len(" ".join(x.text for x in current)) >= settings.max_line_chars // 2)
            if joined > limit or w.end - current[0].start > settings.max_duration or pause >= 0.7 or full_sentence:
                groups.append(current)
                current = []
        current.append(w)
    if current:
        groups.append(current)
    cues: list[Cue] = []
    for i, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        following = groups[i + 1][0].start if i + 1 < len(groups) else None
        text = " ".join(w.text for w in group)
        # keep a short cue on screen long enough to read, never into the next one
        wanted = max(settings.min_duration, len(text) / settings.max_cps)
        if end - start < wanted:
            end = start + wanted if following is None else min(start + wanted, max(end, following))
        cues.append(Cue(round(float(start), 3), round(float(end), 3), _escape(wrap(text, settings.max_line_chars))))
    return cues


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def wrap(text: str, width: int) -> str:
    """One line if it fits, else two lines as even as the words allow (BBC: a pyramid or
    even lines, broken between words)."""
    if len(text) <= width:
        return text
    words = text.split(" ")
    best, best_cost = text, None
    for i in range(1, len(words)):
        first, second = " ".join(words[:i]), " ".join(words[i:])
        cost = max(len(first), len(second))
        if best_cost is None or cost < best_cost:
            best, best_cost = f"{first}\n{second}", cost
    return best


def draft_path(ws_root: Path, episode: Episode, language: str) -> Path:
    return ws_root / "transcripts" / episode.show / f"{episode.slug}.{language}.draft.vtt"


def transcribe_episode(ws_root: Path, show: Show, episode: Episode, *, language: str | None = None,
                       force: bool = False, progress: Callable[[float], None] | None = None) -> Path:
    """Recognise the episode's source, write the draft WebVTT and name it in the episode file.

    Refuses (MediaError) when the episode already has a checked transcript in that language,
    unless `force`: a person's work is never replaced by a machine's.
    """
    language = language or show.language
    existing = [t for t in episode.transcripts if (t.language or show.language) == language]
    if existing and not existing[0].draft and not force:
        raise ConfigError(f"already has a checked transcript in {language} ({existing[0].path.name}); "
                          "pass --force to draft a new one anyway", path=str(episode.path), field="transcript")
    if reason := language_problem(show.transcript_settings, language):
        raise ConfigError(reason, path=show.path, field="transcripts.model")
    info = probe.probe(episode.source)
    words = recognise(episode.source, show.transcript_settings, language=language, duration=info.duration,
                      progress=progress)
    if not words:
        raise MediaError("speech recognition found no words", path=episode.source)
    target = draft_path(ws_root, episode, language)
    target.parent.mkdir(parents=True, exist_ok=True)
    transcript = Transcript(target, tuple(cues_from_words(words, show.transcript_settings)), "vtt")
    data = to_vtt(transcript).replace(b"WEBVTT\n", b"WEBVTT\n\nNOTE machine transcript: check it, then remove "
                                               b"draft: true from the episode file\n", 1)
    atomic_write(target, data)
    record_draft(episode.path, target.relative_to(ws_root).as_posix(), language,
                 show_language=show.language, episode=episode, ws_root=ws_root)
    log.info("%s: draft transcript %s (%d cues)", episode.key, target, len(transcript.cues))
    return target


_TRANSCRIPT_LINE = re.compile(r"^transcript:[^\r\n]*$", re.M)


def record_draft(path: Path, file: str, language: str, *, show_language: str, episode: Episode,
                 ws_root: Path) -> None:
    """Name the draft in the episode's front matter with a one-line edit (`edit_front_matter`,
    every other byte kept): `transcript: {file: ..., language: .., draft: true}`, or a
    one-line list of such entries when the episode has transcripts in other languages."""
    entries = []
    for t in episode.transcripts:
        lang = t.language or show_language
        if lang == language:
            continue
        rel = t.path.resolve().relative_to(ws_root.resolve()).as_posix() if t.path.is_absolute() else str(t.path)
        entries.append(f"{{file: {_yaml_text(rel)}, language: {lang}" + (", draft: true}" if t.draft else "}"))
    entries.append(f"{{file: {_yaml_text(file)}, language: {language}, draft: true}}")
    line = "transcript: " + (entries[0] if len(entries) == 1 else "[" + ", ".join(entries) + "]")

    def name_draft(front: str) -> str:
        found = _TRANSCRIPT_LINE.search(front)
        if found and re.match(r"\r?\n[ \t]+\S|\r?\n-", front[found.end():]):
            raise ConfigError("its transcript key spans several lines; add "
                              f"{{file: {file}, language: {language}, draft: true}} to it by hand",
                              path=str(path), field="transcript")
        return put_line(front, line, found)

    edit_front_matter(path, name_draft, "name the transcript in")


def _yaml_text(value: str) -> str:
    return value if re.fullmatch(r"[\w./-]+", value) else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
