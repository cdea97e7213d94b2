"""Counted nouns say "1 run" and "7 companies", never "run(s)" or "compan(y/ies)"."""

from __future__ import annotations

import pytest

from core.words import count, plural


@pytest.mark.parametrize(("n", "noun", "said"), [
    (0, "run", "0 runs"), (1, "run", "1 run"), (2, "run", "2 runs"),
    (1, "company", "1 company"), (7, "company", "7 companies"),
    (3, "cost centre", "3 cost centres"), (2, "day", "2 days"), (2, "box", "2 boxes"), (2, "entry", "2 entries"),
    (24000, "run", "24,000 runs"),
])
def test_count_says_the_number_with_the_right_form(n, noun, said):
    assert count(n, noun) == said


def test_an_irregular_plural_can_be_given():
    assert count(2, "person", "people") == "2 people"
    assert count(1, "person", "people") == "1 person"


def test_verbs_agree_with_the_number():
    assert plural(1, "has") == "has" and plural(2, "has") == "have"
