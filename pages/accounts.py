"""Accounts: the Visma authorizations. Create one (any name), authorize it at Visma's login, re-authorize, disconnect.

The Visma logo is grey until the account is authorized and red after, as users know it from the payroll vendor's
article; an account whose refresh failed or was revoked is orange, with the reason and what to do.
"""

from __future__ import annotations

import html
import time

import pandas as pd
import streamlit as st

from core import services
from ui.entries import show_entry
from ui.feedback import flash, service_call, try_service
from ui.frame import (
    ADMINISTRATIONS_PAGE,
    StateKeys,
    actor,
    app_root,
    close_dialog,
    data_changed,
    get_runtime,
    open_dialog,
    pending_dialog,
)
from ui.reads import cached_accounts, db_key
from ui.status import account_badge, account_logo, account_status_label, format_time
from ui.text import plain

# Visma keeps a pending authorization for 10 minutes; a login link older than this is made again, never reused.
AUTH_LINK_MAX_AGE_S = 8 * 60

rt = get_runtime()

st.title("Accounts")
st.caption(
    "An account is one authorization of one Visma user for one Visma company. To map several companies with the "
    "same Visma login, create and authorize one account per company."
)


# ------------------------------------------------------------------------------------------------------- dialogs


@st.dialog("Disconnect account", on_dismiss=close_dialog)
def confirm_disconnect(name: str) -> None:
    st.markdown(
        f"Disconnect **{name}**? Its Visma tokens are revoked and deleted and the account goes back to "
        "*not authorized*. Mapped companies stop sending until the account is authorized again."
    )
    left, right = st.columns(2)
    if left.button("Disconnect", type="primary", key="confirm_disconnect", width="stretch"):
        ok, _ = try_service(services.disconnect_account, rt, name, actor=actor())
        if ok:
            close_dialog()
            data_changed()
            flash(f"Account {plain(name)} is disconnected.", "toast")
            st.session_state[StateKeys.AUTH_LINKS] = {}
            st.rerun()
    if right.button("Cancel", key="cancel_disconnect", width="stretch"):
        close_dialog()
        st.rerun()


@st.dialog("Delete account", on_dismiss=close_dialog)
def confirm_delete(name: str) -> None:
    st.markdown(f"Delete **{plain(name)}**? The account and its tokens are removed from this dashboard for good.")
    left, right = st.columns(2)
    if left.button("Delete", type="primary", key="confirm_delete", width="stretch"):
        ok, _ = try_service(services.delete_account, rt, name, actor=actor())
        if ok:
            close_dialog()
            data_changed()
            flash(f"Account {plain(name)} is deleted.", "toast")
            st.session_state.pop(StateKeys.SELECTED_ACCOUNT, None)
            st.rerun()
    if right.button("Cancel", key="cancel_delete", width="stretch"):
        close_dialog()
        st.rerun()


# ------------------------------------------------------------------------------------------------- create account


with (
    st.expander("New account", icon=":material/add:", expanded=False),
    st.form("create_account", clear_on_submit=True, border=False),
):
        new_name = st.text_input(
            "Account name", max_chars=100, placeholder="e.g. Visma – Bakkerij De Gouden Korst",
            help="Any name you like; it is how this authorization is shown in the dashboard and in mappings.",
        )
        if st.form_submit_button("Create account", type="primary", icon=":material/add:"):
            if not new_name.strip():
                st.error("Enter a name for the account.")
            else:
                ok, created = try_service(services.create_account, rt, new_name.strip(), actor=actor())
                if ok:
                    data_changed()
                    flash(f"Account {plain(created.name)} is created. Authorize it to connect it to Visma.", "toast")
                    st.session_state[StateKeys.SELECTED_ACCOUNT] = created.name
                    st.rerun()


# --------------------------------------------------------------------------------------------------------- table

# cached like every other page's reads (each action here, the OAuth callback and every send clear it at once; what
# another process changes shows within the cache's 30 s): two ORM reads of every account on each rerun cost ~1 s at
# 10,000 companies
accounts = service_call(cached_accounts, rt, db_key(rt))
if accounts is None:
    st.stop()
if not accounts:
    st.info(
        "No accounts yet. Create one above (any name), then authorize it with the e-mail address and password of "
        "the Visma user this integration should use.",
        icon=":material/key:",
    )
    st.stop()

# Like two payroll companies mapped onto one Visma company (Administrations): two accounts for one company is worth a
# warning, usually a leftover of an authorization made again under a new name.
shared = services.shared_company_warnings(accounts)
for warning in shared:
    st.warning(plain(warning.message), icon=":material/warning:")

table = pd.DataFrame(
    {
        "logo": [account_logo(a.status) for a in accounts],
        "name": [a.name for a in accounts],
        "status": [account_status_label(a.status) for a in accounts],
        "reason": [a.status_reason or "" for a in accounts],
        "company": [a.visma_company_name or "" for a in accounts],
        "mapped": [", ".join(a.mapped_companies) for a in accounts],
        "expires": pd.to_datetime([a.token_expires_at for a in accounts], utc=True),
        "reauthorize_by": pd.to_datetime([a.reauthorize_by if a.status == "authorized" else None
                                          for a in accounts], utc=True),
        "refreshed": [format_time(a.last_refreshed_at).removesuffix(" UTC") if a.last_refreshed_at else "never"
                      for a in accounts],
    }
)
needs_why = bool(table["reason"].str.len().gt(0).any())
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="accounts_table",
    # What support checks first fits a 1400-pixel window (pixel widths): status (and why, when an account needs
    # action), company, the deadline, the last refresh. The mapped companies and the hourly token's expiry come last.
    column_order=("logo", "name", "status", *(("reason",) if needs_why else ()), "company", "reauthorize_by",
                  "refreshed", "mapped", "expires"),
    column_config={
        "logo": st.column_config.ImageColumn("Visma", width=55, help="Grey: not authorized. Red: authorized."),
        "name": st.column_config.TextColumn("Account", width=170 if needs_why else 215),
        "status": st.column_config.TextColumn("Status", width=105),
        "reason": st.column_config.TextColumn("Why it needs action", width=200),
        "company": st.column_config.TextColumn("Visma company", width=165 if needs_why else 215),
        "mapped": st.column_config.TextColumn("Mapped payroll companies", width=200),
        "expires": st.column_config.DatetimeColumn("Token expires", format="YYYY-MM-DD HH:mm", width=130,
                                                   help="The access token's expiry, UTC (an hour; refreshed on its "
                                                        "own)."),
        "reauthorize_by": st.column_config.DatetimeColumn(
            "Re-authorize by", format="YYYY-MM-DD HH:mm", width=125,
            help="UTC. When the refresh token of the last authorization is assumed to end (refreshes do not extend "
                 "it): authorize again before then. Empty when the lifetime is unknown "
                 "(VISMA_REFRESH_TOKEN_LIFETIME_DAYS = 0)."),
        "refreshed": st.column_config.TextColumn("Last refresh", width=125, help="UTC."),
    },
)
st.caption("Times are UTC.")

# ------------------------------------------------------------------------------------------- one account's actions

names = [a.name for a in accounts]
by_name = {a.name: a for a in accounts}
if st.session_state.get(StateKeys.SELECTED_ACCOUNT) not in by_name:
    waiting = [a.name for a in accounts if a.status != "authorized"]
    st.session_state[StateKeys.SELECTED_ACCOUNT] = (waiting or names)[0]

st.subheader("Manage an account")
name = st.selectbox("Account", names, key=StateKeys.SELECTED_ACCOUNT)
account = by_name[name]
status = account.status

with st.container(border=True):
    logo_col, text_col = st.columns([1, 14], vertical_alignment="center")
    logo_col.image(account_logo(status), width=40)
    text_col.markdown(f"**{plain(account.name)}** &nbsp; {account_badge(status)}")
    if account.visma_company_name:
        facts = [f"Visma company: {plain(account.visma_company_name)}"]
        if account.token_expires_at:
            facts.append(f"token expires {format_time(account.token_expires_at)} (renewed automatically)")
        if status == "authorized" and account.reauthorize_by:
            facts.append(f"re-authorize by {format_time(account.reauthorize_by)}")
        if account.last_refreshed_at:
            facts.append(f"last refresh {format_time(account.last_refreshed_at)}")
        text_col.caption(" · ".join(facts))
    if status == "needs_reauthorization":
        st.warning(
            f"This account needs to be authorized again. {plain(account.status_reason or '')}".strip(),
            icon=":material/sync_problem:",
        )
        if account.status_entry_id:
            show_entry(account.status_entry_id, message=account.status_reason)
    elif status == "not_authorized":
        st.info(
            "Not authorized yet. *Authorize* opens Visma's login: sign in with the Visma user for this integration, "
            "choose the company, and click *Allow*. You come back here with the account authorized.",
            icon=":material/info:",
        )
    if account.mapped_companies:
        st.caption("Mapped payroll companies: " + plain(", ".join(account.mapped_companies)))
    same_company = next((w for w in shared if account.name in w.accounts and status != "not_authorized"), None)
    if same_company:
        others = [n for n in same_company.accounts if n != account.name]
        st.caption(f":material/warning: {plain(same_company.visma_company)} is also authorized through "
                   f"{services.plural(len(others), 'account')} {plain(', '.join(others))}.")

    links: dict = st.session_state.setdefault(StateKeys.AUTH_LINKS, {})
    cols = [st.container(horizontal=True)] * 4  # one row of buttons as wide as their labels (never cut)
    authorize_label = "Authorize" if status == "not_authorized" else "Re-authorize"
    if cols[0].button(authorize_label, type="primary" if status != "authorized" else "secondary",
                      icon=":material/login:", key="authorize", width="content"):
        ok, url = try_service(services.start_authorization, rt, name, actor=actor(), redirect_uri=app_root(rt))
        if ok:
            links[name] = (url, time.time())
    if status == "authorized" and cols[1].button("Refresh token", icon=":material/refresh:", key="refresh",
                                                  width="content",
                                                  help="Ask Visma for a new access token now (normally automatic)."):
        ok, _ = try_service(services.refresh_account, rt, name, actor=actor())
        data_changed()  # a failed refresh changes the status too
        if ok:
            flash(f"The token of {plain(name)} is refreshed.", "toast")
            st.rerun()
    if status != "not_authorized" and cols[2].button("Disconnect", icon=":material/link_off:", key="disconnect",
                                                      width="content"):
        open_dialog("disconnect_account", name=name)
    if cols[3].button("Delete", icon=":material/delete:", key="delete", width="content"):
        open_dialog("delete_account", name=name)

    link = links.get(name)
    if link and time.time() - link[1] < AUTH_LINK_MAX_AGE_S:
        # Same tab: Visma sends the browser back to this dashboard, which completes the authorization on arrival.
        st.markdown(
            f'<a href="{html.escape(link[0], quote=True)}" target="_self" data-testid="visma-login-link" '
            'style="display:inline-block;padding:0.45rem 1rem;border-radius:0.5rem;background:#c8102e;'
            'color:#fff;text-decoration:none;font-weight:600">Continue to Visma login →</a>',
            unsafe_allow_html=True,
        )
        st.caption("Sign in with the Visma user for this integration, choose the company, then click *Allow*.")
    elif link:
        links.pop(name, None)  # expired at Visma: the user clicks Authorize again for a fresh link

if any(a.status == "authorized" and not a.mapped_companies for a in accounts):
    st.page_link(ADMINISTRATIONS_PAGE, label="Map a payroll company to an authorized account",
                 icon=":material/arrow_forward:")

dialog = pending_dialog("disconnect_account", "delete_account")
if dialog:
    {"disconnect_account": confirm_disconnect, "delete_account": confirm_delete}[dialog[0]](**dialog[1])
