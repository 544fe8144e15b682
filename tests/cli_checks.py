"""Shared assertion for command-line tests: a failure is one line on stderr, never a traceback."""


def assert_one_line_error(capsys, rc: int, *needles: str) -> None:
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
