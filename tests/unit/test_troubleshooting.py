"""The troubleshooting catalogue and its matcher.

Support staff paste error texts in every shape; these tests make sure each catalogue entry is found again from its
own examples and from the ways people mangle them (case, spacing, other ids, JSON wrapper on or off, cut short,
inside a log line or an e-mail), that every error text the Visma sandbox returns lands on the right entry, that
unrelated text gives "no known error", and that the payroll vendor's three errors are quoted word for word.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import yaml

from core.troubleshooting import catalogue as catalogue_module
from core.troubleshooting import matcher as ts
from core.troubleshooting.catalogue import CatalogueError, Entry, catalogue, find_entry, get_entry, load_catalogue
from core.troubleshooting.classify import classify
from core.troubleshooting.matcher import MatchResult, match
from core.troubleshooting.search import search

ARTICLE_PATH = Path("/work/shared/reference/integration-article.txt")

NAMED_IDS = [
    "fiscal-year-missing", "api-module-inactive", "ledger-empty", "account-not-found", "period-locked",
    "year-locked", "cost-center-not-allowed", "cost-center-inactive", "validation-failed", "no-company-access",
    "company-inactive", "read-only-user", "module-no-access", "scope-missing", "duplicate-conflict", "token-expired",
    "reauthorize-needed", "consent-denied", "rate-limited", "visma-unavailable", "voucher-unbalanced",
    "account-not-mapped", "company-not-mapped", "account-not-authorized",
]  # fmt: skip

# The vendor's article, copied character for character (its spelling too: "ben", "ore").
ARTICLE = {
    "fiscal-year-missing": (
        "Visma Integration Error Message: One or more errors occurred. Resource not found: fiscalYearId",
        "The fiscal year has not ben created yet in the portal of Visma.",
        "Log in to the Visma portal and create the fiscal year for which you want to export the journal entries.",
    ),
    "api-module-inactive": (
        "De API module is nog niet geactiveerd. U kunt inloggen bij Visma eAccounting en kiezen voor "
        "'Extra diensten' om de API module te activeren",
        "A possible cause is the selection of a default company in eAccounting. This setting is not allowed within "
        "the integration.",
        "Deselect the setting 'default company'.",
    ),
    "ledger-empty": (
        '{"message":"VismaId: [code]. Error creating journal transaction. Error: Inserting \'General ledger batch\' '
        "record raised at least one error. Please review the errors.\\r\\nError: 'Ledger' cannot be empty.\\r\\n\"}",
        "Within Visma, one ore more fields General Ledger for Organisation are not added.",
        "Complete the fields with the correct information.",
    ),
}


def envelope(code: int, message: str, errors: list | None = None) -> str:
    """Visma's error body as the sandbox sends it (fresh ErrorId each time)."""
    return json.dumps(
        {"ErrorCode": code, "DeveloperErrorMessage": message, "ErrorId": str(uuid.uuid4()), "Errors": errors or []}
    )


# --------------------------------------------------------------------------------------------- the catalogue file


def test_catalogue_has_at_least_30_entries_with_unique_ids():
    entries = catalogue()
    assert len(entries) >= 30
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry_id", NAMED_IDS)
def test_named_entries_exist_with_an_example(entry_id):
    entry = get_entry(entry_id)
    assert entry.example.strip()
    assert entry.cause.strip() and entry.solution.strip() and entry.title.strip()


@pytest.mark.parametrize("entry", catalogue(), ids=lambda e: e.id)
def test_every_entry_is_complete_and_uses_allowed_values(entry: Entry):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.id)
    assert entry.fix_in in {"visma_portal", "dashboard", "payroll_system"}
    assert entry.severity in {"error", "warning", "info"}
    assert set(entry.language) <= {"en", "nl"}
    assert entry.patterns or entry.codes or entry.oauth_errors
    assert all(isinstance(c, int) for c in entry.codes)
    assert all(100 <= s <= 599 for s in entry.http_statuses)
    for pattern in entry.patterns + entry.not_patterns:
        re.compile(pattern)
    if entry.id not in ARTICLE:  # the article's solutions are one sentence; everything else is numbered steps
        assert entry.solution.lstrip().startswith("1. "), entry.id


def test_codes_and_oauth_errors_point_to_one_entry_except_the_documented_splits():
    """classify relies on this: only 2000, 4002 and invalid_grant are shared, and their split is by text."""
    by_code: dict[int, list[str]] = {}
    by_oauth: dict[str, list[str]] = {}
    for e in catalogue():
        for c in e.codes:
            by_code.setdefault(c, []).append(e.id)
        for o in e.oauth_errors:
            by_oauth.setdefault(o, []).append(e.id)
    assert {c for c, ids in by_code.items() if len(ids) > 1} == {2000, 4002}
    assert {o for o, ids in by_oauth.items() if len(ids) > 1} == {"invalid_grant"}


def test_get_and_find_entry():
    assert get_entry("ledger-empty").id == "ledger-empty"
    assert find_entry("ledger-empty") is get_entry("ledger-empty")
    assert find_entry("no-such-entry") is None
    assert find_entry(None) is None
    with pytest.raises(KeyError):
        get_entry("no-such-entry")


def test_catalogue_is_loaded_once():
    assert catalogue_module.entries() is catalogue_module.entries()
    assert catalogue() == catalogue() and catalogue() is not catalogue()  # callers get their own list


def _write_catalogue(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(catalogue_module.CATALOGUE_PATH.read_text(encoding="utf-8"))
    mutate(data["entries"])
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda es: es.append(dict(es[0])), "duplicate id"),
        (lambda es: es[0].update(fix_in="somewhere"), "fix_in must be one of"),
        (lambda es: es[0].update(severity="fatal"), "severity must be one of"),
        (lambda es: es[0].update(patterns=["(unclosed"]), "bad regex"),
        (lambda es: es[0].pop("cause"), "missing field(s) cause"),
        (lambda es: es[0].update(codes=["3001"]), "'codes' must be a list of integers"),
        (lambda es: es[0].update(colour="red"), "unknown field(s) colour"),
        (lambda es: es[0].update(id="Fiscal Year"), "kebab-case"),
        (lambda es: es[0].update(language=["de"]), "language tags"),
        (lambda es: es[0].update(http_statuses=[42]), "HTTP status codes"),
        (lambda es: es.__delitem__(slice(10, None)), "at least 30"),
        (lambda es: es[0].update(default_for=["code:abc"]), "default_for values must look like"),
        (lambda es: es[0].update(default_for=["status:401"]), "default_for names status:401 on more than one entry"),
        (lambda es: es[0].update(names="FiscalYearDoesNotExist"), "'names' must be a list of non-empty strings"),
        (lambda es: es[0].update(names=["Fiscal year does not exist"]), "names are Visma's error names"),
        (lambda es: es[0].update(names=["Conflict", "conflict"]), "a name is listed twice"),
        (lambda es: (es[0].update(names=["Conflict"]), es[1].update(names=["Conflict"])), "the name Conflict is on"),
        (lambda es: es[0].update(references=["see the docs"]), "references must be https:// addresses"),
        (lambda es: es[0].update(references=[""]), "'references' must be a list of non-empty strings"),
        (
            lambda es: (
                es[0].update(names=["VoucherDateIsInLockedYear"]),
                es[1].update(names=["VoucherDateIsInLockedYearException"]),
            ),
            "is on",
        ),
    ],
)
def test_load_catalogue_rejects_broken_files_with_a_clear_message(tmp_path, mutate, message):
    path = _write_catalogue(tmp_path, mutate)
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load_catalogue(path)


def test_a_key_written_twice_in_an_entry_is_refused(tmp_path):
    text = catalogue_module.CATALOGUE_PATH.read_text(encoding="utf-8")
    first = text.index("    references:\n")
    doubled = (
        text[:first] + "    references:\n      - 'https://developer.vismaonline.com/docs/error-codes'\n" + text[first:]
    )
    path = tmp_path / "catalogue.yaml"
    path.write_text(doubled, encoding="utf-8")
    with pytest.raises(CatalogueError, match="written twice"):
        load_catalogue(path)


def test_names_and_references_are_loaded_and_exported(tmp_path):
    def mutate(es):
        es[0].update(
            names=["FiscalYearDoesNotExist"],
            references=[
                "https://developer.vismaonline.com/docs/error-codes",
                "api-evangelist/visma@a37e6927 errors/visma-problem-types.yml",
            ],
        )
        es[1].pop("names", None)
        es[1].pop("references", None)

    first, second = load_catalogue(_write_catalogue(tmp_path, mutate))[:2]
    assert first.names == ("FiscalYearDoesNotExist",)
    assert first.references[1] == "api-evangelist/visma@a37e6927 errors/visma-problem-types.yml"
    assert second.names == () and second.references == ()
    exported = first.to_dict()
    assert exported["names"] == ["FiscalYearDoesNotExist"]
    assert exported["references"] == list(first.references)
    json.dumps(exported)


def test_load_catalogue_accepts_the_shipped_file_and_reports_unreadable_ones(tmp_path):
    assert [e.id for e in load_catalogue()] == [e.id for e in catalogue()]
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(bad)
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------------------------- the article


@pytest.mark.parametrize("entry_id", sorted(ARTICLE))
def test_article_errors_are_word_for_word(entry_id):
    message, cause, solution = ARTICLE[entry_id]
    entry = get_entry(entry_id)
    assert entry.example == message
    assert entry.cause == cause
    assert entry.solution == solution
    assert entry.source == "article"
    assert match(message).id == entry_id


@pytest.mark.skipif(not ARTICLE_PATH.exists(), reason="the vendor's article is not available on this machine")
@pytest.mark.parametrize("entry_id", sorted(ARTICLE))
def test_article_texts_occur_in_the_article_itself(entry_id):
    article = ARTICLE_PATH.read_text(encoding="utf-8")
    for text in ARTICLE[entry_id]:
        assert text in article


def test_api_module_inactive_also_matches_vismas_own_403_body():
    body = envelope(4002, "ForbiddenRequestException - No access to module: api_standard")
    result = match(body)
    assert result.id == "api-module-inactive"
    assert "module-no-access" in [a["id"] for a in result.alternatives]
    assert match(envelope(4002, "ForbiddenRequestException - No access to module: invoicing")).id == "module-no-access"


# --------------------------------------------------------------------------------------------- examples and variants

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"(?<![\w.])\d+")
OTHER_GUID = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


def _unwrap_or_wrap(text: str) -> str:
    """Take the message out of a JSON body, or put a plain message into one."""
    try:
        data = json.loads(text)
    except ValueError:
        return json.dumps({"message": text})
    if "DeveloperErrorMessage" in data:
        return data["DeveloperErrorMessage"]
    if "message" in data:
        return data["message"]
    return f"{data['error']}: {data.get('error_description', '')}"


def _change_ids(text: str, entry: Entry) -> str:
    """Other GUIDs, account numbers, amounts and dates; the entry's error codes and statuses stay."""
    keep = {str(c) for c in entry.codes} | {str(s) for s in entry.http_statuses}
    text = _GUID.sub(OTHER_GUID, text)
    return _NUMBER.sub(lambda m: m.group(0) if m.group(0) in keep else str(int(m.group(0)) + 7), text)


VARIANTS = {
    "as-is": lambda t, e: t,
    "upper-case": lambda t, e: t.upper(),
    "lower-case": lambda t, e: t.lower(),
    "spaces-expanded": lambda t, e: t.replace(" ", "   "),
    "wrapped-lines": lambda t, e: t.replace(". ", ".\n    ").replace(", ", ",\n"),
    "ids-changed": _change_ids,
    "json-toggled": lambda t, e: _unwrap_or_wrap(t),
    "log-line": lambda t, e: f"2026-03-31 12:00:01,123 ERROR core.export.send: send of run 2026-03 failed: {t} (try 2)",
    "email-nl": lambda t, e: f"Hoi support,\n\nBij het versturen krijgen we deze melding:\n\n> {t}\n\nGroet, Joost",
    "email-en": lambda t, e: f"Hi team,\nwe get this when sending the journal:\n\n{t}\n\nThanks, Anna",
}

CASES = [
    pytest.param(e.id, n, name, id=f"{e.id}-{n}-{name}")
    for e in catalogue()
    for n in range(len(e.examples))
    for name in VARIANTS
]


@pytest.mark.parametrize(("entry_id", "n", "variant"), CASES)
def test_every_example_and_its_variants_match_their_entry(entry_id, n, variant):
    entry = get_entry(entry_id)
    text = VARIANTS[variant](entry.examples[n], entry)
    result = match(text)
    assert result.id == entry_id, (text, result.to_dict())
    assert result.score >= ts.THRESHOLD


@pytest.mark.parametrize("entry", catalogue(), ids=lambda e: e.id)
def test_each_main_example_cut_to_70_percent_still_matches(entry: Entry):
    text = entry.example[: int(len(entry.example) * 0.7)]
    assert match(text).id == entry.id, text


@pytest.mark.parametrize("entry", [e for e in catalogue() if e.example_nl], ids=lambda e: e.id)
def test_dutch_example_exists_and_matches(entry: Entry):
    assert "nl" in entry.language
    assert match(entry.example_nl).id == entry.id


def test_whitespace_collapsed_and_html_page_forms():
    assert match("CompanyNotActive-The company is not active.").id == "company-inactive"
    page = "<html><body><h1>502 Bad Gateway</h1><hr><center>nginx/1.25</center></body></html>"
    assert match(page).id == "visma-unavailable"


# --------------------------------------------------------------------------------------------- sandbox error texts

UNBALANCED = (
    "DataModelValidationError - The voucher is not balanced: total debit 100.00 does not equal total credit 90.00."
)

ARCHITECTURE_TABLE = [
    (401, 4005, "AuthorizationException - Authorization has been denied for this request.", "token-expired"),
    (403, 4002, "ForbiddenRequestException - No access to module: api_standard", "api-module-inactive"),
    (
        403,
        4011,
        "ForbiddenRequestException - The authenticated user does not have access to eAccounting for this company.",
        "no-company-access",
    ),
    (403, 4004, "CompanyNotActive - The company is not active.", "company-inactive"),
    (
        403,
        4019,
        "NoPermissionForReadonlyUser - The user has read-only permissions and cannot create or change data.",
        "read-only-user",
    ),
    (
        403,
        4006,
        "NoAccessToScopes - The access token does not include any of the scopes required for this operation: "
        "ea:accounting.",
        "scope-missing",
    ),
    (
        400,
        3001,
        "FiscalYearDoesNotExist - Resource not found: fiscalYearId. There is no fiscal year for the date 2026-03-31.",
        "fiscal-year-missing",
    ),
    (
        400,
        3002,
        "AccountNotFound - Account 4990 does not exist or is not active in the fiscal year of the voucher date.",
        "account-not-found",
    ),
    (400, 4026, "VoucherDateIsInLockedPeriod - The voucher date 2026-03-31 is in a locked accounting period.",
     "period-locked"),
    (
        400,
        4038,
        "VoucherDateIsInLockedYearException - The voucher date 2026-03-31 is in a fiscal year that is locked for "
        "accounting.",
        "year-locked",
    ),
    (400, 2000, "DataModelValidationError - Cost center is not allowed on account 1500.", "cost-center-not-allowed"),
    (400, 2000, UNBALANCED, "voucher-unbalanced"),
    (400, 2000, "DataModelValidationError - Rows[0].AccountNumber: The AccountNumber field is required.",
     "validation-failed"),
    (400, 5006, "InactiveCostCenter - Cost center item LOG is inactive.", "cost-center-inactive"),
    (
        429,
        4010,
        "API calls quota exceeded! maximum admitted 600 per Minute. Try again in 37 seconds.",
        "rate-limited",
    ),
    (500, 5000, "InternalServerError - An unexpected error occurred.", "visma-unavailable"),
    (503, 5001, "CantReachSystemDependendency - A system dependency could not be reached.", "visma-unavailable"),
    (400, 6000, "QueryParameterError - The query parameter $filter is invalid.", "query-invalid"),
    (400, 6001, "InvalidInput - The value 31-03-2026 is not a valid date.", "query-invalid"),
]  # fmt: skip


@pytest.mark.parametrize(("status", "code", "message", "expected"), ARCHITECTURE_TABLE)
def test_each_sandbox_error_body_lands_on_its_entry(status, code, message, expected):
    errors = None
    if code == 2000:
        field = message.split(" - ", 1)[1].split(":", 1)[0]
        errors = [{"Field": field, "ErrorCode": "2000", "Message": message.split(" - ", 1)[1], "Key": field}]
    body = envelope(code, message, errors)
    assert match(body).id == expected
    assert match(message).id == expected  # the DeveloperErrorMessage alone, as a log shows it
    assert match(f"HTTP {status} from POST /v2/vouchers: {body}").id == expected
    assert classify(http_status=status, error_code=code, message=message) == expected


def test_ledger_empty_body_as_the_sandbox_sends_it():
    text = (
        f"VismaId: {uuid.uuid4()}. Error creating journal transaction. Error: Inserting 'General ledger batch' record "
        "raised at least one error. Please review the errors.\r\nError: 'Ledger' cannot be empty.\r\n"
    )
    body = json.dumps({"message": text})
    assert match(body).id == "ledger-empty"
    assert match(text).id == "ledger-empty"
    assert classify(http_status=400, message=body) == "ledger-empty"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"error":"invalid_grant"}', "reauthorize-needed"),
        ('{"error":"invalid_grant","error_description":"refresh token revoked"}', "reauthorize-needed"),
        ('Code exchange failed: {"error":"invalid_grant"}', "authorization-code-invalid"),
        ('{"error":"invalid_grant","error_description":"invalid code_verifier"}', "authorization-code-invalid"),
        ('{"error":"invalid_client"}', "client-credentials-invalid"),
        ("https://app.example/?error=access_denied&state=abc123", "consent-denied"),
        ('{"error":"invalid_scope"}', "scope-missing"),
        ("MismatchingStateError: mismatching_state: CSRF Warning! State not equal in request and response.",
         "oauth-state-invalid"),
        ("httpx.ConnectError: [Errno 111] Connection refused", "visma-unavailable"),
        ("httpx.ReadTimeout: The read operation timed out", "visma-unavailable"),
    ],
)  # fmt: skip
def test_identity_server_and_transport_errors(text, expected):
    assert match(text).id == expected


# --------------------------------------------------------------------------------------------- evidence and ranking


def test_error_code_in_a_json_body_counts_more_than_words():
    # the words speak of a locked year, the code says locked period: the code wins
    body = envelope(4026, "The voucher date 2026-03-31 is in a fiscal year that is locked for accounting.")
    assert match(body).id == "period-locked"


def test_account_numbers_are_not_taken_for_error_codes():
    # 4000 is Visma's Conflict code and also the wage account; only an ErrorCode field makes it a code
    assert match("AccountNotFound - Account 4000 does not exist or is not active.").id == "account-not-found"
    assert match('{"ErrorCode": 4000, "DeveloperErrorMessage": "Conflict - It already exists."}').id == (
        "duplicate-conflict"
    )


def test_truncated_json_still_gives_its_code():
    assert match('{"ErrorCode":4019,"DeveloperErrorMessage":"NoPerm').id == "read-only-user"
    assert match('... "ErrorCode":4011,"DeveloperErrorMess').id == "no-company-access"


UNRELATED = [
    "",
    "   ",
    "OK",
    "200 OK",
    "Today will be sunny with a high of 21 degrees and a light breeze from the north-west; rain tomorrow.",
    'Traceback (most recent call last):\n  File "report.py", line 12, in <module>\n    total = frame["amount"].sum()\n'
    '  File "pandas/core/frame.py", line 4102, in __getitem__\n    indexer = self.columns.get_loc(key)\nKeyError: '
    "'amount'",
    "Meeting moved to Thursday 14:00, room 2.13. Please bring the Q3 figures.",
    '{"ErrorCode":4036,"DeveloperErrorMessage":"GiftCardBalanceTooLow - The gift card has no balance left."}',
    "HTTP 403",
]


@pytest.mark.parametrize("text", UNRELATED)
def test_unrelated_text_gives_no_known_error(text):
    result = match(text)
    assert result.id is None
    assert result.entry is None and result.title is None and result.cause is None and result.solution is None
    assert result.score == 0.0


def test_result_contract_and_alternatives():
    result = match(envelope(2000, UNBALANCED))
    assert isinstance(result, MatchResult)
    data = result.to_dict()
    assert list(data) == ["id", "title", "cause", "solution", "score", "alternatives"]
    assert data["id"] == "voucher-unbalanced" and result.entry is get_entry("voucher-unbalanced")
    assert 0 <= data["score"] <= 100
    alternatives = data["alternatives"]
    assert len(alternatives) <= 3
    assert all(set(a) == {"id", "title", "score"} for a in alternatives)
    assert "voucher-unbalanced" not in [a["id"] for a in alternatives]
    scores = [a["score"] for a in alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(s <= data["score"] for s in scores)
    json.dumps(data)  # JSON-ready


def test_matching_is_deterministic():
    text = envelope(2000, "DataModelValidationError - Rows[1].DebitAmount: must have at most 2 decimals.")
    first = match(text).to_dict()
    assert all(match(text).to_dict() == first for _ in range(5))


def test_ties_are_broken_by_id():
    # a bare 403 gives the same small score to every entry that lists 403: they rank in id order
    ranked = ts._ranked("HTTP 403")
    tied = [e.id for score, e in ranked if score == ts.W_STATUS]
    assert len(tied) > 3
    assert tied == sorted(tied)


# --------------------------------------------------------------------------------------------- classify


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"http_status": 400, "error_code": 2000, "message": "Cost center is not allowed on account 1500."},
         "cost-center-not-allowed"),
        ({"http_status": 400, "error_code": 2000, "message": UNBALANCED}, "voucher-unbalanced"),
        ({"http_status": 400, "error_code": 2000, "message": "Rows[0].Text: too long"}, "validation-failed"),
        ({"http_status": 400, "error_code": 2000}, "validation-failed"),
        ({"http_status": 403, "error_code": 4002, "message": "No access to module: api_standard"},
         "api-module-inactive"),
        ({"http_status": 403, "error_code": 4002, "message": "No access to module: payroll_plus"}, "module-no-access"),
        ({"http_status": 403, "error_code": 4002}, "api-module-inactive"),
        ({"http_status": 401, "error_code": 4005}, "token-expired"),
        ({"http_status": 401}, "token-expired"),
        ({"error_code": 4005}, "token-expired"),
        ({"http_status": 400, "oauth_error": "invalid_grant"}, "reauthorize-needed"),
        ({"http_status": 400, "oauth_error": "invalid_grant", "message": "code exchange failed"},
         "authorization-code-invalid"),
        ({"http_status": 400, "oauth_error": "invalid_grant", "message": "refresh token used; code_verifier"},
         "reauthorize-needed"),
        ({"oauth_error": "access_denied"}, "consent-denied"),
        ({"oauth_error": "invalid_client", "http_status": 401}, "client-credentials-invalid"),
        ({"http_status": 429, "error_code": 4010}, "rate-limited"),
        ({"http_status": 429}, "rate-limited"),
        ({"error_code": 4010}, "rate-limited"),
        ({"http_status": 500, "error_code": 5000}, "visma-unavailable"),
        ({"http_status": 503}, "visma-unavailable"),
        ({"http_status": 502, "message": "<html>Bad Gateway</html>"}, "visma-unavailable"),
        ({"error_code": 5001}, "visma-unavailable"),
        ({}, "visma-unavailable"),
        ({"message": "httpx.ConnectTimeout: timed out"}, "visma-unavailable"),
        ({"message": "Connection reset by peer"}, "visma-unavailable"),
        ({"http_status": 400, "error_code": 3001}, "fiscal-year-missing"),
        ({"http_status": 400, "error_code": 4021}, "fiscal-year-create-invalid"),
        ({"http_status": 403, "error_code": 4011}, "no-company-access"),
        ({"http_status": 404}, "resource-not-found"),
        ({"http_status": 400, "message": json.dumps({"message": ARTICLE["ledger-empty"][0]})}, "ledger-empty"),
        ({"http_status": 418, "message": "I'm a teapot"}, None),
        ({"http_status": 403}, None),
    ],
)  # fmt: skip
def test_classify(kwargs, expected):
    assert classify(**kwargs) == expected


def test_classify_answers_only_catalogue_ids():
    ids = {e.id for e in catalogue()}
    for code in sorted({c for e in catalogue() for c in e.codes}):
        assert classify(http_status=400, error_code=code) in ids


# --------------------------------------------------------------------------------------------- search


def test_search_over_message_cause_and_solution_case_insensitive():
    assert [e.id for e in search("fiscalyearid")][:1] == ["fiscal-year-missing"]
    assert "api-module-inactive" in [e.id for e in search("EXTRA DIENSTEN")]
    assert "api-module-inactive" in [e.id for e in search("default company")]
    assert "ledger-empty" in [e.id for e in search("ledger cannot be empty")]
    assert "fiscal-year-missing" in [e.id for e in search("boekjaar")]  # Dutch
    assert [e.id for e in search("4038")] == ["year-locked"]  # codes are searchable
    assert search("no such words anywhere xyzzy") == []


def test_search_puts_title_hits_first_and_lists_all_for_an_empty_query():
    assert search("rate limit")[0].id == "rate-limited"
    assert [e.id for e in search("")] == [e.id for e in catalogue()]


def test_search_filters():
    portal = search("", fix_in="visma_portal")
    assert portal and all(e.fix_in == "visma_portal" for e in portal)
    assert all(e.severity == "warning" for e in search("", severity="warning"))
    dutch = search("", language="nl")
    assert "api-module-inactive" in [e.id for e in dutch] and all("nl" in e.language for e in dutch)
    assert {e.id for e in search("", fix_in="payroll_system")} >= {"voucher-unbalanced", "import-file-invalid"}


def test_a_whole_log_pasted_is_read_at_its_start_and_end():
    noise = "2026-03-31 10:00:00 INFO core.export.send: run 2026-03 queued for company 42\n" * 1000
    tail = '{"ErrorCode":4038,"DeveloperErrorMessage":"VoucherDateIsInLockedYearException - locked."}'
    assert match(noise + tail).id == "year-locked"
    assert match(tail + noise).id == "year-locked"
    assert match(noise).id is None


# --------------------------------------------------------------------------------------------- Visma's vocabulary

# Visma's error-code page (developer.vismaonline.com/docs/error-codes-copy-1), name and code as published: 56 rows,
# 4002 twice. Facts for checking the catalogue, not text for matching.
VISMA_ERROR_TABLE = [
    ("DataModelValidationError", 2000), ("ResourceNotFound", 3000), ("FiscalYearDoesNotExist", 3001),
    ("AccountNotFound", 3002), ("InsufficientApprovalPermission", 3003), ("Conflict", 4000),
    ("CanNotBeDeleted", 4001), ("CanNotBeCreatedOrUpdated", 4002), ("NoAccessToModule", 4002),
    ("StartupGuideNotCompleted", 4003), ("CompanyNotActive", 4004), ("NotAuthorized", 4005),
    ("NoAccessToScopes", 4006), ("PermissionDenied", 4007), ("InvalidControlDigit", 4008),
    ("NoAccessDueToProductVariant", 4009), ("TooManyRequests", 4010), ("NoAccessForAuthenticatedUser", 4011),
    ("LicenceAgreementNotAccepted", 4012), ("CannotBookkeepInvoice", 4013), ("AutoInvoiceMissingYourReference", 4014),
    ("AutoInvoiceMissingOurReference", 4015), ("SupplierInvoiceInvalidDueDate", 4016),
    ("AutoInvoiceMissingElectronicAddress", 4017), ("SupplierInvoiceValidationSkipSendToBank", 4018),
    ("NoPermissionForReadonlyUser", 4019), ("FiscalYearIsOverlappingOtherYear", 4020),
    ("FiscalYearMaximumPeriodExceeded", 4021), ("FiscalYearEndDateMustBeLastDayOfMonth", 4022),
    ("FutureDateCannotBeSet", 4023), ("SalesAccountNumberMissing", 4024), ("InvalidVatNumber", 4025),
    ("VoucherDateIsInLockedPeriod", 4026), ("ReversedVatZero", 4027), ("OrderCannotBeVoided", 4028),
    ("SsnNumberIsInvalid", 4029), ("OcrNumberIsInvalid", 4030), ("CustomerInvoiceMissingOrderArticles", 4031),
    ("SupplierInvoiceDoesntBalance", 4032), ("ForbiddenActionInApprovalFlow", 4033),
    ("NotAllowedWithSandboxClient", 4034), ("InvalidForceBookkeepVat", 4035),
    ("ReconciliationSetInLockedAccountingPeriod", 4037), ("VoucherDateIsInLockedYearException", 4038),
    ("NoDomesticAmountAllowedOnDomesticInvoices", 4039), ("ExternalServiceValidation", 4100),
    ("InternalServerError", 5000), ("CantReachSystemDependendency", 5001), ("OperationCanceled", 5002),
    ("StockToNonStockNoZeroBalance", 5003), ("StockToServiceNoZeroBalance", 5004), ("ProjectEnded", 5005),
    ("InactiveCostCenter", 5006), ("ItemToAttachNotFound", 5007), ("QueryParameterError", 6000),
    ("InvalidInput", 6001),
]  # fmt: skip
# A name whose entry answers its code through default_for rather than declaring it (4002 on a 400 is a validation
# error; the 403s of 4002 belong to the module entries).
NAME_BY_DEFAULT = {"CanNotBeCreatedOrUpdated": "code:4002@400"}
OAUTH_ERRORS = [
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
    "invalid_scope", "access_denied", "unsupported_response_type", "server_error", "temporarily_unavailable",
    "insufficient_scope", "login_required", "consent_required", "interaction_required",
]  # fmt: skip


def _owner_of_name(name: str) -> Entry:
    owners = [e for e in catalogue() if name in e.names]
    assert len(owners) == 1, (name, [e.id for e in owners])
    return owners[0]


def test_the_table_has_visma_s_56_rows():
    assert len(VISMA_ERROR_TABLE) == 56
    assert len({name for name, _ in VISMA_ERROR_TABLE}) == 56


@pytest.mark.parametrize(("name", "code"), VISMA_ERROR_TABLE, ids=[n for n, _ in VISMA_ERROR_TABLE])
def test_every_documented_visma_error_is_in_the_catalogue_with_its_name_and_code(name, code):
    entry = _owner_of_name(name)
    if name in NAME_BY_DEFAULT:
        assert NAME_BY_DEFAULT[name] in entry.default_for
    else:
        assert code in entry.codes, (name, code, entry.id)
    assert any(r.startswith("https://developer.vismaonline.com/docs/error-codes") for r in entry.references), entry.id


def test_the_catalogue_names_no_visma_error_that_visma_does_not_document():
    documented = {name for name, _ in VISMA_ERROR_TABLE}
    assert {n for e in catalogue() for n in e.names} == documented


@pytest.mark.parametrize("oauth_error", OAUTH_ERRORS)
def test_every_oauth_error_of_the_identity_server_has_an_entry(oauth_error):
    assert any(oauth_error in e.oauth_errors for e in catalogue())


@pytest.mark.parametrize("entry", [e for e in catalogue() if e.source != "dashboard"], ids=lambda e: e.id)
def test_every_text_not_written_by_this_product_says_where_it_comes_from(entry: Entry):
    assert entry.references, entry.id


@pytest.mark.parametrize(("name", "code"), VISMA_ERROR_TABLE, ids=[n for n, _ in VISMA_ERROR_TABLE])
def test_visma_s_own_name_and_code_in_its_envelope_land_on_the_entry_that_carries_the_name(name, code):
    body = json.dumps(
        {
            "ErrorCode": code,
            "DeveloperErrorMessage": f"{name} - See the error information.",
            "ErrorId": str(uuid.uuid4()),
        }
    )
    expected = _owner_of_name(name).id
    assert match(body).id == expected
    status = 400 if name in NAME_BY_DEFAULT else None
    assert classify(http_status=status, error_code=code, message=f"{name} - See the error information.") == expected


def test_new_entries_use_visma_s_three_key_envelope():
    """Visma's documented error body (rate-limit page): ErrorCode, DeveloperErrorMessage, ErrorId."""
    new = (
        "invoice-rule-refused",
        "article-rule-refused",
        "reconciliation-period-locked",
        "external-service-refused",
        "attachment-not-found",
        "record-not-deletable",
    )
    for entry_id in new:
        body = json.loads(get_entry(entry_id).example)
        assert list(body) == ["ErrorCode", "DeveloperErrorMessage", "ErrorId"]
        assert body["ErrorCode"] in get_entry(entry_id).codes
        assert _GUID.fullmatch(body["ErrorId"])
