"""Wherever an entry is shown with the message it came with, it says how sure the catalogue is, in the paste box's
words: the matcher's confidence when it reads the message as the same entry, *low* naming the other one otherwise."""

from __future__ import annotations

from core import services

FISCAL_YEAR_BODY = ('{"ErrorCode":3001,"DeveloperErrorMessage":"FiscalYearDoesNotExist - Resource not found: '
                    'fiscalYearId. There is no fiscal year for the date 2026-03-31.","ErrorId":'
                    '"5b0c2d7e-2f4a-4c8e-9a51-0f3c8e6d1b27"}')


def test_the_entry_the_matcher_also_reads_gets_the_matchers_confidence():
    sure = services.entry_confidence("fiscal-year-missing", FISCAL_YEAR_BODY)
    expected = services.match(FISCAL_YEAR_BODY)
    assert expected.id == "fiscal-year-missing"
    assert sure is not None and sure.level == expected.confidence == "high"
    assert sure.meaning == services.MATCH_CONFIDENCE["high"] and sure.note is None


def test_an_entry_the_words_contradict_is_low_and_names_what_they_read_like():
    sure = services.entry_confidence("api-module-inactive", FISCAL_YEAR_BODY)
    assert sure is not None and sure.level == "low"
    assert "Fiscal year missing in Visma" in sure.note


def test_words_that_match_nothing_leave_the_classification_standing_but_unsure():
    sure = services.entry_confidence("account-not-mapped", "zzz qqq")
    assert sure is not None and sure.level == "low" and "classified" in sure.note


def test_without_a_message_nothing_is_claimed():
    assert services.entry_confidence("fiscal-year-missing", None) is None
    assert services.entry_confidence("fiscal-year-missing", "   ") is None
