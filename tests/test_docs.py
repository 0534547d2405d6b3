"""The tour in docs/: every example in every page runs and prints what the page says."""
import doctest
import pathlib
import warnings

import pytest

import ember

DOCS = sorted((pathlib.Path(__file__).resolve().parent.parent / "docs").glob("*.md"))


def test_there_is_a_tour():
    assert len(DOCS) >= 5


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_page_examples_print_what_the_page_says(path):
    ember.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        result = doctest.testfile(str(path), module_relative=False, report=True,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {path}"
