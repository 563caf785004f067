"""The one catalogue of interface strings: every key in Finnish, Swedish and English, and the
pages, transcript notes and feed read their text from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_pipeline.text import strings
from media_pipeline.transcripts.forms import draft_note

PACKAGE = Path(strings.__file__).resolve().parents[1]


@pytest.mark.parametrize("table", ["STRINGS", "STATEMENT"])
def test_every_key_is_written_in_each_language(table):
    catalogue = getattr(strings, table)
    assert set(catalogue) == set(strings.LANGUAGES)
    keys = {lang: set(catalogue[lang]) for lang in strings.LANGUAGES}
    assert keys["fi"] == keys["sv"] == keys["en"]
    for lang in strings.LANGUAGES:
        assert all(value.strip() for value in catalogue[lang].values()), lang


def test_a_language_the_catalogue_lacks_gets_english_and_a_region_its_language():
    assert strings.text("sv-FI", "draft_note") == strings.STRINGS["sv"]["draft_note"]
    assert strings.text("de", "skip") == strings.STRINGS["en"]["skip"]
    assert draft_note("fi").startswith("Tämä tekstitys")


def test_no_other_module_keeps_a_table_of_its_own_strings():
    # the Finnish words of the catalogue appear in text/strings.py alone
    for word in ("Siirry sisältöön", "puheentunnistuksella", "Saavutettavuusseloste", "Uusi jakso"):
        holders = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                   if word in p.read_text(encoding="utf-8")]
        assert holders == ["text/strings.py"], word


@pytest.mark.parametrize("package", ["site", "text", "transcripts", "notify"])
def test_no_module_of_the_listener_text_packages_is_over_450_lines(package):
    for path in (PACKAGE / package).glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 450, path.name
