"""The command line as users of git, aws or mkdocs expect (issue 21): shell completion that
works, global options after the command's name, one JSON document from every command that
reports, one way to name episodes, and a command about one episode that leaves others alone."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from cli_support import invoke
from publish_support import feed_guids, manifest_of, stored_feed

NOW = "2026-05-01T12:00:00+03:00"
BIN = Path(sys.executable).parent


def _completions(root: Path, *words: str) -> list[str]:
    """What the shell gets for the last of `words`, asked the way click's bash script asks."""
    line = ["media-pipeline", "--root", str(root), *words]
    result = invoke(env={"_MEDIA_PIPELINE_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(line),
                         "COMP_CWORD": str(len(line) - 1)})
    assert result.returncode == 0, result.stderr
    return [entry.split(",", 1)[1] for entry in result.stdout.splitlines() if entry]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_variable_prints_a_completion_script_not_the_help(shell):
    by_variable = invoke(env={"_MEDIA_PIPELINE_COMPLETE": f"{shell}_source"})
    assert by_variable.returncode == 0, by_variable.stderr
    assert "Usage:" not in by_variable.stdout
    assert "_MEDIA_PIPELINE_COMPLETE" in by_variable.stdout and "media-pipeline" in by_variable.stdout
    by_command = invoke("completion", shell)
    assert by_command.returncode == 0, by_command.stderr
    assert by_command.stdout.strip() == by_variable.stdout.strip()


def test_completion_offers_commands_shows_and_episodes(workspace):
    workspace.show()
    workspace.show("toinen")
    workspace.episode("001", seconds=2)
    workspace.episode("002", seconds=2)
    assert "publish" in _completions(workspace.root, "pub")
    assert "release-due" in _completions(workspace.root, "rel")
    assert _completions(workspace.root, "publish", "te") == ["testi/001", "testi/002"]
    assert _completions(workspace.root, "publish", "--show", "") == ["testi", "toinen"]
    assert _completions(workspace.root, "check", "to") == ["toinen"]
    assert "--json" in _completions(workspace.root, "check", "--j")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_a_command_with_the_installed_script(workspace):
    """The script from `completion bash`, loaded by a real bash, calls back into the command."""
    workspace.show()
    workspace.episode("001", seconds=2)
    script = ('eval "$(media-pipeline completion bash)"; '
              'COMP_WORDS=(media-pipeline unpublish tes); COMP_CWORD=2; _media_pipeline_completion media-pipeline; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], cwd=workspace.root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["testi/001"]


def test_global_options_are_accepted_after_the_command(workspace):
    workspace.show()
    workspace.episode("001", seconds=2)
    before = invoke("--root", str(workspace.root), "-q", "check")
    after = invoke("check", "-q", "--root", str(workspace.root))
    assert after.returncode == before.returncode == 0, after.stderr
    assert (after.stdout, after.stderr) == (before.stdout, before.stderr)
    assert after.stderr == ""  # -q: no summary line
    verbose = invoke("--root", str(workspace.root), "check", "-v")
    assert verbose.returncode == 0, verbose.stderr
    assert "No such option" not in verbose.stderr
    assert "1 show(s), 1 valid episode(s) checked" in verbose.stderr
    # -v counts add up wherever they are given: -vv shows every ffmpeg command
    both = invoke("--root", str(workspace.root), "-v", "loudness", str(workspace.root / "media/testi/001.wav"), "-v")
    assert both.returncode == 0, both.stderr
    assert "ffmpeg" in both.stderr
    once = invoke("--root", str(workspace.root), "loudness", str(workspace.root / "media/testi/001.wav"), "-v")
    assert "ffmpeg -" not in once.stderr
    # --log-format after the command: the per-line JSON that publish printed before the command
    lines = invoke("--root", str(workspace.root), "publish", "--all", "--now", NOW, "--log-format", "json")
    assert lines.returncode == 0, lines.stderr
    assert [json.loads(line)["episode"] for line in lines.stdout.splitlines()[:1]] == ["testi/001"]


def _document(result, command: str) -> dict:
    """The whole of stdout is one JSON document of `command`."""
    document = json.loads(result.stdout)
    assert document["command"] == command
    assert document["ok"] is (result.returncode == 0), result.stderr
    return document


def test_every_command_that_reports_prints_one_json_document(workspace):
    workspace.show()
    workspace.episode("001", seconds=3)
    workspace.episode("002", seconds=3, publish_at="2026-06-01T09:00:00+03:00")  # staged at NOW
    root = ("--root", str(workspace.root))

    check = _document(invoke(*root, "check", "--json"), "check")
    assert (check["shows"], check["episodes"], check["errors"]) == (1, 2, 0)
    assert all(set(p) == {"file", "field", "reason", "severity"} for p in check["problems"])

    process = _document(invoke(*root, "process", "testi/001", "--json"), "process")
    [episode] = process["episodes"]
    assert episode["episode"] == "testi/001" and episode["state"] == "processed"
    assert all(-17.5 < r["integrated"] < -14.5 and r["true_peak"] <= -0.9 for r in episode["renditions"])

    published = _document(invoke(*root, "--json", "publish", "--all", "--now", NOW), "publish")
    states = {e["episode"]: e["state"] for e in published["episodes"]}
    assert states == {"testi/001": "live", "testi/002": "staged"}
    assert published["feeds"] == [{"feed": "http://127.0.0.1:8000/testi/feed.xml"}]
    assert published["failures"] == []

    released = _document(invoke(*root, "release-due", "--json", "--now", "2026-06-02T00:00:00+03:00"),
                         "release-due")
    assert [r["episode"] for r in released["released"]] == ["testi/002"]
    nothing = _document(invoke(*root, "release-due", "--json", "--now", "2026-06-02T00:00:00+03:00"), "release-due")
    assert (nothing["released"], nothing["due"]) == ([], [])

    guid = next(r.guid for r in manifest_of(workspace.root).episodes.values() if r.slug == "001")
    gone = _document(invoke(*root, "unpublish", "testi/001", "--yes", "--json"), "unpublish")
    assert gone["episodes"] == [{"episode": "testi/001", "state": "unpublished", "guid": guid,
                                 "deleted": gone["episodes"][0]["deleted"]}]
    assert guid not in feed_guids(workspace.root)

    measured = _document(invoke(*root, "loudness", "--json", str(workspace.root / "public/testi/002.mp3")),
                         "loudness")
    assert -17.5 < measured["integrated"] < -14.5 and measured["duration"] > 2.5

    tags = _document(invoke(*root, "tags", str(workspace.root / "public/testi/002.mp3"), "--json"), "tags")
    assert tags["fields"]["title"] == "Jakso 002"


def test_a_failed_command_still_prints_its_one_json_document(workspace):
    workspace.show()
    workspace.episode("001", seconds=2)
    root = ("--root", str(workspace.root))
    missing = invoke(*root, "publish", "testi/999", "--json", "--now", NOW)
    assert missing.returncode == 1
    document = _document(missing, "publish")
    assert document["failures"] and "testi/999" in document["failures"][0]
    assert "error: testi/999" in missing.stderr  # the same line on stderr, as without --json
    (workspace.root / "media/testi/001.wav").unlink()
    broken = invoke(*root, "check", "--json")
    assert broken.returncode == 1
    [problem] = [p for p in _document(broken, "check")["problems"] if p["severity"] == "error"]
    assert problem["file"] == "episodes/testi/001.md" and problem["field"] == "source"
    # a command that prints no report refuses --json rather than ignoring it
    assert invoke(*root, "feed", "testi", "--json").returncode == 2


def test_episodes_are_named_the_same_way_on_every_command(workspace):
    workspace.show()
    workspace.episode("001", seconds=2)
    root = ("--root", str(workspace.root))
    path = str(workspace.root / "episodes/testi/001.md")
    for command in (("process",), ("publish", "--dry-run", "--now", NOW), ("check",)):
        by_key = invoke(*root, *command, "testi/001")
        by_path = invoke(*root, *command, path)
        by_show = invoke(*root, *command, "--show", "testi")
        by_all = invoke(*root, *command, "--all")
        assert by_key.returncode == by_path.returncode == by_show.returncode == by_all.returncode == 0, command
        assert by_path.stdout == by_show.stdout == by_all.stdout, command  # the first run processed it
    unknown = invoke(*root, "process", "--show", "eiole")
    assert unknown.returncode == 2 and "'eiole' is not a show (testi)" in unknown.stderr
    assert invoke(*root, "process").returncode == 2  # nothing named
    assert invoke(*root, "publish", "--all", "testi/001").returncode == 2  # --all and a name contradict


def test_unpublish_of_one_episode_works_while_another_show_has_a_broken_episode_file(workspace):
    """Issue 21: `unpublish a/001` was refused because an episode of another show had lost its
    recording. Only what the take-down needs is judged."""
    workspace.show()
    workspace.show("toinen")
    workspace.episode("001", seconds=2)
    workspace.episode("002", seconds=2)
    workspace.episode("001", show="toinen", seconds=2)
    root = ("--root", str(workspace.root))
    assert invoke(*root, "publish", "--all", "--now", NOW).returncode == 0
    other_feed = stored_feed(workspace.root, "toinen")
    # the other show: a recording gone, and an unfinished draft (an empty title)
    (workspace.root / "media/toinen/001.wav").unlink()
    workspace.write("episodes/toinen/002.md", '---\ntitle: ""\npublish_at: 2026-06-01T09:00:00+03:00\n'
                                              'source: media/toinen/002.wav\n---\n')
    assert invoke(*root, "check").returncode == 1  # check still finds them

    guid = next(r.guid for r in manifest_of(workspace.root).episodes.values() if r.slug == "002")
    done = invoke(*root, "unpublish", "testi/002", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("testi/002: unpublished (")
    assert guid not in feed_guids(workspace.root)
    assert len(feedparser.parse(stored_feed(workspace.root)).entries) == 1
    assert stored_feed(workspace.root, "toinen") == other_feed  # the other show is left as it was
    # an episode whose own file is broken can still be taken down by its name
    workspace.write("episodes/testi/001.md", "---\ntitle: [\n---\n")
    last = invoke(*root, "unpublish", "testi/001", "--yes")
    assert last.returncode == 0, last.stderr
    assert feed_guids(workspace.root) == []


def test_serve_on_another_port_warns_that_the_feeds_link_elsewhere(workspace):
    """Issue 22 item 9: the feeds keep public_url's port; a preview on another port says so."""
    workspace.show()
    workspace.episode("001", seconds=2)
    assert invoke("--root", str(workspace.root), "publish", "--all", "--now", NOW).returncode == 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "media_pipeline", "--root", str(workspace.root), "serve",
                                "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        serving = process.stderr.readline()
        base = serving.split(" at ")[1].split("/ ")[0]
        warning = process.stderr.readline()
        feed = process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert warning.startswith(f"warning: the feeds link to http://127.0.0.1:8000 (public_url), not to {base}")
    assert feed == f"{base}/testi/feed.xml"


def test_serve_on_the_public_port_says_nothing_more(workspace):
    from media_pipeline.cli.serve import _same_place

    assert _same_place("http://127.0.0.1:8000", "127.0.0.1", 8000)
    assert _same_place("http://localhost:8000/", "127.0.0.1", 8000)
    assert not _same_place("http://127.0.0.1:8000", "127.0.0.1", 8001)
    assert not _same_place("https://podcasts.example.fi", "127.0.0.1", 443)


def test_a_failure_line_always_starts_with_error(workspace):
    """Issue 22 item 9: storage failures, and every other failure line, carry the `error: ` prefix."""
    workspace.show()
    workspace.episode("001", seconds=2)
    dead = {"MEDIA_PIPELINE_STORAGE": "s3://bucket/podcasts?max_attempts=1&retries=1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
    for command in (("publish", "--all", "--now", NOW), ("release-due",), ("feed", "testi"),
                    ("unpublish", "testi/001", "--yes"), ("publish", "--all", "--json", "--now", NOW)):
        result = invoke("--root", str(workspace.root), *command, env=dead)
        assert result.returncode == 1, command
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), (command, lines)
        assert "127.0.0.1:9" in result.stderr
    with socket.socket() as taken:  # a port another server holds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = invoke("--root", str(workspace.root), "serve", "--port", str(port))
    assert busy.returncode == 1 and busy.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}"), busy.stderr
