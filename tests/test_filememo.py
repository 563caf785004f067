"""The one stat stamp, file digest and JSON memo store every memo of the pipeline uses."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from media_pipeline.audio import cache
from media_pipeline.model import AudioSettings
from media_pipeline.util import filememo


def test_a_memo_answers_only_under_the_stamp_it_was_kept_under(tmp_path: Path) -> None:
    source = tmp_path / "a.wav"
    source.write_bytes(b"one")
    memo = filememo.Memo(tmp_path / "memos" / filememo.memo_name(str(source)))
    first = filememo.stamp(source)
    assert memo.get(first) is None
    memo.put(first, {"damage": None})
    assert memo.get(filememo.stamp(source)) == {"damage": None}
    source.write_bytes(b"two, longer")  # size and times move
    assert memo.get(filememo.stamp(source)) is None
    (tmp_path / "memos" / filememo.memo_name(str(source))).write_text("{not json")
    assert memo.get(first) is None  # unreadable: the work is done again, never a failure
    filememo.Memo(None).put(first, 1)  # nowhere to keep it: nothing happens


def test_a_stamp_is_settled_only_once_its_modification_time_is_old_enough(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    assert not filememo.settled(filememo.stamp(path))
    old = time.time() - 3 * filememo.RACY_SECONDS
    os.utime(path, (old, old))
    assert filememo.settled(filememo.stamp(path))
    assert filememo.stamp(tmp_path / "missing") is None and not filememo.settled(None)


def test_the_file_digest_is_sha256_of_the_content(tmp_path: Path) -> None:
    path = tmp_path / "big"
    data = os.urandom(3 << 20)
    path.write_bytes(data)
    assert filememo.sha256_file(path) == hashlib.sha256(data).hexdigest() == cache.file_digest(path)


def test_the_build_cache_key_changes_with_the_ffmpeg_that_encodes(tmp_path: Path) -> None:
    source = tmp_path / "a.wav"
    source.write_bytes(b"audio")
    keys = {cache.key(source, AudioSettings(), code_version="normalise-1", ffmpeg=version)
            for version in ("9.0.2", "9.0.2", "5.1.9-0+deb12u1")}
    assert len(keys) == 2
