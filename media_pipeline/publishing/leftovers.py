"""Files a show no longer needs (a file replaced by changed bytes, a staged copy once released):
listed in the manifest's `leftovers` when retired, and deleted once nothing public points at them,
by the manifest's writes (`manifest.update`). A run stopped before deleting leaves them listed for
the next write."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from media_pipeline.errors import StorageError
from media_pipeline.layout import PRIVATE_PREFIX
from media_pipeline.storage import Storage

if TYPE_CHECKING:
    from media_pipeline.publishing.manifest import Manifest

log = logging.getLogger(__name__)


def delete_retired(storage: Storage, manifest: Manifest, feed: bytes) -> None:
    """Once the feed that no longer names them is stored, delete the public leftovers the manifest
    lists that no record names and the feed does not point at: files replaced by changed bytes,
    including those a run stopped before deleting. They stay listed until the next write drops
    them (`sweep`); staged copies are deleted by the caller that retired them."""
    named = manifest.named_keys()
    for key in manifest.leftovers:
        if not key.startswith(PRIVATE_PREFIX) and key not in named and key.encode() not in feed:
            try:
                storage.delete(key)
            except StorageError as exc:
                log.warning("could not delete leftover %s: %s", key, exc)


def sweep(storage: Storage, manifest: Manifest, listed: list[str], swept: set[str], feed: bytes | None = None) -> None:
    """Delete the leftovers the stored manifest lists (deleting a missing key is harmless) and drop
    those deleted from `manifest`, which is about to be written. Only keys listed in what was read
    are dropped: one that `change` just added must wait until this write lands, and one another
    writer listed meanwhile comes in a version this run has not read yet. A public key that a
    record of `manifest` names again, or that the stored `feed` still points at (a run stopped
    between its manifest and its feed write), is kept and stays listed."""
    named = manifest.named_keys()
    for key in listed:
        if key in swept:
            continue
        if not key.startswith(PRIVATE_PREFIX) and (key in named or (feed is not None and key.encode() in feed)):
            continue
        try:
            storage.delete(key)
        except StorageError as exc:  # stays listed: the next write tries again
            log.warning("could not delete leftover %s: %s", key, exc)
            continue
        swept.add(key)
    gone = set(listed) & swept
    if gone:
        log.debug("%s: deleted %d leftover file(s)", manifest.show, len(gone))
    again = set(listed) & named  # in use again (republished with the same bytes): not garbage
    manifest.leftovers = [key for key in manifest.leftovers if key not in gone and key not in again]


__all__ = ["delete_retired", "sweep"]
