"""The ``errors`` sub-commands: ``match TEXT [--json]`` (also from stdin with ``-``) and ``list [--json]``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from core.cli.errors import errors_app
from core.troubleshooting.catalogue import catalogue

runner = CliRunner()

API_MODULE_BODY = (
    '{"ErrorCode":4002,"DeveloperErrorMessage":"ForbiddenRequestException - No access to module: api_standard",'
    '"ErrorId":"9d3c6a1e-7b2f-4e0a-8c41-2a6f0b9e3d55","Errors":[]}'
)


def test_match_json_prints_the_contract():
    result = runner.invoke(errors_app, ["match", API_MODULE_BODY, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["id", "title", "cause", "solution", "score", "alternatives", "confidence", "runner_up"]
    assert data["id"] == "api-module-inactive"
    assert data["cause"] == (
        "A possible cause is the selection of a default company in eAccounting. This setting is not allowed within "
        "the integration."
    )
    assert data["solution"] == "Deselect the setting 'default company'."
    assert 40 <= data["score"] <= 100
    assert all(set(a) == {"id", "title", "score"} for a in data["alternatives"])
    assert data["confidence"] in {"high", "medium", "low"}
    assert data["runner_up"] is None or set(data["runner_up"]) == {"id", "title", "score"}


CODE_SAYS_PERIOD_WORDS_SAY_YEAR = (
    '{"ErrorCode":4026,"DeveloperErrorMessage":"VoucherDateIsInLockedYearException - The voucher date 2026-12-31 is '
    'in a fiscal year that is locked for accounting.","ErrorId":"0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9","Errors":[]}'
)


def test_match_json_says_how_sure_and_names_the_runner_up_when_code_and_words_disagree():
    result = runner.invoke(errors_app, ["match", CODE_SAYS_PERIOD_WORDS_SAY_YEAR, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["confidence"] == "low"
    assert {data["id"], data["runner_up"]["id"]} == {"year-locked", "period-locked"}
    assert data["runner_up"]["title"] and 0 <= data["runner_up"]["score"] <= 100


def test_match_human_output_shows_confidence_and_runner_up():
    out = runner.invoke(errors_app, ["match", CODE_SAYS_PERIOD_WORDS_SAY_YEAR]).output
    assert "confidence low" in out
    assert "Not sure:" in out and "4026" in out
    assert "Runner-up:" in out
    sure = runner.invoke(errors_app, ["match", API_MODULE_BODY]).output
    assert "confidence high" in sure and "Not sure:" not in sure


def test_match_human_output_for_a_near_miss_names_the_closest_entry():
    out = runner.invoke(errors_app, ["match", "The company has no access to the API module"]).output
    assert "No known error matches this text." in out
    assert "Closest entry, not close enough to name:" in out and "[api-module-inactive]" in out


def test_match_without_a_known_error_exits_zero_with_null_id():
    result = runner.invoke(errors_app, ["match", "The weather is lovely today.", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["id"] is None and data["title"] is None and data["score"] == 0.0
    assert data["confidence"] == "none" and data["runner_up"] is None


def test_match_reads_stdin_for_dash():
    text = "Visma Integration Error Message: One or more errors occurred. Resource not found: fiscalYearId\n"
    result = runner.invoke(errors_app, ["match", "-", "--json"], input=text)
    assert result.exit_code == 0
    assert json.loads(result.output)["id"] == "fiscal-year-missing"


def test_match_human_output_shows_title_cause_solution_and_alternatives():
    result = runner.invoke(errors_app, ["match", API_MODULE_BODY])
    assert result.exit_code == 0
    out = result.output
    assert "[api-module-inactive]" in out
    assert "Cause:" in out and "default company" in out
    assert "Solution:" in out and "Deselect the setting 'default company'." in out
    assert "Other possibilities:" in out and "[module-no-access]" in out
    assert "Traceback" not in out


def test_match_human_output_for_no_known_error():
    result = runner.invoke(errors_app, ["match", "OK"])
    assert result.exit_code == 0
    assert "No known error" in result.output


def test_list_json_prints_the_whole_catalogue():
    result = runner.invoke(errors_app, ["list", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [d["id"] for d in data] == [e.id for e in catalogue()]
    first = data[0]
    required = {"id", "title", "patterns", "codes", "oauth_errors", "http_statuses", "cause", "solution", "fix_in"}
    assert required | {"severity", "example"} <= set(first)


def test_list_human_output_is_a_table():
    result = runner.invoke(errors_app, ["list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["ID", "FIX", "IN"]
    assert any(line.startswith("ledger-empty ") for line in lines)
    assert f"{len(catalogue())} entries" in result.output


def test_no_command_shows_help():
    result = runner.invoke(errors_app, [])
    assert "match" in result.output and "list" in result.output
