"""The demo's command line refuses a bad thread count before it touches torch or the workdir."""

import sys

import pytest

from pear_verl.demo.pipeline import main


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_below_one_are_refused_before_any_work(monkeypatch, tmp_path, capsys, threads):
    monkeypatch.setattr(sys, "argv", ["python -m pear_verl.demo", "--workdir", str(tmp_path / "w"), "--threads", threads])
    with pytest.raises(SystemExit):
        main()
    assert "--threads must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
