"""docs/formats.md documents every key the loaders accept, the demo shows use every show key, and
`new` names every episode key. The keys are read from config.py's own source, so a key added to
the loader without docs fails here."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from media_pipeline import model
from media_pipeline.config import load as config
from media_pipeline.config.keys import PERSONS, TABLES, render_docs
from media_pipeline.config.frontmatter import FrontMatterLoader
from media_pipeline.config.load import load_workspace
from media_pipeline.config.scaffold import new_episode

from config_support import REPO, copy_workspace, front_matter

DOCS = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")


def loader_keys() -> dict[str, set[str]]:
    """{file kind: {dotted key}} of every key declared in config/keys.py, which the loaders read."""
    found: dict[str, set[str]] = {}
    for name, table in TABLES.items():
        kind, _, sub = name.partition(".")
        found.setdefault(kind, set()).update(f"{sub}.{k.name}" if sub else k.name for k in table.keys)
    found["episode"] |= {f"persons.{k.name}" for k in PERSONS.keys}  # episodes list persons as shows do
    return found


def test_the_key_tables_of_docs_formats_md_are_generated_from_the_declarations():
    assert DOCS == render_docs(DOCS), "run scripts/formats-docs"
    assert DOCS.count("<!-- keys: ") == len(TABLES)


_MODELS = {"show": model.Show, "show.owner": model.Owner, "show.persons": model.Person,
           "show.audio": model.AudioSettings, "show.transcripts": model.TranscriptSettings,
           "show.notify": model.NotifySettings, "episode": model.Episode, "episode.transcript": model.TranscriptFile,
           "episode.chapters": model.Chapter}


@pytest.mark.parametrize("name", sorted(_MODELS))
def test_each_declared_default_is_the_models_own(name):
    """The model's dataclass defaults serve library callers; the declaration is what files get:
    they must agree, key by key."""
    defaults = {f.name: f.default for f in dataclasses.fields(_MODELS[name])
                if f.default is not dataclasses.MISSING}
    for key in TABLES[name].keys:
        if key.field in defaults and not key.required:
            declared = key.default if key.default is not None or key.kind not in ("texts", "urls", "tables") else ()
            assert declared == defaults[key.field], (name, key.name)


def section(heading: str) -> str:
    """The text of a docs section, from its heading to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ )", DOCS + "\n# end", re.S | re.M)
    assert match, f"docs/formats.md has no section {heading!r}"
    return match.group(1)


_SECTIONS = {
    ("workspace", ""): "media-pipeline.toml",
    ("show", ""): "Show files: feeds/&lt;show&gt;.toml",
    ("show", "owner"): "[owner] (required)",
    ("show", "funding"): "[funding]",
    ("show", "persons"): "[[persons]]",
    ("show", "audio"): "[audio]",
    ("show", "video"): "[video]",
    ("show", "transcripts"): "[transcripts]",
    ("show", "notify"): "[notify]",
    ("episode", ""): "Episode files: episodes/&lt;show&gt;/&lt;episode&gt;.md",
    ("episode", "persons"): "[[persons]]",
    ("episode", "chapters"): "Chapters",
    ("episode", "transcript"): "Transcripts",
    ("episode", "descriptions"): "Audio description",
    ("episode", "text_transcript"): "Transcripts",
    ("episode", "soundbites"): "Soundbites",
    ("episode", "location"): "Location",
    ("episode", "alternates"): "Alternate enclosures",
}


def test_the_loader_keys_are_found():
    keys = loader_keys()
    # a sample of each kind, so a declaration lost cannot pass by finding nothing
    assert {"storage", "public_url", "timezone", "cache_dir", "site_title", "accessibility_email",
            "accessibility_shortcomings"} <= keys["workspace"]
    assert {"title", "owner.email", "funding.url", "audio.target_lufs", "persons.href", "type"} <= keys["show"]
    assert {"publish_at", "source", "chapters.start", "chapters.image", "persons.img", "guid"} <= keys["episode"]


@pytest.mark.parametrize("kind", ["workspace", "show", "episode"])
def test_every_key_is_in_a_table_row_of_its_section(kind):
    undocumented = []
    for dotted in sorted(loader_keys()[kind]):
        table, _, key = dotted.rpartition(".")
        if f"| `{key}` |" not in section(_SECTIONS[(kind, table)]):
            undocumented.append(dotted)
    assert undocumented == []


def test_environment_variables_are_documented():
    for name in (config.ENV_STORAGE, config.ENV_PUBLIC_URL, config.ENV_TIMEZONE):
        assert f"| `{name}` |" in section("Environment variables")


def toml_keys(path: Path) -> set[str]:
    """Dotted keys of a TOML file, counting commented-out `# key = ...` lines as documented."""
    keys, table = set(), ""
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[\[?([a-z_]+)\]\]?", line)
        if header:
            table = header.group(1) + "."
            continue
        key = re.match(r"^(?:# )?([a-z0-9_]+) = ", line)
        if key:
            keys.add(table + key.group(1))
    return keys


@pytest.mark.parametrize("show", ["ihmiskeskeisyys", "tekoalywebinaarit"])
def test_each_demo_show_names_every_show_key(show):
    path = REPO / "feeds" / f"{show}.toml"
    named = toml_keys(path)
    assert named == loader_keys()["show"]
    # and the keys left commented out are only those that would move or re-identify the feed,
    # add clips to every episode, change the sound of the published episodes (levelling), send
    # listeners to a website other than the show's own page, and the notifications (no demo show
    # tells anyone of anything)
    assert named - active_toml_keys(path) == {"public_url", "new_feed_url", "podcast_guid", "audio.intro", "audio.outro",
                                              "audio.max_loudness_range", "link"} | {
        k for k in named if k.startswith("notify.")}


def active_toml_keys(path: Path) -> set[str]:
    keys = set()
    for key, value in tomllib.loads(path.read_text(encoding="utf-8")).items():
        if isinstance(value, dict):
            keys |= {f"{key}.{k}" for k in value}
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            keys |= {f"{key}.{k}" for item in value for k in item}
        else:
            keys.add(key)
    return keys


def test_the_scaffold_of_new_names_every_episode_key(tmp_path):
    ws = load_workspace(copy_workspace(tmp_path / "ws"), environ={})
    path = new_episode(ws, "ihmiskeskeisyys", title="T")
    text = path.read_text(encoding="utf-8")
    uncommented = "\n".join(line[2:] if re.match(r"^# [a-z_]+:|^#   ", line) else line
                            for line in text.splitlines())
    path.write_text(uncommented, encoding="utf-8")
    data = front_matter(path)
    named = set(data) | {f"{table}.{k}" for table in ("persons", "chapters", "soundbites", "alternates")
                         for item in data[table] for k in item} | {f"location.{k}" for k in data["location"]}
    # the scaffold names the one-file forms of `transcript`, `text_transcript` and `descriptions`;
    # the table forms are in docs/formats.md
    assert named == loader_keys()["episode"] - {"transcript.file", "transcript.language", "transcript.draft",
                                                "text_transcript.file", "text_transcript.language",
                                                "descriptions.file", "descriptions.language", "descriptions.clips"}


def test_the_demo_episodes_use_every_top_level_key_but_those_of_moved_shows_and_damaged_sources_and_each_has_its_guid():
    used = set()
    for path in (REPO / "episodes").glob("*/*.md"):
        data = front_matter(path)
        # committed, as in a workspace whose episodes are published: the demo then changes no file
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", data["guid"]), path
        used |= set(data)
    top_level = {k for k in loader_keys()["episode"] if "." not in k}
    # the demo recordings are healthy: none needs accept_damaged_source; the webinars show a frame
    # of their own video as the poster; the demo shows were never elsewhere, so no episode has
    # files at another host (alternates), an old host's untimed transcript, or a twin publish time
    # (order)
    assert used == top_level - {"artwork", "poster", "accept_damaged_source", "alternates", "text_transcript",
                                "order"}


def test_the_documented_toml_and_yaml_examples_parse():
    blocks = re.findall(r"```(toml|yaml)\n(.*?)```", DOCS, re.S)
    assert len(blocks) >= 6
    for lang, body in blocks:
        if lang == "toml":
            tomllib.loads(body)
        else:
            yaml.load(body.split("---")[1], Loader=FrontMatterLoader)
