"""S3 storage under failure: transient faults are retried away, persistent ones end in one clear line.

A fault proxy (tests/s3_faults.py) sits between boto3 and the S3 test server and answers 500/503,
drops connections, cuts bodies mid-way or stalls, as armed by each test.
"""

from __future__ import annotations

import logging
import os
import time

import pytest

from media_pipeline.errors import StorageError
from media_pipeline.layout import cache_control_for
from media_pipeline.storage import PreconditionFailed, sha256_file
from media_pipeline.storage.s3 import MiB, S3Storage

# Short waits so the whole file runs in seconds; the retry logic is the same as in production.
FAST = dict(max_attempts=2, retries=3, backoff=0.05)


def storage(s3, fault_proxy=None, **options) -> S3Storage:
    """A storage whose one-off question about conditional writes is asked before any fault is set,
    with the proxy's log and counters cleared after it."""
    store = S3Storage.from_url(s3.storage_url(), **{**FAST, **options})
    if fault_proxy is not None:
        store.conditional_writes()
        fault_proxy.reset()
    return store


def media_file(tmp_path, size: int, name: str = "a.mp3"):
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def put(store: S3Storage, key: str, path):
    return store.put_file(key, path, content_type="audio/mpeg", cache_control=cache_control_for(key),
                          sha256=sha256_file(path))


def test_the_proxy_forwards_unchanged_and_counts(s3, fault_proxy):
    store = storage(s3, fault_proxy)
    store.put_bytes("show/feed.xml", b"<rss/>", content_type="application/rss+xml; charset=utf-8",
                    cache_control="public, max-age=300")
    assert store.get_bytes("show/feed.xml")[0] == b"<rss/>"
    assert fault_proxy.requests == {"PUT": 1, "GET": 1} and fault_proxy.faults == 0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_on_a_few_requests_are_retried(s3, fault_proxy, tmp_path, status):
    store = storage(s3, fault_proxy)
    source = media_file(tmp_path, 300_000)
    fault_proxy.fail_next(2, status=status, method="PUT")
    info = put(store, "show/a.mp3", source)
    assert info.sha256 == sha256_file(source)
    assert fault_proxy.faults == 2 and fault_proxy.forwarded["PUT"] == 1
    assert s3.client.get_object(Bucket=s3.bucket, Key="podcasts/show/a.mp3")["Body"].read() == source.read_bytes()


def test_throttling_during_a_multipart_upload_is_retried(s3, fault_proxy, tmp_path):
    store = storage(s3, fault_proxy, part_size=5 * MiB, multipart_threshold=5 * MiB)
    source = media_file(tmp_path, 11 * MiB)
    fault_proxy.fail_next(2, status=503, code="SlowDown", path_contains="partNumber=2")
    info = put(store, "show/big.mp3", source)
    assert info.size == source.stat().st_size
    assert [s.outcome for s in fault_proxy.log if "partNumber=2" in s.path][:2] == ["failed 503"] * 2
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_dropped_connections_are_retried(s3, fault_proxy, tmp_path):
    store = storage(s3, fault_proxy)
    source = media_file(tmp_path, 100_000)
    fault_proxy.drop_next(2)
    put(store, "show/a.mp3", source)
    assert [s.outcome for s in fault_proxy.log[:3]] == ["dropped", "dropped", "forwarded"]
    assert store.head("show/a.mp3").sha256 == sha256_file(source)


def test_a_body_cut_mid_way_is_downloaded_again(s3, fault_proxy):
    """botocore's retries end when the headers arrive; our own retry covers the body."""
    store = storage(s3, fault_proxy)
    data = os.urandom(200_000)
    store.put_bytes("_private/manifest.json", data, content_type="application/json", cache_control="no-store")
    fault_proxy.truncate_next(1, method="GET")
    got, info = store.get_bytes("_private/manifest.json")
    assert got == data and info.size == len(data)
    assert [s.outcome for s in fault_proxy.log if s.method == "GET"] == ["truncated", "forwarded"]


def test_a_stalled_server_times_out_and_is_retried(s3, fault_proxy):
    store = storage(s3, fault_proxy, read_timeout=0.5)
    store.put_bytes("show/feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="no-store")
    fault_proxy.stall_next(1, seconds=1.5, method="HEAD")
    started = time.monotonic()
    assert store.head("show/feed.xml").size == 6
    assert time.monotonic() - started < 5
    assert fault_proxy.requests["HEAD"] == 2


def test_a_conditional_write_whose_reply_was_lost_still_succeeds(s3, fault_proxy):
    """The write landed but its answer did not; the retry then sees its own object, not a rival."""
    store = storage(s3, fault_proxy)
    fault_proxy.lose_reply_next(1, method="PUT")
    store.put_bytes("_private/manifest.json", b"{}", content_type="application/json", cache_control="no-store",
                    if_absent=True)
    assert store.get_bytes("_private/manifest.json")[0] == b"{}"
    # ...while a real rival still loses.
    with pytest.raises(PreconditionFailed):
        store.put_bytes("_private/manifest.json", b"{1}", content_type="application/json", cache_control="no-store",
                        if_absent=True)


@pytest.mark.parametrize("fault", ["fail", "drop"])
def test_failing_every_request_ends_in_one_clear_storage_error(s3, fault_proxy, tmp_path, fault, caplog):
    caplog.set_level(logging.INFO, logger="media_pipeline")
    store = storage(s3, fault_proxy)
    source = media_file(tmp_path, 50_000)
    fault_proxy.fail_all(status=503) if fault == "fail" else fault_proxy.drop_all()
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        put(store, "show/a.mp3", source)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"s3://{s3.bucket}/podcasts/show/a.mp3: upload failed after 3 tries: ")
    assert ("SlowDown (HTTP 503)" in message) if fault == "fail" else ("Connection was closed" in message)
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or "-"
    assert secret not in message and "Signature" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no chained stack to print
    # botocore's attempts times ours, and not one more.
    assert fault_proxy.requests["PUT"] == FAST["max_attempts"] * FAST["retries"]
    assert time.monotonic() - started < 20
    fault_proxy.fail_all(False), fault_proxy.drop_all(False)
    assert store.head("show/a.mp3") is None  # nothing half-written became visible
    # Retries are logged below warning level, so a command shows only the final error line.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("media_pipeline")]
    assert any("trying again" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


def test_a_failing_head_names_the_status_line(s3, fault_proxy):
    """HEAD answers carry no error body: the status line is the reason."""
    store = storage(s3, fault_proxy)
    fault_proxy.fail_all(status=503)
    with pytest.raises(StorageError) as caught:
        store.head("show/a.mp3")
    assert str(caught.value) == (f"s3://{s3.bucket}/podcasts/show/a.mp3: cannot read object metadata after 3 tries: "
                                 "HTTP 503 Service Unavailable")


def test_credentials_missing_is_one_line_and_not_retried(s3, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = storage(s3)
    with pytest.raises(StorageError, match=r"^s3://.*: cannot read object metadata: no AWS credentials found"):
        store.head("show/a.mp3")
