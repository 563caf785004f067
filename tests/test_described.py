"""Audio description (WCAG 1.2.5, issue 28): a scripted webinar with three slide changes and two
description cues, one that fits a pause of the speech and one that does not, published for real;
measured with ffmpeg's own filters (freezedetect, ebur128), read back with feedparser, and judged in
Chromium by axe-core and by the Nu HTML checker."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest

from media_pipeline.audio import described as described_mod
from media_pipeline.audio.probe import probe
from media_pipeline.audio import loudness
from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.publishing import publish as publish_mod
from media_pipeline.transcripts.cues import Cue
from media_pipeline.transcripts.descriptions import interleave, undescribed

import described_support as D
from cli_support import invoke
from config_support import copy_workspace
from site_support import Server, free_port
from test_site_browser import AXE, VNU, axe_violations, browser, require  # noqa: F401 (the browser fixture)

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def scripted_workspace(dest: Path, port: int | None = None) -> Path:
    """The demo workspace with one episode: webinar 01 made from the scripted webinar, its captions
    and the two-cue description file."""
    root = copy_workspace(dest, placeholders=False)
    for path in (root / "episodes").glob("*/*.md"):
        if path.parent.name != "tekoalywebinaarit" or path.stem != "01":
            path.unlink()
    (root / "media" / "tekoalywebinaarit").mkdir(parents=True, exist_ok=True)
    D.scripted_webinar(root / "media" / "tekoalywebinaarit" / "01.mp4")
    (root / "transcripts" / "tekoalywebinaarit" / "01.vtt").write_text(D.CAPTIONS_VTT, encoding="utf-8")
    (root / "transcripts" / "tekoalywebinaarit" / "01.kuvailu.vtt").write_text(D.DESCRIPTIONS_VTT, encoding="utf-8")
    episode = root / "episodes" / "tekoalywebinaarit" / "01.md"
    text = episode.read_text(encoding="utf-8")
    text = re.sub(r"chapters:\n(?:  [- ] .*\n)+", "", text)  # the demo's chapters are for its 45 s
    text = re.sub(r"transcript:\n(?:  [- ] .*\n)+", "transcript: transcripts/tekoalywebinaarit/01.vtt\n", text)
    episode.write_text(text, encoding="utf-8")
    if port is not None:
        toml = root / "media-pipeline.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(
            'public_url = "http://127.0.0.1:8000"', f'public_url = "http://127.0.0.1:{port}"'), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    port = free_port()
    root = scripted_workspace(tmp_path_factory.mktemp("described") / "ws", port)
    ws = load_workspace(root, environ={})
    catalog, problems = load_catalog(ws)
    assert not [p for p in problems if p.severity == "error"], problems
    report = publish_mod.publish(ws, catalog, [e for eps in catalog.episodes.values() for e in eps], now=NOW)
    assert report.ok, report.failures
    server = Server(root / "public", port)
    yield root, f"http://127.0.0.1:{port}"
    server.close()


def public(root: Path, name: str) -> Path:
    return root / "public" / "tekoalywebinaarit" / name


@pytest.mark.slow
def test_the_described_mp4_is_longer_by_the_held_picture_of_the_cue_that_does_not_fit_a_pause(published):
    root, _ = published
    main, described = probe(public(root, "01.mp4")), probe(public(root, "01.described.mp4"))
    voice = probe(next(root.glob(".media-pipeline/cache/tekoalywebinaarit/01.described-*/01.described.mp4")))
    placed = json.loads(next(root.glob(".media-pipeline/cache/tekoalywebinaarit/01.described-*/manifest.json"))
                        .read_text(encoding="utf-8"))["placed"]
    fits, holds = placed
    assert fits["hold"] == 0 and holds["hold"] > 1.0  # the first fits the pause, the second does not
    assert described.duration - main.duration == pytest.approx(holds["hold"], abs=0.15)
    assert voice.duration == pytest.approx(described.duration, abs=0.05)
    # the picture stands still (freezedetect, not the code under test) from the second slide change
    # (8 s) for the hold, and nowhere else for that long but on the still slides themselves
    frozen = D.freezes(public(root, "01.described.mp4"))
    held = [(s, d) for s, d in frozen if abs(s - 8.0) < 0.3]
    assert held and held[0][1] >= holds["hold"] - 0.1, frozen


@pytest.mark.slow
def test_each_description_is_heard_at_its_time_and_the_whole_is_on_target(published):
    root, _ = published
    show_target = -16.0
    for name in ("01.described.mp4", "01.described.mp3"):
        path = public(root, name)
        whole = loudness.measure(path)
        assert whole.integrated == pytest.approx(show_target, abs=0.5) and whole.true_peak <= -1.0 + 0.05
        # the pause (3.6 to 7.8 s of the recording) is silent in the episode; in the described
        # version the first description is spoken there, at about speech level
        assert D.window_loudness(public(root, "01.mp4"), 4.2, 1.5) < -60
        assert D.window_loudness(path, 4.2, 1.5) > show_target - 8
        # the second is spoken over the held picture from 8 s, where the programme is paused
        assert D.window_loudness(path, 8.2, 1.5) > show_target - 8
    mp3 = loudness.measure(public(root, "01.mp3"))
    assert mp3.integrated == pytest.approx(show_target, abs=0.5)


@pytest.mark.slow
def test_the_descriptive_transcript_interleaves_captions_and_descriptions_in_time_order(published):
    root, _ = published
    page = public(root, "01/index.html").read_text(encoding="utf-8")
    transcript = page[page.index('id="transcript"'):]
    times = re.findall(r'<p(?: class="(description)")?(?: id="t\d+")?><a class="time"[^>]*>(\d+):(\d\d)</a>', transcript)
    order = [(int(m) * 60 + int(s), bool(kind)) for kind, m, s in times]
    # a description comes before the words at its time; one speaker's consecutive captions are a paragraph
    assert order == [(0, False), (4, True), (8, True), (8, False)]
    assert "Lopuksi yhteenveto" in transcript
    assert "[Kuvailu]" in transcript and "pylväskaavio" in transcript
    html = public(root, "01.transcript.html").read_text(encoding="utf-8")
    assert html.index("Tervetuloa") < html.index("pylväskaavio") < html.index("sitaatti") < html.index("kokeilujen")
    segments = json.loads(public(root, "01.transcript.json").read_text(encoding="utf-8"))["segments"]
    assert [s.get("speaker") for s in segments] == ["Maria Laine", "Kuvailu", "Kuvailu", "Maria Laine", "Maria Laine"]
    assert [s["startTime"] for s in segments] == sorted(s["startTime"] for s in segments)


@pytest.mark.slow
def test_the_feed_offers_the_described_version_as_alternate_enclosures_titled_as_such(published):
    root, _ = published
    raw = public(root, "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo
    from lxml import etree

    ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
    alternates = etree.fromstring(raw).findall(".//item/podcast:alternateEnclosure", ns)
    titled = {a.get("title"): (a.get("type"), int(a.get("length")), a.find("podcast:source", ns).get("uri"))
              for a in alternates}
    assert titled["Kuvailutulkattu video"][0] == "video/mp4"
    assert titled["Kuvailutulkattu video"][1] == public(root, "01.described.mp4").stat().st_size
    assert titled["Kuvailutulkattu video"][2].endswith("/tekoalywebinaarit/01.described.mp4")
    assert titled["Kuvailutulkattu ääni"][0] == "audio/mpeg"
    assert parsed.entries[0].enclosures[0]["href"].endswith("/01.mp4")  # the main enclosure stays the episode


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_offers_the_described_version_before_the_player_and_axe_and_nu_find_nothing(published, browser):
    root, url = published
    require(AXE.is_file(), "axe-core (npm ci in tests/browser)")
    browser.get(f"{url}/tekoalywebinaarit/01/index.html")
    # keyboard order: the first focusable element inside the player section is the described version
    order = browser.execute_script(
        "const s = document.getElementById('player-h').parentElement;"
        "return Array.from(s.querySelectorAll('a[href], video[controls]')).map(e => e.tagName + ' ' +"
        " (e.getAttribute('href') || ''));")
    assert order[0].startswith("A ") and order[0].endswith("01.described.mp4"), order
    assert order.index(next(o for o in order if o.startswith("VIDEO"))) > 0
    link = browser.find_element("css selector", "a[href$='01.described.mp4']")
    assert "Kuvailutulkattu video" in link.text
    track = browser.find_element("css selector", "video > track[kind='descriptions']")
    assert track.get_attribute("srclang") == "fi"
    assert axe_violations(browser) == []
    require(VNU.is_file() and shutil.which("java") is not None, "vnu-jar and a Java runtime")
    pages = [public(root, "01/index.html"), root / "public" / "saavutettavuus" / "index.html",
             public(root, "01.transcript.html")]
    run = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, pages)],
                         capture_output=True, text=True, timeout=180)
    assert json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"] == []


@pytest.mark.slow
def test_the_statement_names_the_described_episode_in_each_language(published):
    root, _ = published
    for key, words in (("saavutettavuus", "kuvailutulkattu versio"), ("tillganglighet", "syntolkad version"),
                       ("accessibility", "audio-described version")):
        page = (root / "public" / key / "index.html").read_text(encoding="utf-8")
        section = page[page.index(words):]
        assert "/tekoalywebinaarit/01/index.html" in section[:600]


@pytest.mark.slow
def test_check_warns_for_the_slide_change_with_no_description(tmp_path):
    root = scripted_workspace(tmp_path / "ws")
    result = invoke("--root", str(root), "check", "tekoalywebinaarit/01")
    lines = [line for line in result.stdout.splitlines() + result.stderr.splitlines() if "slide changes" in line]
    assert len(lines) == 1 and "0:12" in lines[0] and "warning" in lines[0].lower(), result.stdout + result.stderr
    # the show may make it an error, and an episode whose speakers describe their slides asks nothing
    show = root / "feeds" / "tekoalywebinaarit.toml"
    show.write_text(show.read_text(encoding="utf-8").replace('undescribed_slides = "warning"',
                                                             'undescribed_slides = "error"'), encoding="utf-8")
    result = invoke("--root", str(root), "check", "tekoalywebinaarit/01")
    assert result.returncode == 1 and "0:12" in result.stdout + result.stderr
    episode = root / "episodes" / "tekoalywebinaarit" / "01.md"
    episode.write_text(episode.read_text(encoding="utf-8").replace("\nguid:", "\nslides_described_aloud: true\nguid:"),
                       encoding="utf-8")
    result = invoke("--root", str(root), "check", "tekoalywebinaarit/01")
    assert "slide changes" not in result.stdout + result.stderr


def test_a_bad_description_file_is_one_line_naming_the_file_and_the_cue(tmp_path):
    root = copy_workspace(tmp_path / "ws")
    (root / "transcripts" / "tekoalywebinaarit" / "01.kuvailu.vtt").write_text(
        "WEBVTT\n\n00:00:09.000 --> 00:00:08.000\nDia: väärin päin.\n", encoding="utf-8")
    result = invoke("--root", str(root), "check", "tekoalywebinaarit/01")
    found = [line for line in (result.stdout + result.stderr).splitlines() if "01.kuvailu.vtt" in line]
    assert result.returncode == 1 and found and "descriptions" in found[0], result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_descriptions_and_captions_interleave_with_a_description_first_at_the_same_time():
    captions = [Cue(1.0, 2.0, "<v A>yksi"), Cue(5.0, 6.0, "<v A>kaksi")]
    told = [Cue(5.0, 7.0, "dia"), Cue(0.0, 1.0, "alku")]
    assert [(e.start, e.description) for e in interleave(captions, told)] == [
        (0.0, True), (1.0, False), (5.0, True), (5.0, False)]
    assert undescribed([4.0, 8.0, 12.0], [Cue(4.0, 6.0, "a"), Cue(8.5, 9.0, "b")]) == [12.0]


def test_a_description_that_fits_its_pause_holds_nothing_and_one_that_does_not_holds_the_rest():
    from media_pipeline.model import Description

    ds = [Description(4.0, 6.0, "a"), Description(8.0, 9.0, "b"), Description(8.2, 9.0, "c")]
    placed = described_mod.place(ds, [Path("a"), Path("b"), Path("c")], [2.0, 3.0, 1.0], [(3.6, 7.8), (8.0, 9.0)])
    assert [p.hold for p in placed] == [0.0, pytest.approx(2.3), pytest.approx(1.1)]
    # the third waits until the second has been spoken, and is placed after the second's hold
    assert placed[2].at >= placed[1].at + 3.0
