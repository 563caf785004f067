"""The demo published to each S3-compatible server, then fetched key by key as a listener would.

- moto: the bucket policy docs/storage.md documents (parsed from the page) is applied, and every
  key the publish wrote is fetched anonymously with a byte range: each public key answers 206
  with exactly those bytes, each key under `_private/` answers 403, and the site's pages, the
  statement in three languages, the sitemap and the OPML are among the public ones.
- s3rver (no access control: every key is readable, `_private/` too, as docs/storage.md says):
  every public key answers an anonymous range request with 206 and exactly those bytes.
- rclone (`serve s3 --auth-key` allows no anonymous reads): every public key is fetched with a
  presigned range request; rclone may answer 200 instead of 206 (docs/storage.md), but the bytes
  must be those asked for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

from media_pipeline.config.load import load_workspace
from media_pipeline.layout import OPML_KEY, PRIVATE_PREFIX, site_keys
from media_pipeline_demo.demo import generate_demo_media

from conftest import s3_env_on
from test_end_to_end import copy_demo_workspace, run_cli

DOCS = Path(__file__).resolve().parents[1] / "docs" / "storage.md"


def documented_policy(bucket: str, prefix: str) -> dict:
    """The JSON block of docs/storage.md's *Making the shows public*, for this bucket and prefix."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Making the shows public", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    return json.loads(block.replace("arn:aws:s3:::media-bucket/podcasts/", f"arn:aws:s3:::{bucket}/{prefix}/"))


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    root = copy_demo_workspace(tmp_path_factory.mktemp("public") / "ws", unpublished=True)
    generate_demo_media(load_workspace(root))
    return root


def publish_demo(root: Path, s3) -> list[str]:
    """`publish --all` of the demo to the server's bucket; every key stored, below the prefix."""
    url = s3.storage_url("podcasts")
    env = {"MEDIA_PIPELINE_STORAGE": url, "MEDIA_PIPELINE_PUBLIC_URL": f"{s3.endpoint}/{s3.bucket}/podcasts"}
    result = run_cli(root, "publish", "--all", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix="podcasts/")
    keys = [o["Key"].split("/", 1)[1] for page in listed for o in page.get("Contents", [])]
    for key in (*site_keys(), OPML_KEY, "ihmiskeskeisyys/feed.xml", "tekoalywebinaarit/feed.xml"):
        assert key in keys, key
    assert any(k.startswith(PRIVATE_PREFIX) for k in keys)
    return keys


def check_range(response: requests.Response, data: bytes, *, status: tuple[int, ...] = (206,)) -> None:
    assert response.status_code in status, (response.url, response.status_code, response.text[:200])
    assert response.content == data[:100]


def stored(s3, key: str) -> bytes:
    return s3.client.get_object(Bucket=s3.bucket, Key=f"podcasts/{key}")["Body"].read()


@pytest.mark.slow
def test_the_documented_bucket_policy_opens_every_public_key_and_nothing_private(demo_root, request, monkeypatch):
    s3 = s3_env_on(request, monkeypatch, "moto")
    keys = publish_demo(demo_root, s3)
    s3.client.put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(documented_policy(s3.bucket, "podcasts")))
    for key in keys:
        response = requests.get(f"{s3.endpoint}/{s3.bucket}/podcasts/{key}", headers={"Range": "bytes=0-99"},
                                timeout=30)
        if key.startswith(PRIVATE_PREFIX):
            assert response.status_code == 403, key
        else:
            check_range(response, stored(s3, key))


@pytest.mark.slow
def test_the_demo_publishes_to_s3rver_and_every_public_key_answers_a_range(demo_root, request, monkeypatch):
    s3 = s3_env_on(request, monkeypatch, "s3rver")
    for key in publish_demo(demo_root, s3):
        if not key.startswith(PRIVATE_PREFIX):
            response = requests.get(f"{s3.endpoint}/{s3.bucket}/podcasts/{key}", headers={"Range": "bytes=0-99"},
                                    timeout=30)
            check_range(response, stored(s3, key))


@pytest.mark.slow
def test_the_demo_publishes_to_rclone_and_every_public_key_answers_a_range(demo_root, request, monkeypatch):
    s3 = s3_env_on(request, monkeypatch, "rclone")
    signer = boto3.session.Session().client("s3", endpoint_url=s3.endpoint, config=Config(signature_version="s3v4"))
    for key in publish_demo(demo_root, s3):
        assert requests.get(f"{s3.endpoint}/{s3.bucket}/podcasts/{key}", timeout=30).status_code >= 400
        if not key.startswith(PRIVATE_PREFIX):
            url = signer.generate_presigned_url("get_object", Params={"Bucket": s3.bucket,
                                                                         "Key": f"podcasts/{key}"})
            check_range(requests.get(url, headers={"Range": "bytes=0-99"}, timeout=30), stored(s3, key),
                        status=(200, 206))
