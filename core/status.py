"""The status vocabulary: how each account status, export status and finding severity is named and coloured.

One home for the words and colours that the pages (badges, logos, table cells, the exports chart) and the CLI
(``accounts list``) show for a status, plus the labels of a catalogue entry's *fix in* place and language. Plain data,
no Streamlit: ``ui/status.py`` draws with it. The status values themselves are the columns' values in
``core/db/models.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from core.db.models import (
    AUTHORIZED,
    FAILED,
    NEEDS_REAUTHORIZATION,
    NOT_AUTHORIZED,
    NOT_SENT,
    SENDING,
    SENT,
    UNCONFIRMED,
)


@dataclass(frozen=True, slots=True)
class StatusLook:
    """How one status is shown.

    ``label`` for people ("Needs re-authorization"), ``words`` lower case for the CLI's prose, ``badge`` a Streamlit
    badge colour, ``logo`` the colour of the Visma logo file (``ui/static/visma-<logo>.svg``), ``mark`` a text mark
    every system font has (colour emoji are missing on many Linux desktops), ``hex`` the colour in charts and
    ``cell_style`` the CSS of a table cell (both empty where no chart or cell shows the status).
    """

    label: str
    words: str
    badge: str
    logo: str
    mark: str
    hex: str = ""
    cell_style: str = ""


def unknown_status(status: str) -> StatusLook:
    """The look of a status value this vocabulary does not know: its own words, in grey."""
    label = status.replace("_", " ").capitalize()
    return StatusLook(label=label, words=label.lower(), badge="gray", logo="grey", mark="○")


# Two signs, two meanings. The Visma *logo* follows the integration article: grey until the account is authorized or
# the run is sent, red after (Visma's own colour, not an alarm). Badges, table cells and charts use the colours users
# know from every other tool: green for done (authorized, sent), grey for not started, blue while working, orange for
# needs attention (re-authorize, unconfirmed), red only for failed.
ACCOUNT_STATUS_LOOKS = MappingProxyType({
    NOT_AUTHORIZED: StatusLook("Not authorized", "not authorized", "gray", "grey", "○"),
    AUTHORIZED: StatusLook("Authorized", "authorized", "green", "red", "●"),
    NEEDS_REAUTHORIZATION: StatusLook("Needs re-authorization", "needs re-authorization", "orange", "orange", "⚠"),
})

# In the order the exports chart stacks them: not sent, sending, unconfirmed, sent, failed.
_CELL = "background-color: {}; color: {}"
EXPORT_STATUS_LOOKS = MappingProxyType({
    NOT_SENT: StatusLook("Not sent", "not sent", "gray", "grey", "○", "#adb5bd", _CELL.format("#e9ecef", "#343a40")),
    SENDING: StatusLook("Sending", "sending", "blue", "grey", "◔", "#1c7ed6", _CELL.format("#d0ebff", "#0b4a8b")),
    UNCONFIRMED: StatusLook("Unconfirmed", "unconfirmed", "orange", "grey", "?", "#f08c00",
                            _CELL.format("#ffe8cc", "#8a4500")),
    SENT: StatusLook("Sent", "sent", "green", "red", "●", "#2f9e44", _CELL.format("#d3f9d8", "#1b5e20")),
    FAILED: StatusLook("Failed", "failed", "red", "grey", "⚠", "#e03131", _CELL.format("#e03131", "white")),
})


@dataclass(frozen=True, slots=True)
class SeverityLook:
    """How a finding's or a catalogue entry's severity is shown: ``label`` and a Streamlit badge colour."""

    label: str
    badge: str


SEVERITY_LOOKS = MappingProxyType({
    "error": SeverityLook("Error", "red"),
    "warning": SeverityLook("Warning", "orange"),
    "info": SeverityLook("Info", "blue"),
})


@dataclass(frozen=True, slots=True)
class FixInPlace:
    """Where a catalogue entry's problem is fixed: ``label`` for filters and badges ("Visma portal"), ``phrase`` for a
    sentence ("Where to fix it: the Visma portal")."""

    label: str
    phrase: str


FIX_IN_PLACES = MappingProxyType({
    "visma_portal": FixInPlace("Visma portal", "the Visma portal"),
    "dashboard": FixInPlace("This dashboard", "this dashboard"),
    "payroll_system": FixInPlace("Payroll system", "the payroll system"),
})

LANGUAGE_LABELS = MappingProxyType({"en": "English", "nl": "Dutch"})
