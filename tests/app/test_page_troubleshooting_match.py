"""AppTest: the Troubleshooting page's paste box says how sure the match is, and shows the runner-up when it is not
sure (Visma's code and the message's words disagree, or nothing is close enough to name)."""

from __future__ import annotations

from core import services
from tests.support.apptest import all_text, open_page

PAGE = "pages/troubleshooting.py"
# Visma's code 4026 is VoucherDateIsInLockedPeriod, but the message names and describes a locked fiscal year.
CODE_AND_WORDS_DISAGREE = (
    '{"ErrorCode":4026,"DeveloperErrorMessage":"VoucherDateIsInLockedYearException - The voucher date 2026-12-31 is '
    'in a fiscal year that is locked for accounting.","ErrorId":"6d0e1f2a-3b4c-4d5e-8f60-718293a4b5c6","Errors":[]}'
)
CLEAR = "FiscalYearDoesNotExist (3001): there is no fiscal year for the date 2026-12-31."
NEAR_MISS = "The company has no access to the API module"


def paste(text: str):
    at = open_page(PAGE)
    at.text_area(key="ts_paste").set_value(text)
    at.button[0].click().run()
    assert not at.exception
    return at


def test_unsure_match_shows_low_confidence_why_and_the_runner_up(app_env):
    result = services.match(CODE_AND_WORDS_DISAGREE)
    assert result.confidence == "low" and result.runner_up
    at = paste(CODE_AND_WORDS_DISAGREE)
    headline = " ".join(w.value for w in at.warning)
    assert "Best match" in headline and "low confidence" in headline
    text = all_text(at)
    assert "Not sure:" in text and "4026" in text
    assert "Runner-up:" in text
    assert "Voucher date is in a locked fiscal year" in text and "Voucher date is in a locked period" in text
    assert any(e.label.startswith("Runner-up:") for e in at.expander)


def test_sure_match_shows_its_confidence_and_no_runner_up(app_env):
    assert services.match(CLEAR).confidence == "high"
    at = paste(CLEAR)
    headline = " ".join(s.value for s in at.success)
    assert "Fiscal year missing in Visma" in headline and "high confidence" in headline
    text = all_text(at)
    assert "Runner-up" not in text and "Not sure" not in text


def test_near_miss_names_the_closest_entry_without_claiming_it(app_env):
    result = services.match(NEAR_MISS)
    assert result.id is None and result.runner_up, "the text must stay a near miss for this test to mean anything"
    at = paste(NEAR_MISS)
    text = all_text(at)
    assert "No known error matches this text" in text
    assert "Closest entry, not close enough to name" in text
    assert result.runner_up["title"] in text
