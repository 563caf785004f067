"""`check` refuses everything `publish` would refuse before audio work, for any selection (the
workspace, a show, one episode), with the same line: recordings with nothing to normalise,
caption norms, a guid duplicated by another episode. Through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg

from check_support import SHOW, make_workspace, write_episode
from publish_support import run_cli

NOW = "2026-03-10T12:00"


def lavfi(path: Path, source: str, *filters: str) -> str:
    ffmpeg.run(["-f", "lavfi", "-i", source, *(["-af", ",".join(filters)] if filters else []), "-y", path], what=path)
    return path.name


def errors(text: str) -> list[str]:
    return [line.removeprefix("error: ") for line in text.splitlines()
            if line.strip() and not line.startswith("warning:") and "valid episode(s) checked" not in line]


@pytest.mark.parametrize(("recording", "make", "words"), [
    ("silence", lambda p: lavfi(p, "anullsrc=r=48000:cl=mono:d=3"), "is digital silence"),
    ("short", lambda p: lavfi(p, "sine=f=440:d=0.05"), "is 0.050 s long, too short to measure its loudness"),
    ("quiet", lambda p: lavfi(p, "sine=f=440:d=3", "volume=-60dB"), "is too quiet to measure"),
])
def test_a_recording_with_nothing_to_normalise_is_refused_by_check_and_publish_alike(tmp_path, recording, make,
                                                                                      words):
    root = make_workspace(tmp_path)
    make(root / "media" / f"{recording}.wav")
    write_episode(root, "003-hiljaa", {"title": "Jakso 3", "number": 3, "season": 1, "source": f"media/{recording}.wav",
                                       "transcript": None, "publish_at": "2026-02-04T09:00:00+02:00"})
    line = f"episodes/{SHOW}/003-hiljaa.md: source: media/{recording}.wav: {words}"

    one = run_cli(root, "check", f"{SHOW}/003-hiljaa")
    assert one.code == 1
    [found] = [x for x in errors(one.out) if x.startswith(f"episodes/{SHOW}/003-hiljaa.md: source:")]
    assert found.startswith(line), found
    if recording != "silence":
        assert "silence" not in found, "said for what it is"
    whole = run_cli(root, "check", SHOW)
    assert whole.code == 1 and found in errors(whole.out)

    published = run_cli(root, "publish", "--show", SHOW, "--now", NOW, "--no-notify")
    assert published.code == 1
    assert errors(published.err) == [found], "the same line, workspace-relative, before any audio work"
    assert f"{SHOW}/001-ihmiskeskeisyys: live, 5 file(s) uploaded" in published.lines
    assert not list((root / "public" / SHOW).glob("003-hiljaa*"))


LONG_CAPTION = """1
00:00:00,000 --> 00:00:02,500
Tämä tekstitysrivi on tarkoituksella liian pitkä, seitsemänkymmentä merkkiä!
"""


@pytest.mark.parametrize("norms", ["warning", "error"])
def test_check_of_one_episode_applies_the_caption_norms_check_of_its_show_applies(tmp_path, norms):
    root = make_workspace(tmp_path, extra=f'[transcripts]\nnorms = "{norms}"\n')
    (root / "media" / "pitka.srt").write_text(LONG_CAPTION, encoding="utf-8")
    write_episode(root, "003-pitka", {"title": "Jakso 3", "number": 3, "season": 1, "transcript": "media/pitka.srt",
                                      "publish_at": "2026-02-04T09:00:00+02:00"})
    one = run_cli(root, "check", f"{SHOW}/003-pitka")
    whole = run_cli(root, "check", SHOW)
    caption = [x for x in one.out.splitlines() if "media/pitka.srt" in x]
    assert caption and all(x in whole.out.splitlines() for x in caption)
    assert one.code == whole.code == (1 if norms == "error" else 0)
    assert ("error(s), 0 warning(s)" in one.err) == (norms == "error")
    if norms == "error":
        published = run_cli(root, "publish", f"{SHOW}/003-pitka", "--now", NOW, "--no-notify")
        assert published.code == 1 and set(errors(published.err)) <= set(errors(one.out))


def test_check_of_one_episode_names_a_guid_another_episode_duplicates(tmp_path):
    root = make_workspace(tmp_path)
    guid = "7d1f4a52-3c1e-4a8e-9a57-0f4c6f0c2b11"
    for slug in ("001-ihmiskeskeisyys", "002-elamantapahtumat"):
        path = root / "episodes" / SHOW / f"{slug}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("---\n\n", f"guid: {guid}\n---\n\n", 1),
                        encoding="utf-8")
    first = run_cli(root, "check", f"{SHOW}/001-ihmiskeskeisyys")
    second = run_cli(root, "check", f"{SHOW}/002-elamantapahtumat")
    line = (f"episodes/{SHOW}/002-elamantapahtumat.md: guid: '{guid}' is also the guid of "
            f"episodes/{SHOW}/001-ihmiskeskeisyys.md; guids must be unique")
    assert first.code == second.code == 1
    assert errors(first.out) == errors(second.out) == [line]
