"""Issue 21 item 6: CLI details, one test each."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conventions.cli import main
from conventions.cli._app import emit
from conventions.output_files import std_logs

URL = "https://acct.blob.core.windows.net/job-abc?sv=2025-01-05&sp=cw&sig=SECRET"


def test_one_file_is_one_file_not_one_files(tmp_path: Path) -> None:
    (tmp_path / "wd").mkdir()
    (tmp_path / "stdout.txt").write_text("out")
    spec = tmp_path / "files.json"
    spec.write_text(json.dumps([f.to_dict() for f in std_logs(URL, "t1")]))
    result = CliRunner().invoke(
        main,
        ["plan", str(spec), "--working-dir", str(tmp_path / "wd"), "--exit-code", "0"],
        terminal_width=100,
    )
    assert result.exit_code == 0, result.output
    assert "1 file would be uploaded" in result.stdout
    assert "1 files" not in result.stdout


def test_a_total_of_one_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"path": "a.txt", "size": 3}]
    emit(False, rows, columns=["path", "size"], sizes=["size"], total_of="outputs")
    out = capsys.readouterr().out
    assert re.search(r"total: 1 output(?!s)", out), out
