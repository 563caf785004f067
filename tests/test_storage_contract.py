"""The storage contract, run against every backend: a local folder and S3 on a real server
(moto on 127.0.0.1, or the endpoint named by $MEDIA_PIPELINE_TEST_S3_ENDPOINT).

What was stored is read back with an independent reader (the raw boto3 client, or the files and
sidecars on disk), not through the backend under test.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from conftest import make_jpeg, s3_env_on

from media_pipeline.errors import StorageError
from media_pipeline.layout import cache_control_for, content_type_for
from media_pipeline.storage import PreconditionFailed, open_storage
from media_pipeline.storage.local import LocalStorage
from media_pipeline_demo import synth


class Backend:
    """A storage under test plus a raw reader of what it stored."""

    def __init__(self, storage, s3=None, prefix: str = ""):
        self.storage = storage
        self.s3 = s3
        self.prefix = prefix

    def raw(self, key: str) -> dict | None:
        """Bytes and headers as a listener's client (or the disk) sees them."""
        if self.s3 is None:
            path = self.storage.root / key
            if not path.is_file():
                return None
            meta_path = self.storage.root / "_private" / "meta" / f"{key}.json"
            meta = json.loads(meta_path.read_text())
            return {"data": path.read_bytes(), "content_type": meta["content_type"],
                    "cache_control": meta["cache_control"], "sha256": meta["sha256"]}
        try:
            response = self.s3.client.get_object(Bucket=self.s3.bucket, Key=f"{self.prefix}/{key}")
        except self.s3.client.exceptions.NoSuchKey:
            return None
        return {"data": response["Body"].read(), "content_type": response["ContentType"],
                "cache_control": response.get("CacheControl"),
                "sha256": {k.lower(): v for k, v in response["Metadata"].items()}.get("sha256")}


@pytest.fixture(params=["local", "s3", "rclone", "s3rver"])
def backend(request, tmp_path, monkeypatch) -> Backend:
    if request.param == "local":
        return Backend(open_storage("file://./public", tmp_path))
    s3 = request.getfixturevalue("s3") if request.param == "s3" else s3_env_on(request, monkeypatch, request.param)
    prefix = f"contract-{uuid.uuid4().hex[:8]}"
    return Backend(open_storage(s3.storage_url(prefix), tmp_path), s3, prefix)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Real media of every kind a show publishes, generated with ffmpeg."""
    folder = tmp_path_factory.mktemp("media")
    chapters = folder / "001.chapters.json"
    chapters.write_text(json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Alku"}]}))
    transcript = folder / "001.vtt"
    transcript.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nTervetuloa.\n", encoding="utf-8")
    return {
        "ihmiskeskeisyys/001.mp3": synth.speech(folder / "001.mp3", 4.0, channels=1, seed=2),
        "tekoalywebinaarit/001.mp4": synth.webinar(folder / "001.mp4", 3.0, size="160x90"),
        "ihmiskeskeisyys/artwork.jpg": make_jpeg(folder / "artwork.jpg", 1400),
        "ihmiskeskeisyys/001.chapters.json": chapters,
        "ihmiskeskeisyys/001.vtt": transcript,
    }


# What listeners' apps and CDNs must see, written out rather than derived from the code under test.
EXPECTED = {
    "ihmiskeskeisyys/001.mp3": ("audio/mpeg", "public, max-age=86400"),
    "tekoalywebinaarit/001.mp4": ("video/mp4", "public, max-age=86400"),
    "ihmiskeskeisyys/artwork.jpg": ("image/jpeg", "public, max-age=86400"),
    "ihmiskeskeisyys/001.chapters.json": ("application/json+chapters", "public, max-age=86400"),
    "ihmiskeskeisyys/001.vtt": ("text/vtt; charset=utf-8", "public, max-age=86400"),
    "ihmiskeskeisyys/feed.xml": ("application/rss+xml; charset=utf-8", "public, max-age=300"),
    "_private/manifest.json": ("application/json", "no-store"),
}


def test_every_object_has_its_content_type_cache_policy_and_checksum(backend, media):
    for key, path in media.items():
        backend.storage.put_file(key, path, content_type=content_type_for(key), cache_control=cache_control_for(key),
                                 sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    feed = "<?xml version='1.0' encoding='UTF-8'?>\n<rss version='2.0'><channel><title>Näkökulmia</title></channel></rss>"
    backend.storage.put_bytes("ihmiskeskeisyys/feed.xml", feed.encode(), content_type=content_type_for("feed.xml"),
                              cache_control=cache_control_for("ihmiskeskeisyys/feed.xml"))
    backend.storage.put_bytes("_private/manifest.json", b"{}", content_type=content_type_for("manifest.json"),
                              cache_control=cache_control_for("_private/manifest.json"))
    sources = {**{k: p.read_bytes() for k, p in media.items()},
               "ihmiskeskeisyys/feed.xml": feed.encode(), "_private/manifest.json": b"{}"}
    for key, (content_type, cache_control) in EXPECTED.items():
        stored = backend.raw(key)
        assert stored is not None, key
        assert stored["content_type"] == content_type, key
        assert stored["cache_control"] == cache_control, key
        assert "immutable" not in stored["cache_control"]
        local_sha = hashlib.sha256(sources[key]).hexdigest()
        assert stored["sha256"] == local_sha, key  # the checksum stored with the object
        assert hashlib.sha256(stored["data"]).hexdigest() == local_sha, key  # and the bytes behind it
        info = backend.storage.head(key)
        assert (info.size, info.content_type, info.cache_control, info.sha256) == (
            len(sources[key]), content_type, cache_control, local_sha)


def test_put_get_head_copy_delete(backend, tmp_path):
    source = tmp_path / "a.mp3"
    source.write_bytes(b"ID3" + bytes(range(256)) * 100)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    seen = []
    info = backend.storage.put_file("show/a.mp3", source, content_type="audio/mpeg",
                                    cache_control="public, max-age=86400", sha256=sha,
                                    progress=lambda sent, total: seen.append((sent, total)))
    assert info.size == source.stat().st_size and info.sha256 == sha
    assert seen and seen[-1] == (info.size, info.size)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    data, meta = backend.storage.get_bytes("show/a.mp3")
    assert data == source.read_bytes() and meta.sha256 == sha and meta.content_type == "audio/mpeg"

    # A server-side copy, as release from staging does: new headers, same bytes and checksum.
    backend.storage.put_file("_private/staged/b.mp3", source, content_type="audio/mpeg", cache_control="no-store",
                             sha256=sha)
    copied = backend.storage.copy("_private/staged/b.mp3", "show/b.mp3", content_type="audio/mpeg",
                                  cache_control="public, max-age=86400")
    assert (copied.size, copied.sha256, copied.cache_control) == (info.size, sha, "public, max-age=86400")
    assert backend.raw("show/b.mp3")["data"] == source.read_bytes()
    assert backend.raw("show/b.mp3")["cache_control"] == "public, max-age=86400"
    assert backend.storage.head("_private/staged/b.mp3").cache_control == "no-store"  # the source is untouched

    # Overwrite: readers see the whole new object.
    source.write_bytes(b"ID3 changed tags" + bytes(1000))
    new_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    backend.storage.put_file("show/a.mp3", source, content_type="audio/mpeg", cache_control="x", sha256=new_sha)
    assert backend.raw("show/a.mp3")["data"] == source.read_bytes()
    assert backend.storage.head("show/a.mp3").sha256 == new_sha

    for key in ("show/a.mp3", "show/b.mp3", "_private/staged/b.mp3"):
        backend.storage.delete(key)
        assert backend.storage.head(key) is None and backend.storage.get_bytes(key) is None
        assert backend.raw(key) is None
    backend.storage.delete("show/never-was.mp3")  # not an error


def test_missing_objects(backend):
    assert backend.storage.head("show/none.mp3") is None
    assert backend.storage.get_bytes("show/none.mp3") is None
    with pytest.raises(StorageError, match="no such object"):
        backend.storage.copy("show/none.mp3", "show/other.mp3", content_type="audio/mpeg", cache_control="x")


def test_conditional_writes(backend):
    put = backend.storage.put_bytes
    first = put("_private/manifest.json", b'{"v": 1}', content_type="application/json", cache_control="no-store",
                if_absent=True)
    with pytest.raises(PreconditionFailed):
        put("_private/manifest.json", b'{"v": "rival"}', content_type="application/json", cache_control="no-store",
            if_absent=True)
    second = put("_private/manifest.json", b'{"v": 2}', content_type="application/json", cache_control="no-store",
                 if_match=first.etag)
    with pytest.raises(PreconditionFailed):  # `first` is stale now: another writer got there
        put("_private/manifest.json", b'{"v": "late"}', content_type="application/json", cache_control="no-store",
            if_match=first.etag)
    assert backend.storage.get_bytes("_private/manifest.json")[0] == b'{"v": 2}'
    assert backend.storage.head("_private/manifest.json").etag == second.etag
    with pytest.raises(PreconditionFailed):
        put("_private/gone.json", b"{}", content_type="application/json", cache_control="no-store",
            if_match=second.etag)


def test_a_wrong_checksum_never_replaces_the_published_object(backend, tmp_path):
    source = tmp_path / "a.mp3"
    source.write_bytes(b"good bytes" * 100)
    backend.storage.put_file("show/a.mp3", source, content_type="audio/mpeg", cache_control="x",
                             sha256=hashlib.sha256(source.read_bytes()).hexdigest())
    other = tmp_path / "b.mp3"
    other.write_bytes(b"other bytes" * 100)
    with pytest.raises(StorageError, match="checksum"):
        backend.storage.put_file("show/a.mp3", other, content_type="audio/mpeg", cache_control="x",
                                 sha256=hashlib.sha256(b"something else").hexdigest())
    assert backend.raw("show/a.mp3")["data"] == source.read_bytes()


def test_local_storage_keeps_keys_inside_its_folder_and_leaves_no_temp_files(tmp_path):
    storage = LocalStorage(tmp_path / "public")
    with pytest.raises(StorageError, match="leaves the storage folder"):
        storage.put_bytes("../escape.xml", b"x", content_type="text/plain", cache_control="x")
    storage.put_bytes("show/feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="x")
    names = sorted(p.name for p in (tmp_path / "public").rglob("*") if p.is_file())
    assert names == ["feed.xml", "feed.xml.json"]


def test_local_delete_leaves_no_empty_folders_and_reports_failures_as_storage_errors(tmp_path):
    """An object store has no folders: a released episode's staging token folder goes with its
    last file, and a delete the file system refuses is a StorageError like any backend's."""
    root = tmp_path / "public"
    storage = LocalStorage(root)
    for key in ("_private/testi/staged/tok/001.mp3", "_private/testi/staged/tok/001.chapters.json",
                "_private/testi/manifest.json", "testi/001.mp3"):
        storage.put_bytes(key, b"x", content_type="application/octet-stream", cache_control="no-store")
    storage.delete("_private/testi/staged/tok/001.mp3")
    assert (root / "_private/testi/staged/tok").is_dir()  # one file still there
    storage.delete("_private/testi/staged/tok/001.chapters.json")
    assert not (root / "_private/testi/staged").exists() and not (root / "_private/meta/_private/testi/staged").exists()
    assert (root / "_private/testi/manifest.json").is_file() and (root / "testi/001.mp3").is_file()
    storage.delete("testi/001.mp3")
    assert root.is_dir() and not (root / "testi").exists()

    (root / "testi/002.mp3").mkdir(parents=True)  # not a file the backend can remove
    (root / "testi/002.mp3/keep").write_bytes(b"")
    with pytest.raises(StorageError, match=r"testi/002\.mp3: cannot delete"):
        storage.delete("testi/002.mp3")


def test_local_metadata_of_a_file_replaced_by_hand_is_not_trusted(tmp_path):
    storage = LocalStorage(tmp_path / "public")
    storage.put_bytes("show/feed.xml", b"<rss>1</rss>", content_type="application/rss+xml", cache_control="x")
    (tmp_path / "public" / "show" / "feed.xml").write_bytes(b"<rss>2</rss>")  # same size, new content
    info = storage.head("show/feed.xml")
    assert info.sha256 is None and info.etag == hashlib.sha256(b"<rss>2</rss>").hexdigest()


def test_cache_policy():
    assert cache_control_for("ihmiskeskeisyys/001.mp3") == "public, max-age=86400"
    assert cache_control_for("ihmiskeskeisyys/001.MP3") == "public, max-age=86400"
    assert cache_control_for("ihmiskeskeisyys/feed.xml") == "public, max-age=300"
    assert cache_control_for("ihmiskeskeisyys/feed.xml", feed_seconds=60) == "public, max-age=60"
    assert cache_control_for("ihmiskeskeisyys/001.mp3", media_seconds=3600) == "public, max-age=3600"
    assert cache_control_for("_private/ihmiskeskeisyys/002.mp3") == "no-store"
    assert cache_control_for("_private/manifest.json") == "no-store"
    assert cache_control_for("index.html") == "public, max-age=300"


def test_empty_files_and_non_ascii_keys(backend, tmp_path):
    empty = tmp_path / "empty.vtt"
    empty.write_bytes(b"")
    info = backend.storage.put_file("näkökulmia/tyhjä.vtt", empty, content_type="text/vtt; charset=utf-8",
                                    cache_control="public, max-age=86400", sha256=hashlib.sha256(b"").hexdigest())
    assert info.size == 0
    stored = backend.raw("näkökulmia/tyhjä.vtt")
    assert stored["data"] == b"" and stored["sha256"] == hashlib.sha256(b"").hexdigest()
    assert backend.storage.get_bytes("näkökulmia/tyhjä.vtt")[0] == b""
