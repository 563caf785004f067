"""Which transcript a stored key holds: its language, read back from the key's name."""

from __future__ import annotations

from media_pipeline import layout
from media_pipeline.transcripts.forms import FORMS, UNTIMED_FORMS


def language_of_key(key: str, episode_slug: str, show_language: str) -> str:
    """The language a transcript key (from layout.transcript_key, maybe versioned) is in."""
    name = layout.unversioned_key(key).rsplit("/", 1)[-1]
    rest = name[len(episode_slug):] if name.startswith(episode_slug) else ""
    for suffix in (layout.DESCRIPTIONS_SUFFIX, *(suffix for _, suffix, _mime in (*FORMS, *UNTIMED_FORMS))):
        if rest.endswith(suffix):
            middle = rest[:-len(suffix)]
            return middle[1:] if middle.startswith(".") and len(middle) > 1 else show_language
    return show_language
