"""A dashboard started with nothing configured opens on demo payroll data (DESIGN.md "Demo mode"), once."""

from dataclasses import replace

from core.accounts.authorization import complete_authorization, start_authorization
from core.accounts.records import create_account
from core.demo import service as demo
from core.payroll.store import list_payroll_companies


def test_embedded_demo_loads_payroll_once(rt):
    embedded = replace(rt, embedded_sandbox=True)
    first = demo.prepare_demo(embedded)
    assert first is not None and len(list_payroll_companies(rt)) >= 6
    from core.db.models import utcnow
    from core.services import list_runs

    runs = list_runs(rt)
    assert len(runs) == 12 * len(list_payroll_companies(rt))
    assert all(r.processed_at <= utcnow().isoformat() for r in runs)  # a live demo shows no run dated in the future
    assert demo.prepare_demo(embedded) is None  # already there: nothing added, nothing reset


def test_a_configured_sandbox_is_left_empty(rt):
    assert demo.prepare_demo(rt) is None  # tests and hand-run sandboxes keep their empty state
    assert list_payroll_companies(rt) == []


def test_a_demo_on_another_port_registers_its_own_redirect_uri(rt):
    import pytest

    from core.demo.constants import DEMO_PASSWORD, DEMO_USER_ALL_COMPANIES
    from core.demo.login import DemoLoginError, login_and_consent

    create_account(rt, "Other port", actor="test")
    import uuid

    other = f"http://127.0.0.1:8655/{uuid.uuid4().hex}/"  # unique: the sandbox keeps registrations across resets
    # A sandbox named by configuration is not told about unknown addresses: Visma would refuse them too.
    url = start_authorization(rt, "Other port", actor="test", redirect_uri=other)
    with pytest.raises(DemoLoginError):
        login_and_consent(url, email=DEMO_USER_ALL_COMPANIES, password=DEMO_PASSWORD, company="Bakkerij")
    # The embedded demo sandbox learns the dashboard's own address, so the flow comes back to it.
    url = start_authorization(replace(rt, embedded_sandbox=True), "Other port", actor="test",
                              redirect_uri=other)
    callback = login_and_consent(url, email=DEMO_USER_ALL_COMPANIES, password=DEMO_PASSWORD, company="Bakkerij")
    assert callback.startswith(other + "?code=")
    assert complete_authorization(rt, callback, actor="test").status == "authorized"
