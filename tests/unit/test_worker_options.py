"""``simdock worker`` refuses options it cannot use, naming the option given."""

from __future__ import annotations

import pytest

from simdock_adapters.cli import main


@pytest.mark.parametrize(("argv", "message"), [
    (["worker", "--poll", "0"], "--poll must be a number of seconds above 0"),
    (["worker", "--poll", "-1"], "--poll must be a number of seconds above 0"),
    (["worker", "--concurrency", "0"], "--concurrency must be at least 1"),
])
def test_a_worker_option_out_of_range_is_refused_by_its_name(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) != 0
    assert message in capsys.readouterr().err
