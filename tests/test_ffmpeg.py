"""Which ffmpeg runs, how it is checked, and how its failures and its children are handled.

Marked `portability`: CI runs this file with the distribution's ffmpeg as well as the wheel's.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg
from media_pipeline.errors import FFmpegError
from media_pipeline_demo import synth

pytestmark = pytest.mark.portability

CLI = [sys.executable, "-m", "media_pipeline"]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIA_PIPELINE_")}
    env[ffmpeg.ENV_FFMPEG] = ffmpeg.binary()  # the children run the ffmpeg this session runs
    env.update(extra)
    return env


def test_an_option_ffmpeg_lacks_fails_with_ffmpegs_own_reason_not_its_trailer():
    with pytest.raises(FFmpegError) as caught:
        ffmpeg.run(["-f", "lavfi", "-i", "sine=d=0.2", "-af", "ebur128=peak=true:nosuchoption=1", "-f", "null", "-"],
                   what="probe.wav")
    message = str(caught.value)
    assert message.startswith("probe.wav: ffmpeg failed: ")
    assert "nosuchoption" in message and "not found" in message, message
    assert "Conversion failed" not in message and "Error reinitializing" not in message
    assert "\n" not in message


def test_the_first_cause_is_chosen_from_ffmpeg_5_1s_report_of_an_unknown_option_value():
    # what Debian 12's ffmpeg 5.1 prints for ebur128's framelog=quiet, which only ffmpeg 7 knows
    stderr = textwrap.dedent("""\
        Input #0, lavfi, from 'sine=d=1':
          Duration: N/A, start: 0.000000, bitrate: 705 kb/s
        Stream mapping:
          Stream #0:0 (pcm_s16le) -> ebur128
        [ebur128 @ 0x56394fa8bd80] [Eval @ 0x7ffd38b81d00] Undefined constant or missing '(' in 'quiet'
        [ebur128 @ 0x56394fa8bd80] Unable to parse option value "quiet"
        [ebur128 @ 0x56394fa8bd80] Error setting option framelog to value quiet.
        [Parsed_ebur128_0 @ 0x56394fa8bc80] Error applying options to the filter.
        [AVFilterGraph @ 0x56394fa8b2c0] Error initializing filter 'ebur128' with args 'peak=true:framelog=quiet'
        Error reinitializing filters!
        Failed to inject frame into filter network: Invalid argument
        Error while processing the decoded data for stream #0:0
        Conversion failed!
        """).splitlines()
    assert ffmpeg.explain(stderr) == "ffmpeg failed: Error setting option framelog to value quiet."


def test_a_full_disk_says_no_space_left_with_the_path(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    with pytest.raises(FFmpegError) as caught:
        ffmpeg.run(["-f", "lavfi", "-i", "sine=d=3", "-f", "wav", "-y", "/dev/full"], what="sine", writes="/dev/full")
    assert str(caught.value) == "/dev/full: no space left on device"


def test_a_failure_that_is_not_the_writing_names_what_was_worked_on(tmp_path):
    """`writes` is named only for a full disk or a size limit: a source that cannot be read is
    the source's fault, not the output's."""
    source = tmp_path / "missing.wav"
    with pytest.raises(FFmpegError) as caught:
        ffmpeg.run(["-i", source, "-f", "wav", "-y", tmp_path / "out.wav"], what=source, writes=tmp_path / "out.wav")
    assert str(caught.value).startswith(f"{source}: ffmpeg failed: ") and "No such file" in str(caught.value)


def test_a_file_size_limit_says_file_too_large_with_the_path(tmp_path):
    out = tmp_path / "big.wav"
    script = textwrap.dedent(f"""\
        from media_pipeline.audio import ffmpeg
        from media_pipeline_demo import synth
        from media_pipeline.errors import FFmpegError
        try:
            ffmpeg.run(["-f", "lavfi", "-i", "sine=d=20", "-f", "wav", "-y", {str(out)!r}], what="sine",
                       writes={str(out)!r})
        except FFmpegError as exc:
            print(exc)
        """)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))

    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=child_env(),
                          preexec_fn=limit, timeout=120)
    assert proc.stdout.strip().startswith(f"{out}: file too large"), (proc.stdout, proc.stderr)


def fake_ffmpeg(folder: Path, version: str, *, drop: tuple[str, ...] = (), libavcodec: int | None = None) -> Path:
    """A shell script that answers the probe like the real ffmpeg, but as VERSION (with that
    `libavcodec` major version, if given) and without the listing lines that mention any of `drop`
    (a filter, an encoder, an option)."""
    real = ffmpeg.binary()
    folder.mkdir(parents=True, exist_ok=True)
    answers = {"filters": ["-filters"], "encoders": ["-encoders"], "formats": ["-formats"],
               **{f"filter={f}": ["-h", f"filter={f}"] for f in ("ebur128", "alimiter", "volume")}}
    for name, args in answers.items():
        text = subprocess.run([real, "-hide_banner", *args], capture_output=True, text=True).stdout
        kept = [line for line in text.splitlines() if not any(f" {d} " in f"{line} " for d in drop)]
        (folder / f"{name}.txt").write_text("\n".join(kept) + "\n")
    script = folder / "ffmpeg"
    libs = f"; echo 'libavutil      57. 28.100 / 57. 28.100'; echo 'libavcodec     {libavcodec}. 37.100 / {libavcodec}. 37.100'" \
        if libavcodec is not None else ""
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        here="$(dirname "$0")"
        for arg in "$@"; do
          case "$arg" in
            -version) echo "ffmpeg version {version} Copyright (c) 2000-2018 the FFmpeg developers"{libs}; exit 0 ;;
            -filters) cat "$here/filters.txt"; exit 0 ;;
            -encoders) cat "$here/encoders.txt"; exit 0 ;;
            -formats) cat "$here/formats.txt"; exit 0 ;;
            filter=*) cat "$here/$arg.txt"; exit 0 ;;
          esac
        done
        echo "fake ffmpeg: $*" >> "$here/ran.log"
        exit 1
        """))
    script.chmod(0o755)
    return script


def test_a_binary_without_what_the_pipeline_needs_is_refused_in_one_line(tmp_path):
    fake = fake_ffmpeg(tmp_path / "old", "4.0.6", drop=("alimiter", "libmp3lame"))
    with pytest.raises(FFmpegError) as caught:
        ffmpeg.check(str(fake))
    assert str(caught.value) == (
        f"{fake}: cannot use ffmpeg 4.0.6: it lacks the alimiter filter, the libmp3lame encoder; "
        "choose another with MEDIA_PIPELINE_FFMPEG=/path/to/ffmpeg (or MEDIA_PIPELINE_FFMPEG=ffmpeg for the one on PATH)")


def test_every_ffmpeg_command_refuses_such_a_binary_before_any_work(workspace):
    workspace.show()
    workspace.episode("001", seconds=2)
    fake = fake_ffmpeg(workspace.root.parent / "old", "4.0.6", drop=("alimiter",))
    before = sorted(p.relative_to(workspace.root) for p in workspace.root.rglob("*"))
    for command in (["publish", "--all"], ["process", "testi/001"], ["loudness", "media/testi/001.wav"]):
        proc = subprocess.run([*CLI, "--root", str(workspace.root), *command], capture_output=True, text=True,
                              env=child_env(MEDIA_PIPELINE_FFMPEG=str(fake)), timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr == f"error: {fake}: cannot use ffmpeg 4.0.6: it lacks the alimiter filter; " \
                              "choose another with MEDIA_PIPELINE_FFMPEG=/path/to/ffmpeg " \
                              "(or MEDIA_PIPELINE_FFMPEG=ffmpeg for the one on PATH)\n", command
    helped = subprocess.run([*CLI, "--root", str(workspace.root), "publish", "--help"], capture_output=True,
                            text=True, env=child_env(MEDIA_PIPELINE_FFMPEG=str(fake)), timeout=60)
    assert helped.returncode == 0 and "Example" in helped.stdout  # help needs no ffmpeg
    assert not (fake.parent / "ran.log").exists()  # nothing but the probe ran
    assert sorted(p.relative_to(workspace.root) for p in workspace.root.rglob("*")) == before


def test_missing_options_with_an_equivalent_are_adapted_not_refused(tmp_path):
    # ffmpeg 5.1: ebur128 has no framelog=quiet; 4.4: alimiter has no latency option either
    fake = fake_ffmpeg(tmp_path / "old", "4.4.2", drop=("quiet", "latency"))
    caps = ffmpeg.check(str(fake))
    assert caps.version == "4.4.2"
    assert caps.has_option("ebur128", "framelog", "verbose") and not caps.has_option("ebur128", "framelog", "quiet")
    assert caps.has_option("alimiter", "limit") and not caps.has_option("alimiter", "latency")


def test_the_probe_runs_once_per_process():
    first = ffmpeg.checked()
    assert ffmpeg.checked() is first
    assert ffmpeg.capabilities(first.path) is ffmpeg.capabilities(first.path)
    assert {"ebur128", "alimiter", "volume"} <= first.filters and {"libmp3lame", "aac"} <= first.encoders


def test_the_probe_is_remembered_per_binary_and_asked_again_when_the_binary_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fake = fake_ffmpeg(tmp_path / "old", "4.0.6", drop=("alimiter",))
    asked = tmp_path / "old" / "asked.log"
    # the fake notes every listing it answers, so a remembered answer shows as no new line
    fake.write_text(fake.read_text().replace('here="$(dirname "$0")"',
                                             'here="$(dirname "$0")"\necho "$*" >> "$here/asked.log"'))
    ffmpeg.capabilities.cache_clear()
    with pytest.raises(FFmpegError, match="4.0.6: it lacks the alimiter filter"):
        ffmpeg.check(str(fake))
    first = asked.read_text().count("\n")
    assert first == 7  # -version, -filters, -encoders, -formats and three filters' options
    ffmpeg.capabilities.cache_clear()  # as a new process would start
    with pytest.raises(FFmpegError, match="4.0.6: it lacks the alimiter filter"):
        ffmpeg.check(str(fake))
    assert asked.read_text().count("\n") == first  # answered from the cache folder
    remembered = list((tmp_path / "cache" / "media-pipeline" / "ffmpeg").glob("*.json"))
    assert len(remembered) == 1
    # upgraded in place: another version, every filter; the same path
    fake.write_text(fake.read_text().replace("4.0.6", "9.9.9").replace('"$here/filters.txt"', '"$here/all.txt"'))
    (tmp_path / "old" / "all.txt").write_text(subprocess.run([ffmpeg.binary(), "-hide_banner", "-filters"],
                                                             capture_output=True, text=True).stdout)
    ffmpeg.capabilities.cache_clear()
    assert ffmpeg.check(str(fake)).version == "9.9.9"
    assert asked.read_text().count("\n") == 2 * first
    # a cache folder that cannot be written costs the probe, nothing else
    monkeypatch.setenv("XDG_CACHE_HOME", "/dev/null/cache")
    ffmpeg.capabilities.cache_clear()
    assert ffmpeg.check(str(fake)).version == "9.9.9"
    ffmpeg.capabilities.cache_clear()


@pytest.mark.parametrize("libavcodec, threaded", [(59, False), (60, False), (61, True), (63, True), (None, True)],
                         ids=["5.1", "6.1", "7.0", "9.0", "unsaid"])
def test_the_probe_tells_whether_the_encoders_run_on_threads_of_their_own(tmp_path, monkeypatch, libavcodec, threaded):
    """ffmpeg 7 (libavcodec 61) and later give every encoder a thread; older ones encode all
    outputs on one, where `encode` runs one ffmpeg per output instead (see test_normalise)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fake = fake_ffmpeg(tmp_path / "bin", "n-test", libavcodec=libavcodec)
    for _ in range(2):  # asked, then remembered
        ffmpeg.capabilities.cache_clear()
        assert ffmpeg.capabilities(str(fake)).threaded_outputs is threaded
    ffmpeg.capabilities.cache_clear()


def test_a_background_run_gets_a_lower_priority():
    proc = ffmpeg.popen([sys.executable, "-c", "import os; print(os.nice(0))"], nice=ffmpeg.BACKGROUND_NICE,
                        stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=30)
    ffmpeg.forget(proc)
    assert int(out) == min(19, os.nice(0) + ffmpeg.BACKGROUND_NICE)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that mention `text` (this machine's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                state = (entry / "stat").read_text().split(") ", 1)[1][:1]
            except OSError:
                continue
            if text in cmdline and state != "Z":
                found.append(cmdline)
    return found


def temporary_folders(root: Path, tmp: Path) -> list[Path]:
    left = [p for p in root.rglob("*") if p.name.endswith((".tmp", ".tmp.lock")) or p.name.startswith((".verify-", ".synth-"))]
    return left + list(tmp.iterdir())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_publish_killed_during_encoding_leaves_no_ffmpeg_and_no_temporary_folder_after_the_next_run(
        workspace, tmp_path, how):
    workspace.show()
    workspace.episode("001", seconds=90)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = child_env(TMPDIR=str(tmp))
    proc = subprocess.Popen([*CLI, "-vv", "--root", str(workspace.root), "publish", "--all", "--now",
                             "2026-02-01T00:00:00+02:00"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    seen = threading.Event()
    said: list[str] = []

    def watch() -> None:
        for line in proc.stderr:
            said.append(line)
            if line.startswith("run: ") and "libmp3lame" in line:
                seen.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert seen.wait(120), "the encode never started"
    deadline = time.monotonic() + 10
    while not [p for p in processes_mentioning(str(workspace.root)) if "libmp3lame" in p]:
        assert proc.poll() is None and time.monotonic() < deadline, "the encoding ffmpeg was never seen running"
        time.sleep(0.01)
    os.kill(proc.pid, how)
    proc.wait(30)
    watcher.join(5)
    deadline = time.monotonic() + 1  # the kernel kills the children at once; the encode alone takes longer
    while processes_mentioning(str(workspace.root)):
        assert time.monotonic() < deadline, processes_mentioning(str(workspace.root))
        time.sleep(0.05)
    if how == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM, "".join(said[-15:])
        assert said[-1] == "Interrupted.\n" and not [line for line in said if "Traceback" in line], said[-15:]
        assert temporary_folders(workspace.root, tmp) == []  # unwound: nothing even before the next run
    else:
        assert temporary_folders(workspace.root, tmp)  # the staging folder a SIGKILL cannot clean up
    again = subprocess.run([*CLI, "--root", str(workspace.root), "publish", "--all", "--now",
                            "2026-02-01T00:00:00+02:00"], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert temporary_folders(workspace.root, tmp) == []


def test_a_stop_signal_after_the_run_has_ended_changes_nothing():
    """A signal that lands once the work is done, while Python shuts down (when it puts the default
    action back, so the process would die of the signal with exit -15): the exit code is the run's,
    and nothing is printed. A program started after the run still stops on SIGTERM (an ignored
    signal would be inherited)."""
    script = textwrap.dedent("""
        import atexit, os, signal, subprocess, sys
        from media_pipeline.cli import run
        code = run(["--version"])
        atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM))  # while shutting down
        os.kill(os.getpid(), signal.SIGTERM)  # after the run, before the exit
        os.kill(os.getpid(), signal.SIGINT)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        child.terminate()
        print("child", child.wait(10))
        sys.exit(code)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=child_env(), timeout=60)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert proc.stdout.endswith(f"child {-signal.SIGTERM}\n")
    assert proc.stdout.startswith("media-pipeline, version")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_stop_signal_at_any_moment_of_a_publish_ends_the_run_promptly_and_loses_nothing(workspace, tmp_path):
    """SIGTERM lands wherever the run is: starting a child, logging, hashing, tagging, writing the
    feed. Each time the run ends within seconds, with 143 and "Interrupted." (or 0, had it finished),
    no traceback and no child left; then one run publishes every episode."""
    import random

    import feedparser

    workspace.show()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = child_env(TMPDIR=str(tmp))
    chance = random.Random(20261201)
    # how long one such run takes here, uninterrupted: the signals land across that span
    workspace.episode("000", seconds=20)
    started = time.monotonic()
    first = subprocess.run([*CLI, "--root", str(workspace.root), "publish", "--all", "--now",
                            "2026-02-01T00:00:00+02:00"], capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    span = time.monotonic() - started
    interrupted = 0
    for round_ in range(1, 15):
        workspace.episode(f"{round_:03}", seconds=20)
        proc = subprocess.Popen([*CLI, "-vv", "--root", str(workspace.root), "publish", "--all", "--now",
                                 "2026-02-01T00:00:00+02:00"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env)
        said: list[str] = []
        watcher = threading.Thread(target=lambda: said.extend(proc.stderr), daemon=True)
        watcher.start()
        while not said:  # the run has started logging: its handler is in place
            assert proc.poll() is None, "the run ended before it said anything"
            time.sleep(0.005)
        time.sleep(chance.uniform(0, 0.8 * span))
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"round {round_}: the run did not stop within 20 s of SIGTERM: {''.join(said[-10:])}")
        watcher.join(5)
        assert proc.returncode in (0, 128 + signal.SIGTERM), (round_, "".join(said[-15:]))
        if proc.returncode:
            assert said[-1] == "Interrupted.\n", (round_, "".join(said[-15:]))
            interrupted += 1
        assert not [line for line in said if "Traceback" in line or "Exception ignored" in line], said
        assert not processes_mentioning(str(workspace.root))
    assert interrupted >= 7, f"only {interrupted} of 14 runs were stopped: the signals came too late to test much"
    done = subprocess.run([*CLI, "--root", str(workspace.root), "publish", "--all", "--now",
                           "2026-02-01T00:00:00+02:00"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    feed = feedparser.parse((workspace.root / "public" / "testi" / "feed.xml").read_bytes())
    assert len(feed.entries) == 15
    for entry in feed.entries:
        media = entry.enclosures[0]
        stored = workspace.root / "public" / media.href.removeprefix("http://127.0.0.1:8000/")
        assert stored.stat().st_size == int(media.length), media.href
    assert temporary_folders(workspace.root, tmp) == []


def test_a_run_keeps_only_the_ends_of_a_long_stderr_and_hands_every_line_to_who_asks():
    """ffmpeg.run never keeps stderr whole: a frame log of 20 minutes (12,000 lines) comes back as
    its first and last lines, while a caller that reads the middle gets every line as it arrives."""
    seen: list[str] = []
    result = ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=8000,atrim=duration=1200", "-af", "ebur128=framelog=info",
                         "-f", "null", "-"], what="long.wav", lines=seen.append)
    kept = result.stderr.splitlines()
    frames = [line for line in seen if " t: " in line]
    assert len(frames) >= 11_900  # one every 100 ms
    assert len(kept) <= ffmpeg.HEAD_LINES + ffmpeg.TAIL_LINES + 1
    assert "lines not kept]" in result.stderr and "Summary:" in result.stderr  # the summary is in the tail
    assert kept[:10] == seen[:10] and kept[-10:] == seen[-10:]
