"""Helpers for the AppTest tests of the Journal Export, Overview, Troubleshooting and Demo pages.

The app runs against the session sandbox and a fresh SQLite file (``app_env`` in tests/app/conftest.py); data is
arranged through the core services, exactly as users would create it (demo payroll, an account authorized through
the sandbox's login pages, a mapping, a send).
"""

from __future__ import annotations

ACTOR = "test@pages"
BAKKERIJ_CODE = "BAKKERIJ-DGK"


def company_code_for(sandbox_company_name: str) -> str:
    from core.demo.payroll import DEMO_MAPPING

    return next(code for code, name in DEMO_MAPPING.items() if name == sandbox_company_name)


def setup_company(rt, code: str = BAKKERIJ_CODE, *, periods=(1, 2, 3)):
    """Runs of one demo company, an account authorized for its sandbox company, and the mapping (see
    ``tests.support.export.setup_company``)."""
    from tests.support.export import setup_company as _setup

    return _setup(rt, code, periods=periods)


def set_state(rt, sandbox_company_name: str, state: str) -> None:
    from core import services
    from sandbox import seed

    services.set_company_state(rt, seed.company_by_name(sandbox_company_name)["id"], state, actor=ACTOR)


