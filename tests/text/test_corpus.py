"""The built-in corpus: standard-library source read at run time, with its size and origin."""
import sys

import pytest

from ember.text import STDLIB_MODULES, Vocab, builtin_corpus


@pytest.fixture(scope="module")
def corpus():
    return builtin_corpus()


def test_builtin_corpus_is_stdlib_source_of_useful_size(corpus):
    assert corpus.origin == "stdlib"
    assert 500_000 < corpus.num_chars < 4_000_000
    found = [m for m in STDLIB_MODULES if m not in corpus.missing]
    assert [s.name for s in corpus.sources] == found
    assert "\r" not in corpus.text
    assert "def " in corpus.text and "class " in corpus.text


def test_description_says_size_and_origin(corpus):
    line = corpus.description
    assert f"{corpus.num_chars:,} characters" in line
    assert "MB" in line and "standard-library source" in line
    assert "Python {}.{}".format(*sys.version_info[:2]) in line
    assert "argparse" in line
    assert str(corpus) == line


def test_builtin_corpus_is_deterministic(corpus):
    assert builtin_corpus().text == corpus.text


def test_reading_does_not_import_the_modules():
    names = ("optparse", "ipaddress", "calendar")
    before = set(sys.modules)
    builtin_corpus(names)
    assert not (set(sys.modules) - before) & set(names)


def test_max_chars_truncates_and_trims_sources():
    c = builtin_corpus(["string", "textwrap", "shlex"], max_chars=1000)
    assert c.num_chars == 1000
    assert [s.name for s in c.sources] == ["string"]
    assert c.sources[0].num_chars == 1000
    with pytest.raises(ValueError, match="max_chars"):
        builtin_corpus(max_chars=0)


def test_missing_modules_are_listed():
    c = builtin_corpus(["string", "no_such_module_xyz", "sys"])  # sys has no source
    assert [s.name for s in c.sources] == ["string"]
    assert c.missing == ("no_such_module_xyz", "sys")
    assert "not found: no_such_module_xyz, sys" in c.description


def test_falls_back_to_embers_own_source():
    c = builtin_corpus(["no_such_module_xyz"])
    assert c.origin == "ember"
    assert any(s.name.replace("\\", "/") == "ember/text/corpus.py" for s in c.sources)
    assert "ember's own source" in c.description
    assert "def builtin_corpus" in c.text


def test_whole_corpus_encodes_and_decodes(corpus):
    vocab = Vocab.from_text(corpus.text)
    ids = vocab.encode(corpus.text)
    assert ids.numel() == corpus.num_chars
    assert vocab.decode(ids) == corpus.text
