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


ACCOUNT_STATUS_LOOKS = MappingProxyType({
    NOT_AUTHORIZED: StatusLook("Not authorized", "not authorized", "gray", "grey", "○"),
    AUTHORIZED: StatusLook("Authorized", "authorized", "red", "red", "●"),
    NEEDS_REAUTHORIZATION: StatusLook("Needs re-authorization", "needs re-authorization", "orange", "orange", "⚠"),
})

# In the order the exports chart stacks them. Visma red for sent (the red logo), orange for failed, grey for not
# sent, blue while sending.
_CELL = "background-color: {}; color: {}"
EXPORT_STATUS_LOOKS = MappingProxyType({
    NOT_SENT: StatusLook("Not sent", "not sent", "gray", "grey", "○", "#9e9e9e", _CELL.format("#e9ecef", "#333")),
    SENDING: StatusLook("Sending", "sending", "blue", "blue", "◔", "#1c7ed6", _CELL.format("#1c7ed6", "white")),
    SENT: StatusLook("Sent", "sent", "red", "red", "●", "#c8102e", _CELL.format("#c8102e", "white")),
    FAILED: StatusLook("Failed", "failed", "orange", "orange", "⚠", "#f08c00", _CELL.format("#f08c00", "black")),
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
