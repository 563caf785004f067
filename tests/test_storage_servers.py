"""The S3 backend on every S3-compatible server the tests start: moto, `rclone serve s3` and s3rver.

Each server answers in its own way (metadata names in another case, multipart ETags of another
form, no listing of unfinished uploads, conditional-write headers ignored); what the backend
stored is read back with the raw boto3 client, and what the server reports is checked on it.
"""

from __future__ import annotations

import hashlib
import logging
import os

import pytest

from media_pipeline.errors import StorageError
from media_pipeline.layout import cache_control_for
from media_pipeline.storage import PreconditionFailed, open_storage, sha256_file
from media_pipeline.storage.s3 import MiB, S3Storage


def random_file(path, size: int):
    path.write_bytes(os.urandom(size))
    return path


def test_a_large_upload_verifies_on_every_server(any_s3, tmp_path, caplog):
    """16 MiB and more go up in parts: the server's ETag (composite `-N` on moto, the whole
    file's MD5 on s3rver, rclone's own) and its metadata, whatever case, must verify."""
    source = random_file(tmp_path / "big.mp3", 17 * MiB)
    storage = S3Storage.from_url(any_s3.storage_url(), part_size=5 * MiB, concurrency=2, backoff=0.05)
    with caplog.at_level(logging.INFO):
        info = storage.put_file("show/big.mp3", source, content_type="audio/mpeg",
                                cache_control=cache_control_for("show/big.mp3"), sha256=sha256_file(source))
    assert info.size == 17 * MiB and info.sha256 == sha256_file(source)
    assert "trying again" not in caplog.text  # verified at the first try, not after retries
    # a server that cannot list unfinished uploads (rclone: NoSuchUpload, s3rver: NotImplemented)
    # is said once at info level, not warned about on every run
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "could not clean up" not in caplog.text
    raw = any_s3.client.get_object(Bucket=any_s3.bucket, Key="podcasts/show/big.mp3")
    assert hashlib.sha256(raw["Body"].read()).hexdigest() == sha256_file(source)


def test_metadata_comes_back_whatever_case_the_server_gives_its_name(any_s3, tmp_path):
    storage = open_storage(any_s3.storage_url(), tmp_path)
    storage.put_bytes("show/feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="no-cache")
    raw = any_s3.client.head_object(Bucket=any_s3.bucket, Key="podcasts/show/feed.xml")["Metadata"]
    assert {k.lower() for k in raw} == {"sha256"}
    assert storage.head("show/feed.xml").sha256 == hashlib.sha256(b"<rss/>").hexdigest()


def test_conditional_writes_are_found_out_not_assumed(any_s3, tmp_path):
    storage = S3Storage.from_url(any_s3.storage_url())
    assert storage.conditional_writes() is any_s3.conditional_writes
    # the probe leaves nothing behind
    listed = any_s3.client.list_objects_v2(Bucket=any_s3.bucket, Prefix="podcasts/").get("Contents", [])
    assert listed == []


def test_without_conditional_writes_nothing_is_written_unless_one_publisher_is_acknowledged(any_s3, tmp_path):
    url = f"s3://{any_s3.bucket}/podcasts"
    source = random_file(tmp_path / "a.mp3", 1000)
    storage = open_storage(url, tmp_path)
    if any_s3.conditional_writes:
        storage.put_file("show/a.mp3", source, content_type="audio/mpeg", cache_control="x",
                         sha256=sha256_file(source))
        return
    for write in (lambda: storage.put_file("show/a.mp3", source, content_type="audio/mpeg", cache_control="x",
                                           sha256=sha256_file(source)),
                  lambda: storage.put_bytes("show/feed.xml", b"<rss/>", content_type="x", cache_control="x"),
                  lambda: storage.delete("show/a.mp3")):
        with pytest.raises(StorageError) as caught:
            write()
        message = str(caught.value)
        assert message.startswith(f"{url}: this server ignores conditional writes")
        assert "single_publisher=true" in message and "\n" not in message
    assert any_s3.client.list_objects_v2(Bucket=any_s3.bucket).get("Contents", []) == []

    # acknowledged: writes go through, and the conditions are checked by the backend itself
    single = open_storage(url + "?single_publisher=true", tmp_path)
    first = single.put_bytes("show/feed.xml", b"<rss/>", content_type="x", cache_control="x", if_absent=True)
    with pytest.raises(PreconditionFailed):
        single.put_bytes("show/feed.xml", b"<rss>2</rss>", content_type="x", cache_control="x", if_absent=True)
    with pytest.raises(PreconditionFailed):
        single.put_bytes("show/feed.xml", b"<rss>2</rss>", content_type="x", cache_control="x", if_match="0" * 32)
    single.put_bytes("show/feed.xml", b"<rss>2</rss>", content_type="x", cache_control="x", if_match=first.etag)
    assert single.get_bytes("show/feed.xml")[0] == b"<rss>2</rss>"
