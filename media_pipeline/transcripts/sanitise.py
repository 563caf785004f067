"""Cue text made safe to publish: WebVTT's own tags kept, any other markup turned into text."""

from __future__ import annotations

import html
import re

from media_pipeline.transcripts.cues import TAG, Cue, Transcript

# WebVTT cue text: the tags a cue may carry (class, italics, bold, underline, ruby, voice, language,
# timestamps) and the character references it may hold; every other "<" or "&" is text.
_VTT_TAG = re.compile(r"</?(?:b|i|u|c|ruby|rt)(?:\.[\w-]+)*>|<(?:v|lang)(?:\.[\w-]+)*[ \t][^<>\n]*>|</(?:v|lang)>"
                      r"|<(?:\d+:)?[0-5]\d:[0-5]\d\.\d{3}>")
_REFERENCE = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#\d+|#[xX][0-9a-fA-F]+);")


def sanitise_cue_line(line: str) -> str:
    """One line of cue text as valid, inert WebVTT payload: the WebVTT tags kept, any other markup
    (`<script>`, `<img onerror=...>`) escaped so players show it as text, a stray "&" escaped,
    and "-->" (which would end the cue, making the file invalid) written as "--&gt;"."""
    out, pos = [], 0
    for tag in _VTT_TAG.finditer(line):
        out.append(_escape_text(line[pos:tag.start()]))
        out.append(tag.group())
        pos = tag.end()
    out.append(_escape_text(line[pos:]))
    return "".join(out)


def _escape_text(text: str) -> str:
    pieces, pos = [], 0
    for ref in _REFERENCE.finditer(text):
        pieces.append(text[pos:ref.start()].replace("&", "&amp;"))
        pieces.append(ref.group())
        pos = ref.end()
    pieces.append(text[pos:].replace("&", "&amp;"))
    return "".join(pieces).replace("<", "&lt;").replace(">", "&gt;")


# SRT has no voice spans: captioners start a speaker's line with the name and a colon, which is also
# how `to_srt` writes a change of speaker. A name is two to four capitalised words ("Aino Lehtonen")
# or one word in capitals (a speaker ID, "AINO"), so a line opening "Huomio: ..." stays words.
_SRT_SPEAKER = re.compile(r"^((?:[A-ZÅÄÖÜ][\w'.-]+)(?: [A-ZÅÄÖÜ][\w'.-]+){1,3}|[A-ZÅÄÖÜ][A-ZÅÄÖÜ'.-]+): (?=\S)")


def srt_to_vtt_text(line: str) -> str:
    """An SRT text line as WebVTT payload: keep <b>/<i>/<u>, drop other tags (<font ...>), escape
    the characters WebVTT reserves (& and <), break up a "-->" that would end the cue, and a
    leading "Name: " as the voice span `<v Name>`."""
    speaker = _SRT_SPEAKER.match(line)
    if speaker:
        return f"<v {_escape(speaker.group(1))}>" + srt_to_vtt_text(line[speaker.end():])
    out, pos = [], 0
    for tag in TAG.finditer(line):
        out.append(_escape(html.unescape(line[pos:tag.start()])))
        if re.fullmatch(r"</?[biu]>", tag.group(), re.I):
            out.append(tag.group().lower())
        pos = tag.end()
    out.append(_escape(html.unescape(line[pos:])))
    return "".join(out).replace("-->", "--&gt;")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def vtt_to_srt_text(line: str) -> str:
    """A WebVTT payload line as SRT text: only <b>/<i>/<u> kept (a voice span's name is in the words
    where the speaker changes, see captions.label_speakers), references unescaped, and an arrow in
    the words broken up so it cannot read as a timing line."""
    kept = []
    pos = 0
    for tag in TAG.finditer(line):
        kept.append(html.unescape(line[pos:tag.start()]))
        if re.fullmatch(r"</?[biu]>", tag.group(), re.I):
            kept.append(tag.group().lower())
        pos = tag.end()
    kept.append(html.unescape(line[pos:]))
    # an arrow in the words must not read as a timing line: a zero-width space breaks it up unseen
    return "".join(kept).replace("-->", "--\u200b>")


# The WebVTT cue spans a published file may carry; anything else a producer's file holds (a
# `<script>`, a `<font>`) is dropped, and a stray `<` becomes text, so no form can carry markup.
def clean(t: Transcript) -> Transcript:
    """The transcript as it may be published: every cue line through `sanitise_cue_line` (a file
    read by `load_transcript` is already, so this is for cues made elsewhere, such as drafts),
    blank lines and cues without words dropped (`check` warns of those), and no identifier that
    could break a reader's parsing."""
    cues = []
    for c in t.cues:
        text = "\n".join(sanitise_cue_line(line) for line in c.text.split("\n") if line.strip())
        if not c.plain.strip():
            continue
        identifier = c.identifier if c.identifier and "-->" not in c.identifier and "<" not in c.identifier else None
        cues.append(Cue(c.start, c.end, text, identifier))
    return Transcript(t.path, tuple(cues), t.source_format)
