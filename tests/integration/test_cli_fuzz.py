"""Fuzzing the CLI's arguments (bad input and bad days): whatever is typed after a command, the answer is exit code
0, 1 (a business failure, explained) or 2 (bad usage) — never a traceback or an unexpected error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

COMMANDS = [["runs", "list"], ["companies", "list"], ["accounts", "list"], ["errors", "match"], ["errors", "list"],
            ["preview"], ["export"], ["resend"], ["preflight"], ["map"], ["accounts", "refresh"], ["demo", "state"]]
TOKENS = st.one_of(
    st.sampled_from(["--json", "--company", "--status", "--reason", "--pending", "--retry-failed", "--concurrency",
                     "0", "-1", "1", "99999999999999999999", "inf", "nan", "1e308", "", " ", "BAKKERIJ-DGK",
                     "not_sent", "sending", "%s", "{}", "'; DROP TABLE payroll_run; --", "=1+1", "\x00"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.sampled_from(COMMANDS), st.lists(TOKENS, max_size=4))
def test_any_arguments_end_in_an_explained_exit(cli, command, extra):
    result = cli(*command, *extra)
    assert result.exit_code in (0, 1, 2), (command, extra, result.output)
    assert "Traceback" not in result.output
    assert "stopped the command" not in result.output, (command, extra, result.output)  # the CLI's last resort


def test_a_sandbox_company_id_that_is_no_url_part_is_explained(cli):
    """Found by the fuzzer above: a NUL in the company id made the admin URL invalid, an unexpected error."""
    result = cli("demo", "state", "\x00", "ok")
    assert result.exit_code == 1, result.output
    assert "No company with id" in result.output
