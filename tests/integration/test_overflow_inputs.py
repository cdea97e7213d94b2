"""Numbers no database can hold are usage errors or "no such run", never an OverflowError (bad input and bad days)."""

from __future__ import annotations

import pytest

from core import services
from core.services import ServiceError


@pytest.mark.parametrize("args", [
    ("preview", "99999999999999999999"), ("export", "99999999999999999999"), ("resend", "99999999999999999999",
                                                                               "--reason", "x"),
    ("preflight", "99999999999999999999"), ("preview", "0"), ("worker", "--interval", "inf"),
    ("worker", "--interval", "nan"),
])
def test_out_of_range_numbers_are_usage_errors(cli, args):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "OverflowError" not in result.output


def test_a_deep_link_to_an_impossible_run_says_there_is_no_such_run(rt):
    with pytest.raises(ServiceError) as missing:
        services.get_run(rt, 99999999999999999999999)
    assert "There is no run with id" in missing.value.message
