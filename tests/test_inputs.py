"""Hostile inputs refused early with one line, and what is accepted published correctly (issue 12)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg
from media_pipeline_demo import synth

from publish_support import run_cli

NOW = "2026-05-01T12:00:00+03:00"


def storage_state(root: Path) -> dict[str, str]:
    """Every stored file (local storage) with its checksum: equal states mean nothing changed."""
    public = root / "public"
    if not public.exists():
        return {}
    return {str(p.relative_to(public)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(public.rglob("*")) if p.is_file()}


def nothing_published(root: Path) -> bool:
    """A failed run stored nothing at all: not even the show's artwork, which a run uploads only
    once the feed it would write can be rendered."""
    return storage_state(root) == {}


def error_lines(run) -> list[str]:
    """What a run said beside its results: every line on stderr and every error line on stdout."""
    return [line for line in (run.err + run.out).splitlines() if line.strip()]


def refused_once(run, *needles: str) -> str:
    """The run failed with exit 1 and exactly one line mentions the first needle; it holds all needles."""
    assert run.code == 1, (run.out, run.err)
    assert "Traceback" not in run.err
    named = [line for line in error_lines(run) if needles[0] in line]
    assert len(named) == 1, error_lines(run)
    for needle in needles:
        assert needle in named[0], named[0]
    return named[0]


def damaged_mp3(path: Path, seconds: float = 8.0) -> Path:
    """An MP3 with 20 KB of random bytes in place of its middle, as a broken copy leaves it."""
    synth.speech(path, seconds, level_lufs=-20, channels=1)
    data = path.read_bytes()
    middle = len(data) // 2
    garbage = bytes((i * 7919 + 13) % 251 for i in range(20_000))
    path.write_bytes(data[:middle] + garbage + data[middle + len(garbage):])
    return path


def truncated_wav(path: Path, seconds: float = 8.0, keep: int = 300_000) -> Path:
    """A WAV cut to its first `keep` bytes: the header still declares the whole recording."""
    synth.speech(path, seconds, level_lufs=-20, channels=1)
    path.write_bytes(path.read_bytes()[:keep])
    return path


def _episode_with_source(workspace, source_name: str, make, extra: str = "") -> Path:
    workspace.show()
    source = make(workspace.root / "media" / source_name)
    workspace.write("episodes/testi/001.md", f"---\ntitle: Jakso\npublish_at: 2026-01-15T09:00:00+02:00\n"
                                             f"source: media/{source_name}\n{extra}---\n\nMuistiinpanot.\n")
    return source


@pytest.mark.parametrize("name, make, where", [
    ("rikki.mp3", damaged_mp3, "damaged at "),
    ("katkennut.wav", truncated_wav, "cut short at byte 300,000"),
])
def test_a_damaged_recording_is_refused_by_check_and_publish_naming_where_and_why(workspace, name, make, where):
    """Must show 3: the damaged MP3 and the truncated WAV; nothing is stored."""
    (workspace.root / "media").mkdir()
    _episode_with_source(workspace, name, make)
    checked = run_cli(workspace.root, "check")
    line = refused_once(checked, name, where, "accept_damaged_source")
    if name.endswith(".mp3"):
        assert "Header missing" in line or "Invalid data" in line, line
        seconds = float(line.split("damaged at ", 1)[1].split(" s", 1)[0])
        assert 2.0 < seconds < 6.0, line  # the garbage sits in the middle of 8 s
    published = run_cli(workspace.root, "publish", "--all", "--now", NOW)
    line = refused_once(published, name, where)
    assert nothing_published(workspace.root)


def test_a_damaged_recording_is_found_by_publish_even_when_check_is_not_run_first(workspace):
    """Publishing finds decoder damage in the analysis pass it runs anyway, not by a decode of its own."""
    (workspace.root / "media").mkdir()
    _episode_with_source(workspace, "rikki.mp3", damaged_mp3)
    from media_pipeline.audio import probe

    assert probe.header_damage(workspace.root / "media" / "rikki.mp3") is None  # only decoding shows it
    published = run_cli(workspace.root, "publish", "testi/001", "--now", NOW)
    refused_once(published, "rikki.mp3", "damaged at ", "decoder says")
    assert nothing_published(workspace.root)


def test_accept_damaged_source_publishes_a_damaged_recording_as_it_is(workspace):
    (workspace.root / "media").mkdir()
    _episode_with_source(workspace, "rikki.mp3", damaged_mp3, extra="accept_damaged_source: true\n")
    checked = run_cli(workspace.root, "check")
    assert checked.code == 0, checked.out + checked.err
    assert [line for line in checked.out.splitlines() if "rikki.mp3" in line and line.startswith("warning:")]
    published = run_cli(workspace.root, "publish", "--all", "--now", NOW)
    assert published.code == 0, published.err
    assert "testi/001.mp3" in storage_state(workspace.root)


def test_a_healthy_recording_passes_the_damage_checks(workspace, tmp_path):
    from media_pipeline.audio import probe

    wav = synth.speech(tmp_path / "ehja.wav", 3.0) or tmp_path / "ehja.wav"
    assert probe.header_damage(wav) is None
    assert probe.scan(wav) is None
    assert probe.locate_damage(wav) is None


# -- secrets --------------------------------------------------------------------------------------

SECRET = "FakeSecretKey0zq81x"
KEY_ID = "AKIAFAKEKEYID0ZQ81"
ENDPOINT_PASSWORD = "EndpointPass0zq81"


@pytest.mark.slow  # 13 to 19 s: the default run keeps under its 10-minute budget; CI runs it
def test_nothing_a_run_prints_holds_a_credential_or_the_staging_token(workspace, s3, monkeypatch):
    """Must show 4 (item 5): fake credentials in every place they can be given, every command in
    every log format; none of them, and no staging token, appears in anything printed."""
    from publish_support import use_s3

    use_s3(workspace, s3, shows=("testi",))
    workspace.show()
    workspace.episode("001", seconds=3)
    workspace.episode("002", seconds=3, publish_at="2030-01-15T09:00:00+02:00")  # staged behind a token
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    host = s3.endpoint.split("://", 1)[1]
    outputs: list[str] = []

    def run(*args: str, env: dict | None = None):
        result = run_cli(workspace.root, *args, env=env)
        outputs.append(result.out + result.err)
        return result

    # moto accepts any key; the endpoint's userinfo is carried along and must never be printed
    endpoint = {"AWS_ENDPOINT_URL": f"http://user:{ENDPOINT_PASSWORD}@{host}"}
    first = run("-vv", "--log-format", "json", "publish", "--all", "--now", NOW, env=endpoint)
    assert first.code == 0, first.err
    staged = [o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"] if "/staged/" in o["Key"]]
    assert staged, "the later episode is staged"
    token = staged[0].split("/staged/", 1)[1].split("/", 1)[0]
    for flags in (("-vv",), ("-v", "--log-format", "json"), ("--log-format", "json"), ()):
        run(*flags, "check", env=endpoint)
        run(*flags, "publish", "--all", "--now", NOW, env=endpoint)
        run(*flags, "publish", "--all", "--dry-run", "--now", NOW, env=endpoint)
        run(*flags, "release-due", "--dry-run", "--now", "2030-02-01T00:00:00+02:00", env=endpoint)
        run(*flags, "feed", "testi", env=endpoint)
    released = run("-vv", "--log-format", "json", "release-due", "--now", "2030-02-01T00:00:00+02:00", env=endpoint)
    assert released.code == 0 and "released testi/002" in released.out, released.err
    # an endpoint that does not answer: botocore's connection error names the endpoint URL
    dead = {"AWS_ENDPOINT_URL": f"http://user:{ENDPOINT_PASSWORD}@127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    failed = run("-vv", "publish", "--all", "--now", NOW, env={**dead, "MEDIA_PIPELINE_STORAGE":
                                                            f"{s3.storage_url()}?retries=1&max_attempts=1"})
    assert failed.code == 1
    assert "127.0.0.1:9" in failed.out + failed.err  # the failure was reported, the endpoint named
    run("--log-format", "json", "feed", "testi", env=dead)
    # credentials in the storage URL itself: refused without repeating them
    bucket_url = s3.storage_url()
    for storage in (f"s3://{KEY_ID}:{SECRET}@{bucket_url[5:]}", f"{bucket_url}?aws_secret_access_key={SECRET}",
                    f"{bucket_url}?aws_access_key_id={KEY_ID}&aws_secret_access_key={SECRET}"):
        for command in (("check",), ("publish", "--all", "--now", NOW), ("release-due",), ("feed", "testi")):
            refused = run("-vv", "--log-format", "json", *command, env={"MEDIA_PIPELINE_STORAGE": storage})
            assert refused.code == 1, command
            assert "credential" in refused.out + refused.err
    printed = "\n".join(outputs)
    for secret in (SECRET, KEY_ID, ENDPOINT_PASSWORD, token):
        assert secret not in printed, secret
    assert "_private/testi/staged/…/" in printed  # the staged upload was logged, its token hidden
    assert "Traceback" not in printed


def test_a_missing_aws_profile_is_one_line_in_check_and_publish(workspace, s3, monkeypatch):
    from publish_support import use_s3

    use_s3(workspace, s3, shows=("testi",))
    workspace.show()
    workspace.episode("001", seconds=3)
    before = bucket_objects(s3)
    for command in (("check",), ("publish", "--all", "--now", NOW), ("release-due",)):
        result = run_cli(workspace.root, *command, env={"AWS_PROFILE": "nonexistent"})
        refused_once(result, "nonexistent", "profile")
    assert bucket_objects(s3) == before


def bucket_objects(s3) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in s3.client.list_objects_v2(Bucket=s3.bucket).get("Contents", [])}


# -- episode and artwork files refused by check and publish alike ---------------------------------


def bomb_png(path: Path, size: int = 20_000) -> Path:
    """A PNG whose header declares size x size pixels (a few hundred bytes on disk)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def small_jpeg(path: Path) -> Path:
    from check_support import image

    return image(path, 800, 600)


def _refused_everywhere(workspace, needle: str, *also: str) -> None:
    """check, publish and publish --all --dry-run each refuse with one line naming `needle`; nothing stored."""
    for args in (("check",), ("publish", "--all", "--dry-run", "--now", NOW), ("publish", "--all", "--now", NOW),
                 ("publish", "testi/001", "--now", NOW)):
        refused_once(run_cli(workspace.root, *args), needle, *also)
        if "--dry-run" in args or args == ("check",):
            assert storage_state(workspace.root) == {}, args
    assert nothing_published(workspace.root)


CUES = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nAlku.\n\n00:00:30.000 --> 00:00:31.000\nLiian myöhään.\n"


@pytest.mark.parametrize("extra, needle, reason", [
    ('title: "Jakso \\ud83c"\n', "title", "lone surrogate"),
    ('title: "Ensimmäinen rivi\\ntoinen rivi"\n', "title", "must be one line"),
    ("keywords: [\"a\\ud83c\"]\n", "keywords[0]", "lone surrogate"),
    ("artwork: artwork/pieni.jpg\n", "800x600 px; Apple Podcasts needs 1400", "pieni.jpg"),
    ("artwork: artwork/valtava.png\n", "valtava.png", "too many pixels"),
    ('chapters:\n  - start: "00:00:00"\n    title: Alku\n  - start: "00:00:40"\n    title: Loppu\n',
     "chapters[1].start", "after the end"),
    ("transcript: transcripts/001.vtt\n", "00:00:31", "after the end of the episode"),
], ids=["surrogate", "newline", "surrogate-in-list", "small-artwork", "bomb-artwork", "chapter-late", "cue-late"])
def test_an_episode_file_fault_is_refused_by_check_and_publish_with_one_line(workspace, extra, needle, reason):
    """Must show 4 (item 7): each fault refused by check, publish and its dry run alike, before any work."""
    workspace.show()
    small_jpeg(workspace.root / "artwork" / "pieni.jpg")
    bomb_png(workspace.root / "artwork" / "valtava.png")
    workspace.write("transcripts/001.vtt", CUES)
    workspace.episode("001", seconds=3, extra=extra)
    path = workspace.root / "episodes" / "testi" / "001.md"
    text = path.read_text(encoding="utf-8")
    if extra.startswith("title:"):  # the factory wrote a title of its own: the one in extra replaces it
        path.write_text(text.replace('title: "Jakso 001"\n', "", 1), encoding="utf-8")
    _refused_everywhere(workspace, needle, reason)


def test_show_artwork_with_too_many_pixels_is_one_line_in_check_and_publish(workspace):
    """Must show 4 (item 6): Pillow's DecompressionBombError never reaches the user as a traceback."""
    workspace.show(toml=__import__("conftest").SHOW_TOML.replace("artwork/show.jpg", "artwork/valtava.png"))
    bomb_png(workspace.root / "artwork" / "valtava.png")
    workspace.episode("001", seconds=3)
    _refused_everywhere(workspace, "valtava.png", "too many pixels")


def test_notes_left_as_new_wrote_them_are_refused(workspace):
    workspace.show()
    created = run_cli(workspace.root, "new", "testi", "--title", "Oikea otsikko")
    assert created.code == 0, created.err
    path = workspace.root / "episodes" / "testi" / "001.md"
    (workspace.root / "media").mkdir()
    synth.speech(workspace.root / "media" / "001.wav", 3.0)
    path.write_text(path.read_text(encoding="utf-8").replace('source: ""', "source: media/001.wav", 1),
                    encoding="utf-8")
    _refused_everywhere(workspace, "notes", "example text")
    # once the notes are the producer's own, the same file passes
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("\n---\n", 1)[0] + "\n---\n\nOmat muistiinpanot.\n", encoding="utf-8")
    assert run_cli(workspace.root, "check").code == 0


HOSTILE_VTT = """WEBVTT

00:00:00.000 --> 00:00:01.000
<v Maria>Hei <i>kaikki</i></v> <script>alert(1)</script>

00:00:01.000 --> 00:00:02.000
-->
Tom & Jerry <img src=x onerror=alert(1)>
"""


def test_published_webvtt_is_valid_and_inert_whatever_the_cue_text_holds(workspace):
    import webvtt

    workspace.show()
    workspace.write("transcripts/001.vtt", HOSTILE_VTT)
    workspace.episode("001", seconds=3, extra="transcript: transcripts/001.vtt\n")
    published = run_cli(workspace.root, "publish", "testi/001", "--now", NOW)
    assert published.code == 0, published.err
    path = workspace.root / "public" / "testi" / "001.vtt"
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text
    assert "\n-->\n" not in text and "--&gt;" in text
    assert "<v Maria>Maria: Hei <i>kaikki</i></v>" in text  # WebVTT's own tags are kept, the speaker named
    assert "Tom &amp; Jerry" in text
    cues = webvtt.read(str(path))
    assert len(cues) == 2
    assert "alert(1)" in cues[0].text  # shown as text, not run
    for line in text.splitlines()[2:]:
        if "-->" in line:  # every "-->" left is a timing line
            assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", line), line


# -- video that MP4 cannot carry as it is ---------------------------------------------------------


def webm(path: Path, seconds: float = 3.0) -> Path:
    """A WebM like a browser recording: VP8 picture and Opus speech."""
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = synth.speech(path.with_name("webm-audio.wav"), seconds, level_lufs=-24, channels=1)
    ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=15:duration={seconds}", "-i", audio,
                "-map", "0:v", "-map", "1:a", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k",
                "-c:a", "libopus", "-b:a", "48k", "-shortest", "-y", path], what=path)
    Path(audio).unlink()
    return path


def test_a_webm_webinar_is_published_as_an_h264_mp4_that_plays(workspace):
    """Must show 3: a VP8 WebM passes check and publishes a correct MP4 (re-encoded picture)."""
    from media_pipeline.audio import probe

    workspace.show()
    webm(workspace.root / "media" / "selain.webm")
    workspace.write("episodes/testi/001.md", "---\ntitle: Webinaari\npublish_at: 2026-01-15T09:00:00+02:00\n"
                                             "source: media/selain.webm\n---\n\nMuistiinpanot.\n")
    checked = run_cli(workspace.root, "check")
    assert checked.code == 0, checked.out + checked.err
    published = run_cli(workspace.root, "publish", "--all", "--now", NOW)
    assert published.code == 0, published.err
    mp4 = workspace.root / "public" / "testi" / "001.mp4"
    info = probe.probe(mp4)
    assert info.video.codec == "h264" and info.audio.codec == "aac"
    assert abs(info.duration - 3.0) < 0.3
    # every frame decodes: ffmpeg reads the file to its end without a decoder error
    decoded = ffmpeg.run(["-i", mp4, "-f", "null", "-"], what=mp4)
    assert probe.decoder_damage(decoded.stderr) is None
    frames = ffmpeg.run(["-i", mp4, "-map", "0:v:0", "-f", "framecrc", "-"], what=mp4, capture_stdout=True)
    assert len([line for line in frames.stdout.decode().splitlines() if not line.startswith("#")]) >= 40


def test_an_h264_webinar_keeps_its_picture_packet_for_packet():
    from media_pipeline.audio.encode import video_args

    assert video_args("h264") == ["-c:v", "copy"]
    assert video_args("hevc") == ["-c:v", "copy", "-tag:v", "hvc1"]
    assert "libx264" in video_args("vp8") and "libx264" in video_args("vp9")


# -- the command line's last line of defence ------------------------------------------------------

_FAILING_COMMAND = """
import sys, click
from media_pipeline.cli import cli, main

@cli.command("explode")
def explode():
    raise RuntimeError("something nobody foresaw, at http://user:SekretPw0zq81@example.org/x")

sys.argv = ["media-pipeline", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("flags", [(), ("--verbose",)])
def test_an_unforeseen_exception_is_one_line_and_its_traceback_only_on_verbose(flags):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _FAILING_COMMAND, *flags, "explode"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == [errors[0]] and "RuntimeError: something nobody foresaw" in errors[0]
    assert "SekretPw0zq81" not in proc.stderr + proc.stdout
    if flags:
        assert "Traceback" in proc.stderr
    else:
        assert lines == errors and "run again with --verbose" in errors[0]


@pytest.mark.parametrize("relative", ["feeds/testi.toml", "episodes/testi/001.md"])
def test_a_file_not_in_utf8_is_one_line_in_check_and_publish(workspace, relative):
    workspace.show()
    workspace.episode("001", seconds=3, title="Jakso äö")
    path = workspace.root / relative
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    for args in (("check",), ("publish", "--all", "--now", NOW)):
        refused_once(run_cli(workspace.root, *args), Path(relative).name, "UTF-8")
    assert nothing_published(workspace.root)


def test_check_keeps_each_decode_until_the_recording_changes(workspace):
    (workspace.root / "media").mkdir()
    source = workspace.root / "media" / "jakso.mp3"
    synth.speech(source, 8.0, level_lufs=-20, channels=1)
    workspace.show()
    workspace.write("episodes/testi/001.md", "---\ntitle: Jakso\npublish_at: 2026-01-15T09:00:00+02:00\n"
                                             "source: media/jakso.mp3\n---\n\nMuistiinpanot.\n")
    assert run_cli(workspace.root, "check").code == 0
    assert not (workspace.root / ".media-pipeline").exists()  # check alone creates nothing
    (workspace.root / ".media-pipeline" / "cache").mkdir(parents=True)  # as processing leaves it
    assert run_cli(workspace.root, "check").code == 0
    memos = list((workspace.root / ".media-pipeline" / "cache" / "_scan").glob("*.json"))
    assert len(memos) == 1 and '"damage": null' in memos[0].read_text()
    damaged_mp3(source)  # the same name, new bytes: the kept answer no longer applies
    refused_once(run_cli(workspace.root, "check"), "jakso.mp3", "damaged at ")
