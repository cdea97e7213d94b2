"""The Demo page's words: the sandbox company states in the order offered, their titles, what the customer sees in
each, and what each connection fault does."""

STATE_ORDER = ("ok", "no_fiscal_year", "api_module_inactive", "ledger_empty", "period_locked", "year_locked",
               "no_user_access", "inactive", "read_only")
STATE_TITLES = {
    "ok": "Healthy",
    "no_fiscal_year": "Article 1 · fiscal year missing",
    "api_module_inactive": "Article 2 · API module not active / default company",
    "ledger_empty": "Article 3 · 'Ledger' cannot be empty",
    "period_locked": "Locked period",
    "year_locked": "Locked fiscal year",
    "no_user_access": "User has no access",
    "inactive": "Company inactive",
    "read_only": "Read-only user",
}
STATE_EXPLANATIONS = {
    "ok": "Healthy: journal entries are accepted and get a voucher number.",
    "no_fiscal_year": "This year's fiscal year was never created in Visma: sending a run of this year fails with "
    "“Resource not found: fiscalYearId” (article error 1); last year's runs still go through.",
    "api_module_inactive": "The API module is off (or a default company is set): Visma answers “De API module is "
    "nog niet geactiveerd” (article error 2).",
    "ledger_empty": "The organisation's General Ledger fields are empty: Visma answers “'Ledger' cannot be empty” "
    "(article error 3).",
    "period_locked": "The accounting period is locked in Visma: the voucher date falls in a closed period.",
    "year_locked": "The whole fiscal year is locked for accounting in Visma.",
    "no_user_access": "The Visma user that authorized the account lost access to this company.",
    "inactive": "The company is no longer active in Visma eAccounting.",
    "read_only": "The authorizing Visma user is read-only: Visma refuses to create the voucher.",
}
FAULT_EXPLANATIONS = {
    "rate_limit_per_minute": "Visma's call quota per minute (normally 600); a low number makes it answer “quota "
    "exceeded” (HTTP 429).",
    "http_error": "Visma down: every call answers HTTP 500 or 503.",
    "latency_ms": "Extra delay on every call, to show a slow Visma.",
    "commit_then_drop": "The next N vouchers are stored by Visma but the connection drops before the answer: the "
    "dashboard must reconcile instead of posting twice.",
}

# The sidebar box with the sandbox's demo users (app.py): named for what it is, so nobody takes it for a sign-in to
# this dashboard or for real Visma credentials.
DEMO_CREDENTIALS_TITLE = "Demo credentials (sandbox login)"
DEMO_CREDENTIALS_INTRO = (
    "Not a sign-in to this dashboard: these are made-up demo credentials for the local Visma sandbox. Authorizing an "
    "account opens the sandbox's Visma login; sign in there with a demo user:"
)
DEMO_CREDENTIALS_NOTE = (
    "{joost} has a *default company* set (the article's trap); {eva} has one company. Same password. They work only "
    "on the sandbox, never at Visma."
)
