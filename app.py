"""eAccounting Link — the dashboard's entry point: router, sidebar and the Visma OAuth callback.

`streamlit run app.py`. This script runs on every page and every rerun: it builds (once) the runtime, lists the
pages, draws the sidebar, and when Visma sends the browser back with ``?code=&state=`` (a new Streamlit session,
because a redirect is a full page load) it completes the authorization right here, clears the query parameters so a
reload cannot replay the code, and lands on Accounts with the outcome.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from core import services
from core.services import ServiceError, redact_url
from ui.demo_words import DEMO_CREDENTIALS_INTRO, DEMO_CREDENTIALS_NOTE, DEMO_CREDENTIALS_TITLE
from ui.feedback import flash, show_flash
from ui.frame import ACCOUNTS_PAGE, STATIC, StateKeys, actor, data_changed, get_runtime
from ui.text import plain

log = logging.getLogger(__name__)
ROOT = Path(__file__).parent
# The bundled sandbox's demo users (published in its seed; they exist only there): all companies, the default-company
# trap, one company.
DEMO_USERS = ("anna.dekker@demo-bureau.nl", "joost.devries@demo-bureau.nl", "eva.jansen@demo-bureau.nl")

# OAuth 2.0 error codes an authorization server sends back to the redirect URI (RFC 6749 §4.1.2.1 + OIDC).
OAUTH_ERRORS = {
    "access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope",
    "server_error", "temporarily_unavailable", "login_required", "consent_required", "interaction_required",
}

# .streamlit/config.toml turns the sidebar navigation off so that the legacy list of pages/ files never shows on a
# fresh server's first load; app.py's own navigation (st.navigation below, the pages' titles) is shown.
st.set_option("client.showSidebarNavigation", True)

st.set_page_config(
    page_title="eAccounting Link",
    page_icon=str(STATIC / "visma-red.svg"),
    layout="wide",
)


def _page(path: str, *, title: str, icon: str, url_path: str, default: bool = False) -> st.Page:
    return st.Page(ROOT / path, title=title, icon=icon, url_path=url_path, default=default)


def build_pages(demo_mode: bool) -> dict[str, list[st.Page]]:
    main = [
        _page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
        _page("pages/accounts.py", title="Accounts", icon=":material/key:", url_path="accounts"),
        _page("pages/administrations.py", title="Administrations", icon=":material/account_tree:",
              url_path="administrations"),
        _page("pages/journal_export.py", title="Journal Export", icon=":material/upload_file:",
              url_path="journal_export"),
    ]
    support = [
        _page("pages/troubleshooting.py", title="Troubleshooting", icon=":material/build:",
              url_path="troubleshooting"),
    ]
    if demo_mode:
        support.append(_page("pages/demo.py", title="Demo", icon=":material/science:", url_path="demo"))
    return {"": main, "Support": support}


def is_oauth_callback(params) -> bool:
    """Visma's redirect carries ``code`` + ``state``, or ``error`` (+ ``state``); other pages' parameters do not."""
    return "code" in params or "state" in params or params.get("error") in OAUTH_ERRORS


def handle_oauth_callback(rt) -> None:
    """Finish the authorization Visma sent us back for, then land on Accounts with the outcome (no F5 needed)."""
    callback = {key: st.query_params[key] for key in st.query_params}
    # Clear first: whatever happens next, a reload of this URL must not replay the code.
    st.query_params.clear()
    try:
        with st.spinner("Completing the authorization with Visma…"):
            account = services.complete_authorization(rt, callback, actor=actor())
    except ServiceError as exc:
        flash(f"The authorization did not complete. {plain(exc.message)}", "error", entry_id=exc.entry_id)
    except Exception:  # never a traceback on the landing page
        log.exception("Completing the authorization failed")
        flash(
            "The authorization did not complete because of an unexpected error. Nothing was stored; authorize the "
            "account again. If it happens again, send the server log to support.",
            "error",
        )
    else:
        company = account.visma_company_name or "the chosen Visma company"
        flash(f"Account **{plain(account.name)}** is authorized. Visma company: **{plain(company)}**", "success")
        flash("Authorization complete", "toast")
        st.session_state[StateKeys.SELECTED_ACCOUNT] = account.name
    data_changed()  # authorized or failed, the account's status changed
    st.switch_page(ACCOUNTS_PAGE)


def draw_sidebar(rt) -> None:
    settings = rt.settings
    with st.sidebar:
        if settings.demo_mode:
            st.badge("Demo", icon=":material/science:", color="orange",
                     help="No Visma client is configured: the dashboard talks to the bundled Visma sandbox.")
        else:
            st.badge("Production", icon=":material/verified:", color="green",
                     help="Connected to Visma eAccounting with this installation's client id.")
        st.caption(
            f"Visma identity: `{settings.identity_url}`  \n"
            f"Visma API: `{settings.api_url}`  \n"
            f"Database: `{redact_url(settings.database_url)}`"
        )
        if settings.demo_mode:
            with st.expander(DEMO_CREDENTIALS_TITLE, icon=":material/science:"):
                st.markdown(DEMO_CREDENTIALS_INTRO)
                st.code(f"{DEMO_USERS[0]}\n{services.DEMO_PASSWORD}", language=None)
                st.caption(DEMO_CREDENTIALS_NOTE.format(joost=DEMO_USERS[1], eva=DEMO_USERS[2]))
        st.caption(f"Signed in as {plain(actor())}")


def main() -> None:
    rt = get_runtime()
    sections = build_pages(rt.settings.demo_mode)
    pg = st.navigation(sections)
    if is_oauth_callback(st.query_params):
        handle_oauth_callback(rt)
    draw_sidebar(rt)
    show_flash()
    pg.run()


main()
