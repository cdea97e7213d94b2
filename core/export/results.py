"""What a send returns: one `SendResultView` per run handled, and the `ExportSummaryView` of a send call.

Their fields are the CLI's ``export``/``resend``/``worker --json`` fields, in the order it prints them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ExportSummaryView", "ResendResultView", "SendResultView", "summarize"]


@dataclass(frozen=True, slots=True)
class SendResultView:
    """What happened to one run: outcome sent | reconciled | failed | unknown | skipped (a send), or
    confirmed_sent | confirmed_not_sent | still_unknown (a check of an unconfirmed run, `core.export.check`), its
    status after, Visma's voucher when it has one, and the troubleshooting entry and message when it was not sent."""

    run_id: int | None
    company: str | None
    label: str | None
    outcome: str
    status: str | None
    voucher_id: str | None = None
    voucher_number: str | None = None
    entry_id: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class ResendResultView(SendResultView):
    """A re-send: the result, and the voucher it was posted again after (which stays in Visma)."""

    previous_voucher_number: str | None = None
    previous_voucher_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExportSummaryView:
    """The counts of one send call (``sent`` includes reconciled runs) and every run's result."""

    sent: int
    failed: int
    skipped: int
    unknown: int
    total: int
    results: tuple[SendResultView, ...]

    def __add__(self, other: ExportSummaryView) -> ExportSummaryView:
        return ExportSummaryView(self.sent + other.sent, self.failed + other.failed, self.skipped + other.skipped,
                                 self.unknown + other.unknown, self.total + other.total, self.results + other.results)


_SUMMARY_KEYS = {"sent": "sent", "reconciled": "sent", "confirmed_sent": "sent", "failed": "failed",
                 "confirmed_not_sent": "failed", "unknown": "unknown", "still_unknown": "unknown"}


def summarize(results: Iterable[SendResultView]) -> ExportSummaryView:
    results = tuple(results)
    counts = {"sent": 0, "failed": 0, "skipped": 0, "unknown": 0}
    for r in results:
        key = _SUMMARY_KEYS.get(r.outcome, "skipped")
        counts[key] += 1
    return ExportSummaryView(**counts, total=len(results), results=results)
