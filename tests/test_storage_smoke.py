from media_pipeline.storage import open_storage, sha256_file


def test_both_backends_store_and_read_back(tmp_path, s3):
    source = tmp_path / "a.mp3"
    source.write_bytes(b"ID3" + bytes(range(256)) * 40)
    for url in ("file://./public", s3.storage_url()):
        storage = open_storage(url, tmp_path)
        info = storage.put_file("show/a.mp3", source, content_type="audio/mpeg", cache_control="max-age=60",
                                sha256=sha256_file(source))
        assert info.size == source.stat().st_size
        data, meta = storage.get_bytes("show/a.mp3")
        assert data == source.read_bytes()
        assert meta.content_type == "audio/mpeg" and meta.sha256 == sha256_file(source)
        storage.delete("show/a.mp3")
        assert storage.head("show/a.mp3") is None
