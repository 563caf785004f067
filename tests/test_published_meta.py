"""The feed shows each episode as it was published (the record's `meta`), not the file's later edits."""

from __future__ import annotations

import json

import feedparser

from media_pipeline.config.load import load_workspace
from media_pipeline.layout import manifest_key
from media_pipeline.storage import open_storage

from publish_support import manifest_of, run_cli, stored_feed

STAGED_AT = "2026-01-10T09:00:00+02:00"
DUE = "2026-01-15T09:00:00+02:00"
AFTER = "2026-01-16T09:00:00+02:00"


def _titles(root) -> list[str]:
    return sorted(e.title for e in feedparser.parse(stored_feed(root)).entries)


def test_release_due_releases_what_was_staged_not_a_later_edit(workspace):
    workspace.show()
    workspace.episode("001", seconds=2, publish_at=STAGED_AT)
    path = workspace.episode("002", seconds=2, title="Jakso sellaisena kuin se ajastettiin", publish_at=DUE)
    assert run_cli(workspace.root, "publish", "--all", "--now", STAGED_AT).code == 0
    path.write_text(path.read_text().replace("sellaisena kuin se ajastettiin", "muokattu, ei julkaistu"))
    released = run_cli(workspace.root, "release-due", "--now", AFTER)
    assert released.code == 0, released.err
    assert _titles(workspace.root) == ["Jakso 001", "Jakso sellaisena kuin se ajastettiin"]


def test_a_record_written_before_meta_existed_shows_the_episode_file_until_republished(workspace):
    workspace.show()
    workspace.episode("001", seconds=2, publish_at=STAGED_AT)
    path = workspace.episode("002", seconds=2, publish_at=STAGED_AT)
    assert run_cli(workspace.root, "publish", "--all", "--now", STAGED_AT).code == 0
    ws = load_workspace(workspace.root)
    storage = open_storage(ws.storage_url, ws.root)
    data = json.loads(storage.get_bytes(manifest_key("testi"))[0])
    for record in data["episodes"].values():
        del record["meta"]  # as an older version wrote it
    storage.put_bytes(manifest_key("testi"), json.dumps(data).encode(), content_type="application/json",
                      cache_control="no-store")
    assert all(r.meta is None for r in manifest_of(workspace.root).episodes.values())
    path.write_text(path.read_text().replace("Jakso 002", "Jakso 002, uusi nimi"))
    again = run_cli(workspace.root, "publish", "testi/001", "--now", STAGED_AT)
    assert again.code == 0, again.err
    assert _titles(workspace.root) == ["Jakso 001", "Jakso 002, uusi nimi"]  # the old behaviour, for the old record
    assert manifest_of(workspace.root).by_slug("001").meta["title"] == "Jakso 001"
    assert manifest_of(workspace.root).by_slug("002").meta is None
