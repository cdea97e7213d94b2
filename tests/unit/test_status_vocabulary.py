"""The status vocabulary: one table per kind of status, drawn the same way by the pages and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from core.cli.accounts import _STATUS_WORDS
from core.db.models import ACCOUNT_STATUSES, EXPORT_STATUSES
from core.services import ACCOUNT_STATUS_LOOKS, EXPORT_STATUS_LOOKS, FIX_IN_PLACES, SEVERITY_LOOKS
from core.troubleshooting.catalogue import FIX_IN, SEVERITIES
from ui.charts import STATUS_ORDER
from ui.status import (
    FIX_IN_LABELS,
    SEVERITY_COLORS,
    SEVERITY_LABELS,
    account_badge,
    account_logo,
    account_status_label,
    export_badge,
    format_time,
    logo_uri,
    status_cell_style,
    status_text,
    style_for,
)


def test_every_status_and_catalogue_value_has_a_look():
    assert tuple(ACCOUNT_STATUS_LOOKS) == ACCOUNT_STATUSES
    assert tuple(EXPORT_STATUS_LOOKS) == EXPORT_STATUSES == STATUS_ORDER
    assert tuple(SEVERITY_LOOKS) == SEVERITIES
    assert tuple(FIX_IN_PLACES) == FIX_IN


def test_account_status_is_drawn_from_the_vocabulary():
    assert account_status_label("authorized") == "● Authorized"
    assert account_badge("needs_reauthorization") == ":orange-badge[Needs re-authorization]"
    assert account_badge("not_authorized") == ":gray-badge[Not authorized]"
    assert account_logo("authorized") == logo_uri("red")
    assert account_logo("something_new") == logo_uri("grey")
    assert account_badge("something_new") == ":gray-badge[Something new]"


def test_cli_words_are_the_vocabulary_words():
    assert _STATUS_WORDS == {"not_authorized": "not authorized", "authorized": "authorized",
                             "needs_reauthorization": "needs re-authorization"}


def test_export_status_colours_and_cells():
    assert EXPORT_STATUSES == ("not_sent", "sending", "unconfirmed", "sent", "failed")
    assert [EXPORT_STATUS_LOOKS[s].hex for s in EXPORT_STATUSES] == [
        "#adb5bd", "#1c7ed6", "#f08c00", "#2f9e44", "#e03131"]
    assert export_badge("sent", "2026-0042") == ":green-badge[Sent · voucher 2026-0042]"
    assert export_badge("failed", "2026-0042") == ":red-badge[Failed]"
    assert export_badge("unconfirmed") == ":orange-badge[Unconfirmed]"
    assert status_text("sent", "2026-0042") == "Sent · 2026-0042"
    assert status_text(None) == "Not sent"
    assert style_for("Sent · 2026-0042") == "background-color: #d3f9d8; color: #1b5e20"
    assert style_for("Failed") == status_cell_style("failed") == "background-color: #e03131; color: white"
    assert style_for("Unconfirmed") == "background-color: #ffe8cc; color: #8a4500"
    assert status_cell_style(float("nan")) == style_for("—") == ""


def test_colour_means_the_same_everywhere():
    """Done is green, attention orange, failure red, on every badge; only the Visma logo keeps the article's red."""
    done = (EXPORT_STATUS_LOOKS["sent"], ACCOUNT_STATUS_LOOKS["authorized"])
    assert {look.badge for look in done} == {"green"}
    assert {look.logo for look in done} == {"red"}
    assert EXPORT_STATUS_LOOKS["failed"].badge == "red"
    assert [s for s, look in EXPORT_STATUS_LOOKS.items() if look.badge == "red"] == ["failed"]
    assert {EXPORT_STATUS_LOOKS["unconfirmed"].badge, ACCOUNT_STATUS_LOOKS["needs_reauthorization"].badge} == {
        "orange"}
    assert {look.logo for s, look in EXPORT_STATUS_LOOKS.items() if s != "sent"} == {"grey"}


def test_one_time_format_for_datetimes_and_iso_text():
    moment = datetime(2026, 3, 31, 14, 5, tzinfo=UTC)
    assert format_time(moment) == "2026-03-31 14:05 UTC"
    assert format_time(moment.isoformat()) == "2026-03-31 14:05 UTC"
    assert format_time(moment.astimezone(timezone(timedelta(hours=2)))) == "2026-03-31 14:05 UTC"
    assert format_time(datetime(2026, 3, 31, 14, 5)) == "2026-03-31 14:05"
    assert format_time(None) == format_time("") == "—"
    assert format_time("not a time") == "not a time"


def test_fix_in_has_a_label_for_filters_and_a_phrase_for_sentences():
    assert FIX_IN_LABELS == {"visma_portal": "Visma portal", "dashboard": "This dashboard",
                             "payroll_system": "Payroll system"}
    assert [FIX_IN_PLACES[p].phrase for p in FIX_IN] == ["the Visma portal", "this dashboard", "the payroll system"]
    assert SEVERITY_LABELS == {"error": "Error", "warning": "Warning", "info": "Info"}
    assert SEVERITY_COLORS == {"error": "red", "warning": "orange", "info": "blue"}
