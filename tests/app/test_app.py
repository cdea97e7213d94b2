"""The entry point: navigation, sidebar, configuration errors and the Visma OAuth callback (AppTest)."""

from __future__ import annotations

import pytest

from tests.support.apptest import BAKKERIJ, all_text, app_with_query, callback_query, new_app


def _account(app_rt, name):
    from core import services

    return next(a for a in services.list_accounts(app_rt) if a.name == name)


def test_no_query_params_shows_the_app_with_the_demo_sidebar(app_env):
    at = new_app().run()
    assert not at.exception
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown) + "\n".join(str(c.value) for c in at.sidebar.caption)
    assert app_env.url in sidebar  # the Visma hosts
    assert "sqlite:///" in sidebar  # the database
    assert any("Demo" in str(getattr(b, "value", "")) or "Demo" in str(b.proto) for b in at.sidebar.get("badge")) \
        or "Demo" in sidebar
    assert "anna.dekker@demo-bureau.nl" in "\n".join(str(c.value) for c in at.sidebar.code)
    assert not at.error


def test_callback_completes_authorization_and_lands_on_accounts(app_rt):
    from core import services

    services.create_account(app_rt, "Bakkerij", actor="test")
    query = callback_query(app_rt, "Bakkerij", company=BAKKERIJ)
    at = app_with_query(query)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Accounts"]
    assert any("Bakkerij" in s.value and BAKKERIJ in s.value for s in at.success)
    assert not at.error
    assert dict(at.query_params) == {}
    assert _account(app_rt, "Bakkerij").status == "authorized"
    # The next run (a reload) does not replay the code: no error, still authorized, the message is gone.
    at.run()
    assert not at.exception and not at.error and not at.success
    assert _account(app_rt, "Bakkerij").status == "authorized"


def test_forged_state_is_refused_with_a_clear_error(app_rt):
    from core import services

    services.create_account(app_rt, "Bakkerij", actor="test")
    at = new_app()
    at.query_params["code"] = "forged-code"
    at.query_params["state"] = "forged-state"
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Accounts"]
    assert at.error and "did not complete" in at.error[0].value
    assert "oauth-state-invalid" in all_text(at) or any("state" in e.value.lower() for e in at.error)
    assert dict(at.query_params) == {}
    assert _account(app_rt, "Bakkerij").status == "not_authorized"


def test_access_denied_is_explained(app_rt):
    from core import services

    services.create_account(app_rt, "Bakkerij", actor="test")
    query = callback_query(app_rt, "Bakkerij", allow=False)
    assert query.get("error") == "access_denied"
    at = app_with_query(query)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Accounts"]
    assert at.error
    text = all_text(at)
    assert "Cause:" in text and "Solution:" in text  # the catalogue entry is shown
    assert _account(app_rt, "Bakkerij").status == "not_authorized"


def test_an_explained_error_says_in_words_where_to_fix_it(app_rt):
    from core import services

    services.create_account(app_rt, "Bakkerij", actor="test")
    at = app_with_query(callback_query(app_rt, "Bakkerij", allow=False))
    at.run()
    assert not at.exception
    where = [c.value for c in at.caption if c.value.startswith("Where to fix it: ")]
    assert where and where[0].removeprefix("Where to fix it: ") in (
        "the Visma portal", "this dashboard", "the payroll system")


def test_unrelated_query_params_are_not_a_callback(app_env):
    at = new_app()
    at.query_params["entry"] = "fiscal-year-missing"
    at.run()
    assert not at.exception
    assert not any("did not complete" in e.value for e in at.error)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"VISMA_CLIENT_ID": "prod-client"}, "VISMA_CLIENT_SECRET"),
        ({"VISMA_CLIENT_ID": "prod-client", "VISMA_CLIENT_SECRET": "x", "TOKEN_ENCRYPTION_KEY": None},
         "TOKEN_ENCRYPTION_KEY"),
        ({"DATABASE_URL": "postgresql://elx:s3cretpw@127.0.0.1:1/elx"}, "DATABASE_URL"),
    ],
    ids=["client-secret-missing", "production-without-key", "database-unreachable"],
)
def test_configuration_errors_are_explained_without_a_traceback(app_env, monkeypatch, env, expected):
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    at = new_app().run()
    assert not at.exception
    assert at.error, "a configuration error is shown"
    text = at.error[0].value
    assert expected in text
    assert "s3cretpw" not in text
    assert not at.title  # no page ran


def test_expired_state_is_refused_and_nothing_is_stored(app_rt, monkeypatch):
    """Visma sends the browser back after the 10 minutes the pending authorization lives: a clear error, no token."""
    from datetime import timedelta

    from core import services
    from core.db import models

    services.create_account(app_rt, "Bakkerij", actor="test")
    query = callback_query(app_rt, "Bakkerij", company=BAKKERIJ)
    real_now = models.utcnow
    monkeypatch.setattr(models, "utcnow", lambda: real_now() + timedelta(minutes=11))
    at = app_with_query(query)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Accounts"]
    assert at.error and "expired" in at.error[0].value
    assert dict(at.query_params) == {}
    assert _account(app_rt, "Bakkerij").status == "not_authorized"


def test_reused_callback_in_a_new_session_is_refused(app_rt):
    """The callback URL opened again (another tab, the browser history): the code is not replayed."""
    from core import services

    services.create_account(app_rt, "Bakkerij", actor="test")
    query = callback_query(app_rt, "Bakkerij", company=BAKKERIJ)
    first = app_with_query(query)
    first.run()
    assert first.success and not first.error
    second = app_with_query(query)
    second.run()
    assert not second.exception
    assert [t.value for t in second.title] == ["Accounts"]
    assert second.error and "already used" in second.error[0].value
    assert not second.success
    assert dict(second.query_params) == {}
    assert _account(app_rt, "Bakkerij").status == "authorized"  # the first authorization stands


HOSTILE = "[Click here to re-authorize](https://evil.example/phish) ![t](http://attacker/r.png)"


def _no_link_or_image(markdown_source: str) -> None:
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(markdown_source)
    assert "<a " not in html and "<img" not in html, html


def test_a_forged_callbacks_description_is_shown_as_text_not_as_a_link(app_rt):
    """A callback URL anyone can craft puts Visma's 'error_description' into the red box: it must not become a working
    link or an outside image fetch."""
    from core import services

    services.create_account(app_rt, "Bakkerij", actor="test")
    state = services.start_authorization(app_rt, "Bakkerij", actor="test").split("state=")[1].split("&")[0]
    at = app_with_query({"error": "invalid_request", "error_description": HOSTILE, "state": state})
    at.run()
    assert not at.exception and at.error
    shown = at.error[0].value
    assert "Click here to re\\-authorize" in shown or "Click here to re-authorize" in shown
    _no_link_or_image(shown)


def test_a_hostile_account_name_is_shown_as_text_on_the_accounts_page(app_rt):
    from core import services
    from tests.support.apptest import open_page

    services.create_account(app_rt, HOSTILE, actor="test")
    at = open_page("pages/accounts.py")
    assert not at.exception
    named = [m.value for m in at.markdown if "Click here" in m.value]
    assert named, all_text(at)
    for source in named:
        _no_link_or_image(source)
