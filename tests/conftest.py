"""Shared fixtures: a real S3-compatible server on 127.0.0.1 and generated workspaces."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from media_pipeline_demo import synth

ENV_EXTERNAL_S3 = "MEDIA_PIPELINE_TEST_S3_ENDPOINT"

# The demo and synthesis package sits beside the library, not in it: the processes the tests start
# (a second run, a killed one) import it as the tests do.
REPO = Path(__file__).resolve().parents[1]
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible HTTP server for the session: moto's server mode bound to 127.0.0.1 only
    (its default binds every interface), or the endpoint named by $MEDIA_PIPELINE_TEST_S3_ENDPOINT
    (for example a local MinIO), so the same tests run against another implementation."""
    external = os.environ.get(ENV_EXTERNAL_S3)
    if external:
        yield external
        return
    from moto.server import ThreadedMotoServer

    _atomic_conditional_puts()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # A client that hangs up mid-request (a killed run, a closed connection) makes the server's
    # thread print a traceback to sys.stderr, which a command run in-process would capture as its
    # own output: the server's request errors go to the log instead.
    _quiet_request_errors(server)
    yield f"http://{host}:{port}"
    server.stop()


def _atomic_conditional_puts() -> None:
    """moto checks a PUT's If-Match / If-None-Match and then writes, with no lock between the two,
    while its server answers requests on many threads: two conditional writes of one key can then
    both succeed, which AWS S3 (and MinIO, R2) never allow. The concurrency tests lost an episode to
    exactly that, in moto, not in the code they test. One lock around its PUT makes moto keep the
    guarantee the tests rely on."""
    import threading

    from moto.s3.responses import S3Response

    if getattr(S3Response.put_object, "_atomic", False):
        return
    lock = threading.Lock()
    plain = S3Response.put_object

    def put_object(self, *args, **kwargs):
        with lock:
            return plain(self, *args, **kwargs)

    put_object._atomic = True
    S3Response.put_object = put_object


def _quiet_request_errors(server) -> None:
    import logging

    http = getattr(server, "_server", None)
    if http is None:
        return

    def handle_error(request, client_address) -> None:
        logging.getLogger("tests.s3_server").debug("request from %s failed", client_address, exc_info=True)

    http.handle_error = handle_error


@dataclass
class S3Env:
    endpoint: str
    bucket: str
    client: object
    server: str = "moto"
    conditional_writes: bool = True  # whether the server refuses stale conditional writes

    def storage_url(self, prefix: str = "podcasts") -> str:
        # a server without conditional writes takes writes only from an acknowledged single publisher
        return f"s3://{self.bucket}/{prefix}" + ("" if self.conditional_writes else "?single_publisher=true")


@pytest.fixture(scope="session")
def rclone_server(tmp_path_factory):
    """`rclone serve s3` over a temporary folder on 127.0.0.1, for the session."""
    from s3_servers import start_rclone

    server = start_rclone(tmp_path_factory.mktemp("rclone") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3rver_server(tmp_path_factory):
    """s3rver (npm) over a temporary folder on 127.0.0.1, for the session."""
    from s3_servers import start_s3rver

    server = start_s3rver(tmp_path_factory.mktemp("s3rver") / "data")
    yield server
    server.stop()


def s3_env_on(request, monkeypatch, name: str) -> S3Env:
    """A fresh bucket on the named server ("moto", "rclone" or "s3rver"), with the AWS chain's
    environment pointing at it."""
    if name == "moto":
        return request.getfixturevalue("s3")
    from botocore.config import Config

    server = request.getfixturevalue(f"{name}_server")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    client = boto3.session.Session().client("s3", endpoint_url=server.endpoint, config=Config(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"))
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Env(server.endpoint, bucket, client, name, server.conditional_writes)


S3_SERVERS = ["moto", "rclone", "s3rver"]


@pytest.fixture(params=S3_SERVERS)
def any_s3(request, monkeypatch) -> S3Env:
    """A fresh bucket on each S3-compatible server in turn: moto, rclone and s3rver."""
    return s3_env_on(request, monkeypatch, request.param)


@pytest.fixture
def s3(s3_endpoint, monkeypatch) -> S3Env:
    """A fresh bucket on the test server, with the environment the AWS chain reads pointing at it."""
    if not os.environ.get(ENV_EXTERNAL_S3):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Env(s3_endpoint, bucket, client)


SHOW_TOML = """\
title = "Testiohjelma äö"
description = "Ohjelma testejä varten."
language = "fi"
author = "Testaaja"
link = "https://example.fi/testi"
categories = ["Government", "Education > Courses"]
artwork = "artwork/show.jpg"
explicit = false
license = "CC-BY-4.0"

[owner]
name = "Testaaja"
email = "podcast@example.fi"

[audio]
target_lufs = -16.0
true_peak = -1.0
channels = 1
bitrate = 64
"""


@dataclass
class WorkspaceFactory:
    root: Path
    sources: Path | None = None  # the session's synthesised recordings, made once and copied

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def show(self, slug: str = "testi", toml: str = SHOW_TOML) -> Path:
        artwork = self.root / "artwork" / "show.jpg"
        if not artwork.exists():
            make_jpeg(artwork, 1400)
        return self.write(f"feeds/{slug}.toml", toml)

    def episode(self, slug: str, *, show: str = "testi", title: str | None = None,
                publish_at: str = "2026-01-15T09:00:00+02:00", seconds: float = 6.0, video: bool = False,
                extra: str = "", notes: str = "Jakson *muistiinpanot*.") -> Path:
        source = self.root / "media" / show / f"{slug}.{'mp4' if video else 'wav'}"
        if not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            made = (self.sources or source.parent) / (f"webinar-{seconds:g}.mp4" if video
                                                       else f"speech-{seconds:g}-{len(slug)}.wav")
            if not made.exists():
                if video:
                    synth.webinar(made, seconds, size="320x180")
                else:
                    synth.speech(made, seconds, level_lufs=-24, channels=1, seed=len(slug))
            if made != source:
                shutil.copyfile(made, source)
        front = (f"title: \"{title or 'Jakso ' + slug}\"\npublish_at: {publish_at}\n"
                 f"source: {source.relative_to(self.root)}\n{textwrap.dedent(extra)}")
        return self.write(f"episodes/{show}/{slug}.md", f"---\n{front}---\n\n{notes}\n")


def make_jpeg(path: Path, size: int) -> Path:
    """A square RGB JPEG made with ffmpeg, so no image library is needed to set up a workspace."""
    from media_pipeline.audio import ffmpeg

    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg.run(["-f", "lavfi", "-i", f"testsrc2=size={size}x{size}:duration=1", "-frames:v", "1", "-q:v", "4",
                "-y", path], what=path)
    return path


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory) -> Path:
    """A folder of the session's synthesised recordings: each made once, copied into workspaces."""
    return tmp_path_factory.mktemp("synthesised")


@pytest.fixture
def workspace(tmp_path, monkeypatch, synthesised) -> WorkspaceFactory:
    """An empty workspace (media-pipeline.toml with local storage) in tmp_path."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "media-pipeline.toml").write_text(
        'storage = "file://./public"\npublic_url = "http://127.0.0.1:8000"\ntimezone = "Europe/Helsinki"\n')
    for name in ("MEDIA_PIPELINE_STORAGE", "MEDIA_PIPELINE_PUBLIC_URL", "MEDIA_PIPELINE_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    return WorkspaceFactory(root, synthesised)


@pytest.fixture
def fault_proxy(s3, monkeypatch):
    """A FaultProxy in front of the `s3` fixture's server, with AWS_ENDPOINT_URL pointing at it
    (the `s3.client` fixture client still talks to the server directly, unaffected by faults)."""
    from s3_faults import FaultProxy

    with FaultProxy(s3.endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield proxy


@pytest.fixture
def started(monkeypatch) -> list[tuple[list[str], int]]:
    """Every process ffmpeg.popen starts from now on: its argv and how many steps of nice lower."""
    from media_pipeline.audio import ffmpeg

    seen: list[tuple[list[str], int]] = []
    popen = ffmpeg.popen

    def spy(argv, *, nice=0, **kwargs):
        seen.append(([str(a) for a in argv], nice))
        return popen(argv, nice=nice, **kwargs)

    monkeypatch.setattr(ffmpeg, "popen", spy)
    return seen
