"""A problem stays with its file: text that feeds, ID3 tags and chat messages cannot carry, an
unfinished draft and a URL with a credential are each named by `check` with file and field,
before any work, and every other episode still loads."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.errors import ValidationError

from check_support import SHOW, make_workspace
from cli_support import invoke

HEALTHY = ("001-ihmiskeskeisyys", "002-elamantapahtumat")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("base"))


@pytest.fixture
def root(base, tmp_path) -> Path:
    """A copy of a healthy workspace (real media, artwork and transcripts) to break one file of."""
    import shutil
    shutil.copytree(base, tmp_path / "ws")
    return tmp_path / "ws"


def check(root: Path, *args: str, env: dict | None = None):
    with contextlib.chdir(root):
        return invoke("--root", str(root), "check", *args, env=env)


def raw_episode(root: Path, slug: str, front: str, notes: str = "Muistiinpanot.\n") -> str:
    """An episode file written byte for byte as given (YAML escapes stay escapes); its display path."""
    path = root / "episodes" / SHOW / f"{slug}.md"
    path.write_bytes(f"---\n{front}source: media/puhe.wav\ntranscript: media/puhe.srt\n"
                     f"publish_at: 2026-04-01T09:00:00+03:00\n---\n\n{notes}".encode("utf-8"))
    return f"episodes/{SHOW}/{slug}.md"


def lines_about(output: str, file: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(file)]


def assert_healthy_untouched(result, bad: int) -> None:
    """Only the bad file is named; both healthy episodes are still loaded and checked."""
    for slug in HEALTHY:
        assert not lines_about(result.stdout, f"episodes/{SHOW}/{slug}.md"), result.stdout
    assert f"1 show(s), 2 valid episode(s) checked: {bad} error(s)" in result.stderr, result.stderr


def test_a_title_with_a_bell_character_is_named_with_file_and_field(root):
    file = raw_episode(root, "003-kello", 'title: "bell \\a char"\n')
    result = check(root)
    assert result.returncode == 1
    assert lines_about(result.stdout, file) == [
        f"{file}: title: holds the control character U+0007 (BEL), which feeds (XML), ID3 tags and chat messages "
        "cannot carry; delete it (text pasted from a PDF or a word processor brings them)"]
    assert_healthy_untouched(result, 1)


def test_notes_with_an_escape_byte_are_named_with_the_line(root):
    file = raw_episode(root, "003-esc", "title: Jakso 3\n", notes="Ensimmäinen rivi.\n\nToinen \x1b[1mrivi.\n")
    result = check(root)
    assert result.returncode == 1
    (line,) = lines_about(result.stdout, file)
    assert line.startswith(f"{file}: notes: holds the control character U+001B (ESC) on its line 3, ")
    assert_healthy_untouched(result, 1)


@pytest.mark.parametrize("escape, name", [("\\e", "U+001B (ESC)"), ("\\x0c", "U+000C (form feed)"),
                                          ("\\0", "U+0000 (NUL)"), ("\\x85", "U+0085"), ("\\uFFFF", "U+FFFF")])
def test_each_kind_of_control_character_is_refused_in_a_one_line_field(root, escape, name):
    file = raw_episode(root, "003", f'title: Jakso\nsummary: "kaksi {escape} osaa"\n')
    (line,) = lines_about(check(root).stdout, file)
    assert line.startswith(f"{file}: summary: holds the control character {name}")


def test_tab_and_line_breaks_are_fine_where_the_field_allows_them(root):
    file = raw_episode(root, "003", 'title: "Jakso\\t3"\nsummary: "rivi\\r\\ntoinen rivi"\n',
                       notes="Rivi.\r\n\tSisennetty rivi.\r\n")
    assert lines_about(check(root).stdout, file) == []


def test_a_title_with_a_line_break_is_named(root):
    file = raw_episode(root, "003", 'title: "Kaksi\\nriviä"\n')
    result = check(root)
    assert lines_about(result.stdout, file) == [f"{file}: title: must be one line: it holds a line break"]
    assert_healthy_untouched(result, 1)


def test_text_longer_than_apps_and_chat_services_show_is_named_with_its_length(root):
    file = raw_episode(root, "003", f"title: {'Pitkä otsikko ' * 300}\nsummary: {'x' * 4001}\n")
    out = lines_about(check(root).stdout, file)
    assert out == [f"{file}: title: is 4,199 characters long; at most 255 fit where it is shown",
                   f"{file}: summary: is 4,001 characters long; at most 4,000 fit where it is shown"]


def test_a_control_character_written_as_a_toml_escape_in_the_show_file_is_named(root):
    path = root / "feeds" / f"{SHOW}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'author = "AuroraAI-ohjelma"', 'author = "AuroraAI\\u0007-ohjelma"'), encoding="utf-8")
    result = check(root)
    assert result.returncode == 1
    assert f"feeds/{SHOW}.toml: author: holds the control character U+0007 (BEL)" in result.stdout


def test_an_unfinished_new_draft_blocks_only_itself(root):
    with contextlib.chdir(root):
        made = invoke("--root", str(root), "new", SHOW)
    assert made.returncode == 0, made
    file = made.stdout.strip()
    result = check(root)
    assert result.returncode == 1
    assert lines_about(result.stdout, file) == [f"{file}: title: must not be empty",
                                                f"{file}: source: must not be empty"], result.stdout
    assert_healthy_untouched(result, 2)
    # the loader keeps the draft's problems with it and loads everything else
    catalog, problems = load_catalog(load_workspace(root, environ={}))
    slug = Path(file).stem
    assert [e.slug for e in catalog.episodes[SHOW]] == list(HEALTHY)
    assert list(catalog.refused) == [f"{SHOW}/{slug}"]
    assert [p.field for p in catalog.refused[f"{SHOW}/{slug}"]] == ["title", "source"]
    with pytest.raises(ValidationError) as raised:
        catalog.find_episode(f"{SHOW}/{slug}")
    assert str(raised.value) == f"{file}: title: must not be empty\n{file}: source: must not be empty"
    with pytest.raises(ValidationError):
        catalog.find_episode(str(root / file))
    assert catalog.find_episode(f"{SHOW}/{HEALTHY[0]}").slug == HEALTHY[0]


def test_every_invalid_episode_file_is_refused_alone(root):
    broken = {"003": "title: [\n", "004": "title: Jakso\nnumber: kolme\n", "005": 'title: "\\a"\n'}
    for slug, front in broken.items():
        raw_episode(root, slug, front)
    (root / "episodes" / SHOW / "006.md").write_bytes(b"\xff\xfe not UTF-8")
    catalog, problems = load_catalog(load_workspace(root, environ={}))
    assert [e.slug for e in catalog.episodes[SHOW]] == list(HEALTHY)
    assert sorted(catalog.refused) == [f"{SHOW}/{s}" for s in ("003", "004", "005", "006")]
    for key, found in catalog.refused.items():
        assert found and {p.path for p in found} == {f"episodes/{key}.md"}


HUB = "http://user:PASSW0RD@127.0.0.1:28790/hub?token=T"


def test_a_hub_url_with_credentials_is_refused_without_repeating_it(root):
    path = root / "feeds" / f"{SHOW}.toml"
    path.write_text(path.read_text(encoding="utf-8") + f'\n[notify]\nhubs = ["https://websub.example.fi/", "{HUB}"]\n'
                    'podping_url = "https://podping.example.fi/?api_key=K"\n', encoding="utf-8")
    result = check(root)
    assert result.returncode == 1
    assert lines_about(result.stdout, f"feeds/{SHOW}.toml") == [
        f"feeds/{SHOW}.toml: notify.hubs[1]: holds a credential (a user name or password before '@', the query key "
        "'token'); URLs in these files are published or sent as written, and feeds, pages and logs would show it: "
        "remove it",
        f"feeds/{SHOW}.toml: notify.podping_url: holds a credential (the query key 'api_key'); URLs in these files "
        "are published or sent as written, and feeds, pages and logs would show it: remove it"]
    assert "PASSW0RD" not in result.stdout + result.stderr and "=T" not in result.stdout + result.stderr


@pytest.mark.parametrize("table, key", [("", "link"), ("", "new_feed_url"), ("", "directory_urls[0]"),
                                        ("funding", "url"), ("persons", "img")])
def test_every_url_the_show_file_publishes_refuses_a_credential(root, table, key):
    path = root / "feeds" / f"{SHOW}.toml"
    text = path.read_text(encoding="utf-8")
    url = "https://anna:salasana@example.fi/x"
    name = key.partition("[")[0]
    value = f'["{url}"]' if "[" in key else f'"{url}"'
    if table == "":
        text = text.replace('link = "https://example.fi/ihmiskeskeisyys"\n', "") + ""
        text = f"{name} = {value}\n" + text
    elif table == "funding":
        text = text.replace('url = "https://example.fi/auroraai"', f"url = {value}")
    else:
        text = text.replace('role = "host"', f'role = "host"\nimg = {value}')
    path.write_text(text, encoding="utf-8")
    field = f"{table}[0].{key}" if table == "persons" else (f"{table}.{key}" if table else key)
    result = check(root)
    assert f"feeds/{SHOW}.toml: {field}: holds a credential (a user name or password before '@')" in result.stdout
    assert "salasana" not in result.stdout + result.stderr


def test_a_chapter_url_with_a_token_is_refused(root):
    file = raw_episode(root, "003", "title: Jakso 3\nchapters:\n  - start: 0\n    title: Alku\n"
                                    "    url: https://example.fi/?access_token=abc\n")
    assert lines_about(check(root).stdout, file)[0].startswith(
        f"{file}: chapters[0].url: holds a credential (the query key 'access_token')")


def test_a_public_url_with_credentials_from_the_environment_is_refused_naming_the_variable(root):
    result = check(root, env={"MEDIA_PIPELINE_PUBLIC_URL": "https://cdn:salasana@cdn.example.fi/"})
    assert result.returncode == 1
    assert "MEDIA_PIPELINE_PUBLIC_URL: public_url: holds a credential (a user name or password before '@')" \
        in result.stdout + result.stderr
    assert "salasana" not in result.stdout + result.stderr


def test_a_chat_webhook_url_comes_from_the_environment_and_never_from_the_file(root):
    path = root / "feeds" / f"{SHOW}.toml"
    base = path.read_text(encoding="utf-8")
    path.write_text(base + '\n[notify]\nslack = "https://hooks.slack.com/services/T0/B0/SALAINEN"\n', encoding="utf-8")
    written = check(root)
    assert f"feeds/{SHOW}.toml: notify.slack: must name an environment variable" in written.stdout
    assert "SALAINEN" not in written.stdout + written.stderr
    path.write_text(base + '\n[notify]\nslack = { env = "MEDIA_PIPELINE_SLACK" }\n', encoding="utf-8")
    from_env = check(root, env={"MEDIA_PIPELINE_SLACK": "https://hooks.slack.com/services/T0/B0/SALAINEN"})
    assert from_env.returncode == 0, from_env.stdout
    assert "SALAINEN" not in from_env.stdout + from_env.stderr
