"""A dashboard started with nothing configured opens on demo payroll data (DESIGN.md "Demo mode"), once."""

from dataclasses import replace

from core import demo
from core.payroll import list_payroll_companies
from tests.core_fixtures import rt  # noqa: F401


def test_embedded_demo_loads_payroll_once(rt):  # noqa: F811
    embedded = replace(rt, embedded_sandbox=True)
    first = demo.prepare_demo(embedded)
    assert first is not None and len(list_payroll_companies(rt)) >= 6
    assert demo.prepare_demo(embedded) is None  # already there: nothing added, nothing reset


def test_a_configured_sandbox_is_left_empty(rt):  # noqa: F811
    assert demo.prepare_demo(rt) is None  # tests and hand-run sandboxes keep their empty state
    assert list_payroll_companies(rt) == []
