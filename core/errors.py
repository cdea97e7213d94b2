"""The one exception type the service layer raises for anything a user can meet."""

from __future__ import annotations


class ServiceError(Exception):
    """A failure explained for people: ``message`` says what happened and what to do.

    ``entry_id`` names the troubleshooting catalogue entry when one fits, so the dashboard can show its cause and
    solution; ``code`` is a short machine-readable reason for scripts (``--json`` output).
    """

    def __init__(self, message: str, *, entry_id: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.entry_id = entry_id
        self.code = code or entry_id or "error"

    def to_dict(self) -> dict:
        return {"error": self.message, "entry_id": self.entry_id, "code": self.code}
