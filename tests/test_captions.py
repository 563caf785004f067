"""Captioning norms, drafts that never reach listeners unchecked, several languages, and cue
text that cannot inject markup into any published form."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
import srt
import webvtt
from conftest import SHOW_TOML
from lxml import html as lxml_html

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.model import TranscriptSettings
from media_pipeline.transcripts.forms import to_html, to_json, to_srt, to_vtt
from media_pipeline.transcripts.norms import check_norms
from media_pipeline.transcripts.read import load_transcript
from media_pipeline.transcripts.sanitise import clean

from publish_support import run_cli, stored_feed
from transcript_support import JSON_TRANSCRIPT_SCHEMA

NOW = "2026-03-01T12:00:00+02:00"


def vtt(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text("WEBVTT\n\n" + body, encoding="utf-8")
    return path


# Each norm broken once, by the third cue; the cues around it keep every norm.
GOOD = "00:00:01.000 --> 00:00:03.000\nHyvää päivää.\n\n00:00:04.000 --> 00:00:06.000\nTänään puhumme.\n\n"
BREACHES = [
    ("max_lines", "00:00:07.000 --> 00:00:11.000\nYksi\nkaksi\nkolme\n", "has 3 lines; at most 2"),
    ("max_line_chars", "00:00:07.000 --> 00:00:11.000\n" + "sana " * 9 + "\n", "line 1 has 44 characters; at most 42"),
    ("max_cps", "00:00:07.000 --> 00:00:08.500\nTämä teksti on liian pitkä luettavaksi\n",
     "characters a second; at most 17"),
    ("min_duration", "00:00:07.000 --> 00:00:07.500\nNo.\n", "on screen 0.50 s; at least 1 s"),
    ("max_duration", "00:00:07.000 --> 00:00:15.000\nHetkinen.\n", "on screen 8.00 s; at most 7 s"),
    ("allow_overlap", "00:00:05.500 --> 00:00:08.000\nPäällekkäin.\n", "starts before cue 2 ends (00:00:06.000)"),
    ("speakers", "00:00:07.000 --> 00:00:09.000\nKuka puhuu?\n", "names no speaker"),
]


@pytest.mark.parametrize("rule, cue, words", BREACHES, ids=[b[0] for b in BREACHES])
def test_each_captioning_norm_is_reported_with_the_file_cue_number_and_time(workspace, rule, cue, words):
    """Transcripts must-show 2: `check` names the transcript file, the cue and its start time."""
    workspace.show()
    good = GOOD
    if rule == "speakers":
        good = GOOD.replace("Hyvää", "<v Aino>Hyvää").replace("Tänään", "<v Eero>Tänään")
    workspace.write("transcripts/001.vtt", "WEBVTT\n\n" + good + cue)
    workspace.episode("001", seconds=16, extra="transcript: transcripts/001.vtt\n")
    result = run_cli(workspace.root, "check")
    start = cue.split(" --> ")[0]
    found = [line for line in result.out.splitlines() if "transcripts/001.vtt" in line]
    assert len(found) == 1, result.out
    assert found[0].startswith(f"warning: transcripts/001.vtt: cue 3 at {start}: ")
    assert words in found[0] and found[0].endswith(f"[{rule}]")


def test_the_norms_are_the_shows_to_set(tmp_path):
    path = vtt(tmp_path, "a.vtt", "00:00:01.000 --> 00:00:10.000\n" + "x" * 50 + "\n")
    t = load_transcript(path, duration=None)
    assert {b.rule for b in check_norms(t, TranscriptSettings())} == {"max_line_chars", "max_duration"}
    loose = TranscriptSettings(max_line_chars=60, max_duration=12.0)
    assert check_norms(t, loose) == []


def test_a_broken_norm_is_an_error_when_the_show_says_so(workspace):
    workspace.show(toml=SHOW_TOML + '\n[transcripts]\nnorms = "error"\nmax_duration = 5.0\n')
    workspace.write("transcripts/001.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:07.000\nPitkä hetki.\n")
    workspace.episode("001", seconds=8, extra="transcript: transcripts/001.vtt\n")
    result = run_cli(workspace.root, "check")
    assert result.code == 1
    assert result.out.splitlines() == [
        "transcripts/001.vtt: cue 1 at 00:00:01.000: on screen 6.00 s; at most 5 s [max_duration]"]


def test_a_cue_after_the_end_of_the_audio_is_an_error_naming_the_cue(workspace):
    workspace.show()
    workspace.write("transcripts/001.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA.\n\n"
                                           "00:00:04.000 --> 00:00:05.500\nLiian myöhään.\n")
    workspace.episode("001", seconds=3, extra="transcript: transcripts/001.vtt\n")
    result = run_cli(workspace.root, "process", "testi/001")
    assert result.code == 0, result.err
    from media_pipeline.feeds.timed_text import transcript_problems

    ws = load_workspace(workspace.root, environ={})
    catalog, _ = load_catalog(ws)
    episode = catalog.episodes["testi"][0]
    problems = transcript_problems(ws, catalog.shows["testi"], episode, 3.0, "episodes/testi/001.md")
    assert [(p.severity, p.field) for p in problems] == [("error", "transcript: cue 2 (line 6)")]
    assert "transcripts/001.vtt: ends at 00:00:05.500, after the end of the episode" in problems[0].reason


# -- drafts ----------------------------------------------------------------------------------------

DRAFT = "transcript: {file: transcripts/001.fi.draft.vtt, draft: true}\n"
REQUIRED = SHOW_TOML.replace('license = "CC-BY-4.0"\n', 'license = "CC-BY-4.0"\ntranscripts_required = true\n')


def _draft_workspace(workspace, toml: str):
    workspace.show(toml=toml)
    workspace.write("transcripts/001.fi.draft.vtt", "WEBVTT\n\n00:00:00.500 --> 00:00:02.500\nHei ja tervetuloa.\n")
    workspace.episode("001", seconds=4, extra=DRAFT)


def test_a_draft_transcript_blocks_publish_when_the_show_requires_a_checked_one(workspace):
    """Transcripts must-show 2 (second half): a draft counts as missing."""
    _draft_workspace(workspace, REQUIRED)
    check = run_cli(workspace.root, "check")
    assert check.code == 1
    assert ("episodes/testi/001.md: transcript: transcripts/001.fi.draft.vtt is a machine draft, counted as "
            "missing") in check.out
    result = run_cli(workspace.root, "publish", "--all", "--now", NOW)
    assert result.code == 1 and "machine draft" in result.err
    assert stored_feed(workspace.root) is None
    assert not (workspace.root / "public" / "testi" / "001.vtt").exists()


def test_a_draft_is_left_out_of_the_feed_when_transcripts_are_not_required(workspace):
    _draft_workspace(workspace, SHOW_TOML)
    result = run_cli(workspace.root, "publish", "--all", "--now", NOW)
    assert result.code == 0, result.err
    assert b"podcast:transcript" not in stored_feed(workspace.root)
    assert not list((workspace.root / "public" / "testi").glob("001*.vtt"))


def test_with_allow_machine_a_draft_is_published_labelled_as_a_machine_transcript(workspace):
    import feedparser

    _draft_workspace(workspace, REQUIRED + "\n[transcripts]\nallow_machine = true\n")
    result = run_cli(workspace.root, "publish", "--all", "--now", NOW)
    assert result.code == 0, result.err
    feed = feedparser.parse(stored_feed(workspace.root))
    label = "Tämä tekstitys on tehty puheentunnistuksella eikä ihminen ole tarkistanut sitä."
    item = feed.entries[0]
    assert label in item.description and label in item.content[0].value
    page = lxml_html.fromstring((workspace.root / "public" / "testi" / "001.transcript.html").read_bytes())
    assert page.xpath("string(//*[@class='draft-note'])").strip() == label
    assert page.get("lang") == "fi"
    # every form the draft's words appear in says what they are (issue 25, item 3)
    public = workspace.root / "public" / "testi"
    caption = "Konetekstitys: ihminen ei ole tarkistanut sitä."
    vtt_cues = list(webvtt.read(str(public / "001.vtt")))
    assert [" ".join(c.text.split()) for c in vtt_cues] == [caption, "Hei ja tervetuloa."]
    assert vtt_cues[0].start == "00:00:00.500" and vtt_cues[0].end == vtt_cues[1].start
    assert f"\nNOTE {label}\n" in (public / "001.vtt").read_text(encoding="utf-8")
    srt_cues = list(srt.parse((public / "001.srt").read_text(encoding="utf-8")))
    assert [" ".join(c.content.split()) for c in srt_cues] == [caption, "Hei ja tervetuloa."]
    data = json.loads((public / "001.transcript.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, JSON_TRANSCRIPT_SCHEMA)
    assert data["machine"] is True and data["note"] == label
    episode_page = lxml_html.fromstring((public / "001" / "index.html").read_bytes())
    assert episode_page.xpath("string(//*[@class='draft-note'])").strip() == label


# -- languages -------------------------------------------------------------------------------------


def test_an_episode_takes_one_transcript_per_language_and_the_one_file_form_still_works(workspace):
    workspace.show()
    for name in ("a.vtt", "a.sv.vtt", "a.en.srt"):
        workspace.write(f"transcripts/{name}", "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHej.\n"
                        if name.endswith(".vtt") else "1\n00:00:01,000 --> 00:00:02,500\nHello.\n")
    workspace.episode("one", extra="transcript: transcripts/a.vtt\n")
    workspace.episode("many", extra="transcript:\n  - file: transcripts/a.vtt\n  - file: transcripts/a.sv.vtt\n"
                                    "    language: sv\n  - {file: transcripts/a.en.srt, language: en}\n")
    workspace.episode("same", extra="transcript:\n  - file: transcripts/a.vtt\n  - file: transcripts/a.sv.vtt\n")
    workspace.episode("bad", extra="transcript: [{file: transcripts/a.vtt, language: suomi}, {language: sv}]\n")
    ws = load_workspace(workspace.root, environ={})
    catalog, problems = load_catalog(ws)
    one, many = (next(e for e in catalog.episodes["testi"] if e.slug == s) for s in ("one", "many"))
    assert [(t.path.name, t.language, t.draft) for t in one.transcripts] == [("a.vtt", None, False)]
    assert one.transcript == one.transcripts[0].path
    assert [(t.path.name, t.language) for t in many.transcripts] == [("a.vtt", None), ("a.sv.vtt", "sv"),
                                                                     ("a.en.srt", "en")]
    assert sorted(str(p) for p in problems) == [
        "episodes/testi/bad.md: transcript[0].language: must be a language code like fi, sv or en-GB, not 'suomi'",
        "episodes/testi/bad.md: transcript[1].file: is required",
        "episodes/testi/same.md: transcript[1]: a second transcript in the show language; give each its own language",
    ]


# -- sanitising ------------------------------------------------------------------------------------

HOSTILE = """WEBVTT

00:00:01.000 --> 00:00:03.000
<v Aino>Hei <script>alert("x")</script> & tervetuloa</v>

evil --> id
00:00:03.000 --> 00:00:05.000
Nuoli alla
-->
<img src=x onerror=alert(1)> loppu
"""


def test_markup_in_cue_text_cannot_reach_any_published_form(tmp_path):
    source = tmp_path / "hostile.vtt"
    source.write_text(HOSTILE, encoding="utf-8")
    t = clean(load_transcript(source, duration=None))
    out = tmp_path / "out.vtt"
    out.write_bytes(to_vtt(t))
    cues = list(webvtt.read(str(out)))
    assert len(cues) == 2
    assert load_transcript(out, duration=None).cues == t.cues  # our own reader agrees: nothing split
    text = out.read_text()
    assert "<script" not in text and "<img" not in text and "\n-->\n" not in text
    assert "--&gt;" in text and "<v Aino>" in text and "&amp; tervetuloa" in text
    assert "-->" not in to_srt(t).decode().split("\n", 2)[2].replace(" --> ", "")
    page = lxml_html.fromstring(to_html(t, title="<b>Jakso</b>", language="fi"))
    assert page.xpath("//script | //img | //main//b") == []
    assert [c.text for c in page.iter("cite")] == ["Aino:"]  # the spec's HTML form: cite, time, p
    assert [t.text for t in page.iter("time")] == ["0:01", "0:03"]
    assert "alert(\"x\")" in page.text_content() and "<b>Jakso</b>" in page.findtext(".//h1")
    data = json.loads(to_json(t))
    jsonschema.validate(data, JSON_TRANSCRIPT_SCHEMA)
    # markup that is not WebVTT's own is the speaker's words, shown as text: inert in every form
    assert data["segments"][0] == {"speaker": "Aino", "startTime": 1.0, "endTime": 3.0,
                                   "body": 'Hei <script>alert("x")</script> & tervetuloa'}
    assert data["segments"][1]["body"] == "Nuoli alla --> <img src=x onerror=alert(1)> loppu"


# -- transcribe without the engine -----------------------------------------------------------------


def test_transcribe_without_the_asr_extra_says_what_to_install_in_one_line(workspace):
    workspace.show()
    workspace.episode("001", seconds=2)
    blocked = ("import sys; sys.modules['faster_whisper'] = None; "  # as if the extra were not installed
               "from media_pipeline.cli import main; sys.argv[0] = 'media-pipeline'; main()")
    proc = subprocess.run([sys.executable, "-c", blocked, "--root", str(workspace.root), "transcribe", "testi/001"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["error: speech recognition needs the asr extra: "
                                        "pip install 'media-pipeline[asr]'"]
    assert "transcript" not in (workspace.root / "episodes" / "testi" / "001.md").read_text()


def test_a_draft_joins_the_transcripts_of_other_languages_in_one_edited_line(workspace):
    from media_pipeline.transcripts.asr import record_draft

    workspace.show()
    workspace.write("transcripts/001.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHei.\n")
    path = workspace.episode("001", extra="transcript: transcripts/001.vtt  # tarkistettu\nkeywords: [a]\n")
    ws = load_workspace(workspace.root, environ={})
    episode = load_catalog(ws)[0].episodes["testi"][0]
    before = path.read_text()
    record_draft(path, "transcripts/001.sv.draft.vtt", "sv", show_language="fi", episode=episode, ws_root=ws.root)
    after = path.read_text()
    assert after == before.replace("transcript: transcripts/001.vtt  # tarkistettu\n",
                                   "transcript: [{file: transcripts/001.vtt, language: fi}, "
                                   "{file: transcripts/001.sv.draft.vtt, language: sv, draft: true}]\n")

    path.write_text(before.replace("transcript: transcripts/001.vtt  # tarkistettu\n",
                                   "transcript:\n  - file: transcripts/001.vtt\n"))
    from media_pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="spans several lines; add {file: x.vtt, language: sv, draft: true}"):
        record_draft(path, "x.vtt", "sv", show_language="fi", episode=episode, ws_root=ws.root)


def test_recognised_words_are_grouped_into_cues_that_keep_the_norms(tmp_path):
    from media_pipeline.transcripts.asr import Word, cues_from_words
    from media_pipeline.transcripts.cues import Transcript

    # two minutes of talk without a pause at 2.5 words a second, then a short reply after a pause
    talk = [Word(i * 0.4, i * 0.4 + 0.35, f"sana{i % 7}" + ("." if i % 23 == 22 else "")) for i in range(300)]
    reply = [Word(125.0, 125.3, "Kyllä.")]
    settings = TranscriptSettings()
    cues = cues_from_words(talk + reply, settings)
    transcript = Transcript(tmp_path / "draft.vtt", tuple(cues), "vtt")
    assert check_norms(transcript, settings) == []
    assert " ".join(c.plain.replace("\n", " ") for c in cues).split() == [w.text for w in talk + reply]
    assert cues[-1].start == 125.0 and cues[-1].end == 126.0  # a one-word cue stays up the minimum second


def test_a_republished_transcript_keeps_its_language_and_form_under_its_versioned_key():
    from media_pipeline import layout
    from media_pipeline.transcripts.keys import language_of_key

    for key, language in (("testi/001.vtt", "fi"), ("testi/001.sv.vtt", "sv"), ("testi/001.transcript.html", "fi"),
                          ("testi/001.en.transcript.json", "en")):
        versioned = layout.versioned_key(key, "0123456789abcdef" * 4)
        assert versioned != key and layout.unversioned_key(versioned) == key
        assert versioned.endswith(key.split("001", 1)[1].rsplit(".", 1)[-1])
        assert language_of_key(versioned, "001", "fi") == language


# -- transcripts that cannot go blank --------------------------------------------------------------


def test_a_transcript_with_no_words_is_a_check_error_naming_the_line_and_is_never_published(workspace):
    # the shape of webvtt-py's invalid_format4.srt: text where the cue number belongs, no words
    workspace.show()
    workspace.write("transcripts/001.srt", "jotain tekstiä\n00:00:00,500 --> 00:00:02,000")
    workspace.episode("001", seconds=3, extra="transcript: transcripts/001.srt\n")
    checked = run_cli(workspace.root, "check")
    assert checked.code == 1 and "Traceback" not in checked.err
    named = [line for line in (checked.out + checked.err).splitlines() if "transcripts/001.srt" in line]
    assert len(named) == 1 and "line 1" in named[0] and "stands where the cue number should be" in named[0]
    published = run_cli(workspace.root, "publish", "testi/001", "--now", NOW)
    assert published.code == 1 and "Traceback" not in published.err
    public = workspace.root / "public" / "testi"
    assert not (public / "001.transcript.json").exists() and not (public / "001.vtt").exists()


def test_an_empty_cue_is_a_check_warning_and_left_out_of_every_published_form(workspace):
    workspace.show()
    workspace.write("transcripts/001.vtt", "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHyvää päivää.\n\n"
                                           "00:00:02.000 --> 00:00:02.900\n\n"
                                           "00:00:03.000 --> 00:00:05.000\nTervetuloa.\n")
    workspace.episode("001", seconds=6, extra="transcript: transcripts/001.vtt\n")
    checked = run_cli(workspace.root, "check")
    assert "warning: transcripts/001.vtt: cue 2 at 00:00:02.000: has no words; it is left out" in checked.out + checked.err
    published = run_cli(workspace.root, "publish", "testi/001", "--now", NOW)
    assert published.code == 0, published.err
    public = workspace.root / "public" / "testi"
    assert [c.text for c in webvtt.read(str(public / "001.vtt"))] == ["Hyvää päivää.", "Tervetuloa."]
    data = json.loads((public / "001.transcript.json").read_text(encoding="utf-8"))
    assert [s["body"] for s in data["segments"]] == ["Hyvää päivää.", "Tervetuloa."]
    assert (public / "001.srt").read_text(encoding="utf-8").count(" --> ") == 2


# -- speakers named, norms kept in what is published -----------------------------------------------

# Two people in the shape of a broadcaster's WebVTT: voice spans, a turn change inside one cue,
# and lines that fit 42 characters only without the speaker's name.
DIALOGUE = """WEBVTT

00:00:00.500 --> 00:00:04.000
<v Aino Lehtonen>Tervetuloa, tänään puhumme palveluista.

00:00:04.000 --> 00:00:07.500
<v Aino Lehtonen>Vieraana on tutkija Leena Koskinen.

00:00:07.500 --> 00:00:11.000
<v Leena Koskinen>Kiitos kutsusta, on ilo olla täällä mukana.

00:00:11.000 --> 00:00:14.000
<v Leena Koskinen>Aloitetaan siis ihmisten tilanteista.

00:00:14.000 --> 00:00:17.500
<v Aino Lehtonen>Hyvä.</v>
<v Leena Koskinen>Ja heidän omista sanoistaan.
"""


def _published_lines(text: str) -> list[list[str]]:
    return [[line for line in cue.split("\n") if line.strip()] for cue in text]


@pytest.mark.parametrize("style, turns", [
    ("name", ["Aino Lehtonen: Tervetuloa", "Leena Koskinen: Kiitos", "Aino Lehtonen: Hyvä.",
              "Leena Koskinen: Ja heidän"]),
    ("dash", ["– Tervetuloa", "– Kiitos", "– Hyvä.", "– Ja heidän"]),
])
def test_captions_name_the_speaker_at_each_change_in_every_published_form_within_the_norms(workspace, style, turns):
    toml = SHOW_TOML + f'\n[transcripts]\nspeaker_label = "{style}"\n'
    workspace.show(toml=toml)
    workspace.write("transcripts/001.vtt", DIALOGUE)
    workspace.episode("001", seconds=18, video=True, extra="transcript: transcripts/001.vtt\n")
    result = run_cli(workspace.root, "publish", "testi/001", "--now", NOW)
    assert result.code == 0, result.err
    public = workspace.root / "public" / "testi"
    from media_pipeline.audio import ffmpeg

    # the MP4's mov_text track, line breaks kept, as ffmpeg converts it back to SubRip
    ffmpeg.run(["-i", public / "001.mp4", "-map", "0:s:0", "-f", "srt", workspace.root / "track.srt"], what="mp4")
    forms = {
        "vtt": [c.text for c in webvtt.read(str(public / "001.vtt"))],
        "srt": [c.content for c in srt.parse((public / "001.srt").read_text(encoding="utf-8"))],
        "mp4": [c.content for c in srt.parse((workspace.root / "track.srt").read_text(encoding="utf-8"))],
    }
    for form, cues in forms.items():
        lines = _published_lines(cues)
        # the norms check enforces, on what a viewer sees (BBC, Netflix): 2 lines of 42 at most
        assert all(len(cue) <= 2 and all(len(line) <= 42 for line in cue) for cue in lines), (form, lines)
        starts = [line for cue in lines for line in cue if line.startswith(("Aino", "Leena", "–"))]
        assert len(starts) == len(turns) and all(s.startswith(t) for s, t in zip(starts, turns)), (form, starts)
        # no turn unannounced: the name appears only where the speaker changes
        words = " ".join(" ".join(cue) for cue in lines)
        assert words.count("Leena Koskinen:") == (2 if style == "name" else 0), form
    # the reading forms keep the speaker of every cue
    data = json.loads((public / "001.transcript.json").read_text(encoding="utf-8"))
    assert {s.get("speaker") for s in data["segments"]} == {"Aino Lehtonen", "Leena Koskinen"}
    page = lxml_html.fromstring((public / "001" / "index.html").read_bytes())
    speakers = [s.text_content() for s in page.xpath("//*[@class='speaker']")]
    assert speakers[:2] == ["Aino Lehtonen:", "Leena Koskinen:"]


def test_srt_name_prefixes_are_read_as_speakers_until_the_next_name(tmp_path):
    path = tmp_path / "003.srt"
    path.write_text("1\n00:00:00,400 --> 00:00:04,400\nAino Lehtonen: Tänään puhumme\nhankinnoista.\n\n"
                    "2\n00:00:04,600 --> 00:00:08,600\nVieraana on Sanna.\n\n"
                    "3\n00:00:09,000 --> 00:00:14,000\nSanna Heikkinen: Kiitos.\n\n"
                    "4\n00:00:14,200 --> 00:00:16,000\nHuomio: tämä ei ole nimi.\n", encoding="utf-8")
    t = load_transcript(path, duration=None)
    assert [c.speaker for c in t.cues] == ["Aino Lehtonen", "Aino Lehtonen", "Sanna Heikkinen", "Sanna Heikkinen"]
    assert t.cues[3].plain == "Huomio: tämä ei ole nimi."  # one capitalised word is not taken for a name
    path.write_text("1\n00:00:00,400 --> 00:00:04,400\nAINO: Hei.\n", encoding="utf-8")
    assert load_transcript(path, duration=None).cues[0].speaker == "AINO"  # a speaker ID in capitals
