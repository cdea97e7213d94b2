"""The sidebar's box with the sandbox's demo users says what it is: demo credentials for the local Visma sandbox, not
a sign-in to the dashboard (issue 12, a demo user took it for one)."""

from __future__ import annotations

from tests.support.apptest import new_app


def _credentials_box(at):
    return [e for e in at.sidebar.expander if "credentials" in e.label.lower()]


def test_demo_box_is_titled_as_sandbox_demo_credentials(app_env):
    at = new_app()
    at.run()
    assert not at.exception
    labels = [e.label for e in at.sidebar.expander]
    assert not any("sign-in" in label.lower() or "sign in" in label.lower() for label in labels), labels
    box = _credentials_box(at)
    assert len(box) == 1, labels
    assert box[0].label == "Demo credentials (sandbox login)"
    text = " ".join(m.value for m in box[0].markdown)
    assert "demo credentials for the local Visma sandbox" in text
    assert "Not a sign-in to this dashboard" in text
    assert "anna.dekker@demo-bureau.nl" in " ".join(c.value for c in box[0].code)


def test_no_demo_credentials_outside_demo_mode(app_env, monkeypatch):
    monkeypatch.setenv("VISMA_CLIENT_ID", "prod-client")
    monkeypatch.setenv("VISMA_CLIENT_SECRET", "prod-secret-value")
    at = new_app()
    at.run()
    assert not _credentials_box(at)
