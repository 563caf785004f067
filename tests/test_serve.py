"""`serve`: a local storage folder over HTTP with HEAD and byte ranges, and nothing private leaking."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from media_pipeline.cli import cli
from media_pipeline.layout import cache_control_for, content_type_for
from media_pipeline.preview.server import make_server, parse_range
from media_pipeline.storage import open_storage, sha256_file
from media_pipeline_demo import synth


@pytest.fixture(scope="module")
def mp3(tmp_path_factory) -> Path:
    return synth.speech(tmp_path_factory.mktemp("media") / "001.mp3", 5.0, channels=1, seed=3)


@pytest.fixture
def published(tmp_path, mp3):
    """A local storage folder with a real MP3 published in it, and a feed."""
    storage = open_storage("file://./public", tmp_path)
    key = "ihmiskeskeisyys/001.mp3"
    storage.put_file(key, mp3, content_type=content_type_for(key), cache_control=cache_control_for(key),
                     sha256=sha256_file(mp3))
    storage.put_bytes("ihmiskeskeisyys/feed.xml", b"<rss version='2.0'/>",
                      content_type=content_type_for("feed.xml"), cache_control=cache_control_for("x/feed.xml"))
    return storage


@pytest.fixture
def server(published):
    httpd = make_server(published.root, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def request(server, path: str, method: str = "GET", headers: dict | None = None):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)  # the path goes out exactly as given
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_range_1000_to_1999_of_a_published_mp3_is_206_with_exactly_those_bytes(server, mp3):
    response, body = request(server, "/ihmiskeskeisyys/001.mp3", headers={"Range": "bytes=1000-1999"})
    size = mp3.stat().st_size
    assert response.status == 206
    assert response.getheader("Content-Range") == f"bytes 1000-1999/{size}"
    assert response.getheader("Content-Length") == "1000"
    assert body == mp3.read_bytes()[1000:2000]
    assert response.getheader("Content-Type") == "audio/mpeg"
    assert response.getheader("Accept-Ranges") == "bytes"


@pytest.mark.parametrize("header, expected", [
    ("bytes=100-199", (100, 199)),
    ("bytes=100-", (100, None)),
    ("bytes=-500", (-500, None)),
    ("bytes=0-0", (0, 0)),
    ("bytes=1000-99999999", (1000, None)),  # the end is clamped to the last byte
])
def test_single_ranges_answer_206_with_the_exact_bytes(server, mp3, header, expected):
    data = mp3.read_bytes()
    first, last = expected
    want = data[first:] if last is None else data[first:last + 1]
    start = first if first >= 0 else len(data) + first
    response, body = request(server, "/ihmiskeskeisyys/001.mp3", headers={"Range": header})
    assert response.status == 206
    assert body == want
    assert response.getheader("Content-Range") == f"bytes {start}-{start + len(want) - 1}/{len(data)}"


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0"])
def test_unsatisfiable_ranges_answer_416(server, mp3, header):
    response, _ = request(server, "/ihmiskeskeisyys/001.mp3", headers={"Range": header})
    assert response.status == 416
    assert response.getheader("Content-Range") == f"bytes */{mp3.stat().st_size}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=9-3", "items=0-5", "bytes=abc"])
def test_ranges_we_do_not_serve_fall_back_to_the_whole_file(server, mp3, header):
    response, body = request(server, "/ihmiskeskeisyys/001.mp3", headers={"Range": header})
    assert response.status == 200 and body == mp3.read_bytes()


def test_head_answers_the_headers_of_get_without_a_body(server, mp3):
    response, body = request(server, "/ihmiskeskeisyys/001.mp3", method="HEAD")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(mp3.stat().st_size)
    assert response.getheader("Accept-Ranges") == "bytes"
    assert response.getheader("Cache-Control") == cache_control_for("ihmiskeskeisyys/001.mp3")
    assert response.getheader("ETag") == f'"{sha256_file(mp3)}"'
    assert response.getheader("Last-Modified").endswith("GMT")
    ranged, body = request(server, "/ihmiskeskeisyys/001.mp3", method="HEAD", headers={"Range": "bytes=10-19"})
    assert ranged.status == 206 and ranged.getheader("Content-Length") == "10" and body == b""


def test_content_types_come_from_the_stored_metadata(server, published, tmp_path):
    published.put_bytes("ihmiskeskeisyys/001.chapters.json", b'{"version":"1.2.0","chapters":[]}',
                        content_type="application/json+chapters", cache_control="public, max-age=86400")
    published.put_bytes("ihmiskeskeisyys/001.vtt", b"WEBVTT\n", content_type="text/vtt; charset=utf-8",
                        cache_control="public, max-age=86400")
    (published.root / "ihmiskeskeisyys" / "by-hand.jpg").write_bytes(b"\xff\xd8\xff")  # no sidecar
    expected = {
        "/ihmiskeskeisyys/feed.xml": "application/rss+xml; charset=utf-8",
        "/ihmiskeskeisyys/001.chapters.json": "application/json+chapters",
        "/ihmiskeskeisyys/001.vtt": "text/vtt; charset=utf-8",
        "/ihmiskeskeisyys/by-hand.jpg": "image/jpeg",
    }
    for path, content_type in expected.items():
        response, _ = request(server, path, method="HEAD")
        assert (response.status, response.getheader("Content-Type")) == (200, content_type), path
    response, _ = request(server, "/ihmiskeskeisyys/by-hand.jpg", method="HEAD")
    assert response.getheader("ETag").startswith('W/"')  # no checksum known: a weak validator


def test_validators_give_304_and_if_range_never_splices_two_versions(server, mp3):
    etag = f'"{sha256_file(mp3)}"'
    response, body = request(server, "/ihmiskeskeisyys/001.mp3", headers={"If-None-Match": etag})
    assert response.status == 304 and body == b""
    response, body = request(server, "/ihmiskeskeisyys/001.mp3",
                             headers={"Range": "bytes=0-9", "If-Range": etag})
    assert response.status == 206 and len(body) == 10
    response, body = request(server, "/ihmiskeskeisyys/001.mp3",
                             headers={"Range": "bytes=0-9", "If-Range": '"an-older-version"'})
    assert response.status == 200 and body == mp3.read_bytes()


@pytest.mark.parametrize("path", [
    "/_private/manifest.json",
    "/_private/meta/ihmiskeskeisyys/001.mp3.json",
    "/%5Fprivate/manifest.json",
    "/_PRIVATE/manifest.json",
    "//_private/manifest.json",
    "/ihmiskeskeisyys/../_private/manifest.json",
    "/ihmiskeskeisyys/.hidden.mp3",
    "/ihmiskeskeisyys/",
    "/../outside.txt",
    "/%2e%2e/outside.txt",
    "/ihmiskeskeisyys/%2e%2e/%2e%2e/outside.txt",
    "/ihmiskeskeisyys/link-out.txt",
])
def test_private_hidden_and_outside_paths_are_never_served(server, published, tmp_path, path):
    published.put_bytes("_private/manifest.json", b'{"secret": "embargoed"}', content_type="application/json",
                        cache_control="no-store")
    (published.root / "ihmiskeskeisyys" / ".hidden.mp3").write_bytes(b"hidden")
    (tmp_path / "outside.txt").write_text("outside")
    (published.root / "ihmiskeskeisyys" / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    assert (published.root / "_private" / "manifest.json").is_file()  # there to be refused, not missing
    for method in ("GET", "HEAD"):
        response, body = request(server, path, method=method)
        assert response.status == 404, (method, path)
        assert b"secret" not in body and b"outside" not in body and b"hidden" not in body


def test_non_ascii_keys_are_served_from_their_percent_encoded_urls(server, published):
    published.put_bytes("näkökulmia/feed.xml", b"<rss/>", content_type="application/rss+xml; charset=utf-8",
                        cache_control="public, max-age=300")
    response, body = request(server, "/n%C3%A4k%C3%B6kulmia/feed.xml")
    assert response.status == 200 and body == b"<rss/>"


def test_only_get_and_head(server):
    response, _ = request(server, "/ihmiskeskeisyys/001.mp3", method="DELETE")
    assert response.status == 405 and response.getheader("Allow") == "GET, HEAD"


def test_parse_range_edges():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-", 0) == "unsatisfiable"
    assert parse_range("bytes=-20", 10) == (0, 9)
    assert parse_range("bytes=9-", 10) == (9, 9)
    assert parse_range("bytes=10-", 10) == "unsatisfiable"


def test_the_serve_command_serves_the_workspace_storage(workspace, published, mp3):
    # The workspace fixture's storage is file://./public under its root.
    target = workspace.root / "public"
    published.root.rename(target)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from media_pipeline.cli import main; main()", "--root", str(workspace.root),
         "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stderr.readline()
        assert line.startswith(f"Serving {target.resolve()} at http://127.0.0.1:"), line
        base = line.split(" at ")[1].split("/ ")[0]
        assert process.stdout.readline().strip() == f"{base}/ihmiskeskeisyys/feed.xml"
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/ihmiskeskeisyys/001.mp3", headers={"Range": "bytes=100-199"})
        response = connection.getresponse()
        assert response.status == 206 and response.read() == mp3.read_bytes()[100:200]
        connection.request("GET", "/_private/meta/ihmiskeskeisyys/001.mp3.json")
        response = connection.getresponse()
        assert response.status == 404
        response.read()
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_serve_command_refuses_remote_storage(workspace):
    workspace.write("media-pipeline.toml", 'storage = "s3://bucket/podcasts"\n')
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-c", "from media_pipeline.cli import main; main()", "--root", str(workspace.root),
         "serve", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == [
        f"error: {workspace.root / 'media-pipeline.toml'}: storage: serve needs local storage (file://FOLDER);"
        " this workspace publishes to s3://bucket/podcasts"]
    assert time.monotonic() - started < 30


def test_serve_help_ends_with_an_example():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "media-pipeline serve --port 8000" in result.output


def test_a_client_that_hangs_up_mid_request_prints_no_traceback(server, capfd, caplog):
    import socket
    import struct

    caplog.set_level("DEBUG", logger="media_pipeline.preview.server")
    host, port = server.server_address[:2]
    for _ in range(3):
        client = socket.create_connection((host, port), timeout=5)
        client.sendall(b"GET /ihmiskeskeisyys/001.mp3 HTTP/1.1\r\nHost: x")  # no end of headers: the server waits
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        client.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any("hung up" in r.getMessage() for r in caplog.records):
        time.sleep(0.05)
    assert any("hung up" in r.getMessage() for r in caplog.records)
    assert "Traceback" not in capfd.readouterr().err
    response, body = request(server, "/ihmiskeskeisyys/001.mp3", headers={"Range": "bytes=0-9"})
    assert response.status == 206 and len(body) == 10  # and it goes on serving
