"""Rotating JSON log files per process, and `tripsage view-logs`, `search-logs`,
`export-logs` (scripts/logging/*.py) reading them."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.support.auth_suite import ROOT, run_cli

# A process that logs as a service does (tripsage_core.logging), with tiny files.
_WRITER = """
import logging, sys
from pathlib import Path
from tripsage_core.logging import LogFiles, configure_logging
from tripsage_core.request_context import request_id_var

name = sys.argv[1]
configure_logging(name, "INFO", "text", LogFiles(Path(sys.argv[2]), 2000, 3))
log = logging.getLogger(f"tripsage.{name}")
request_id_var.set("req-0123456789")
for n in range(40):
    log.info("served call %d", n, extra={"rpc": "GetTrip"})
try:
    raise ValueError("the database said no")
except ValueError:
    log.exception("call failed")
"""


def _write_logs(directory: Path, *processes: str) -> None:
    for process in processes:
        subprocess.run(
            [sys.executable, "-c", _WRITER, process, str(directory)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )


def test_files_rotate_and_hold_json_with_request_ids_and_stack_traces(tmp_path: Path) -> None:
    _write_logs(tmp_path, "trips")
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["trips.log", "trips.log.1", "trips.log.2", "trips.log.3"]  # 3 kept
    assert all(path.stat().st_size <= 2000 for path in tmp_path.iterdir())
    last = [json.loads(line) for line in (tmp_path / "trips.log").read_text().splitlines()]
    failure = last[-1]
    assert failure["level"] == "ERROR"
    assert failure["request_id"] == "req-0123456789"
    assert failure["service"] == "trips"
    assert "Traceback" in failure["exception"]
    assert "ValueError: the database said no" in failure["exception"]


def test_the_log_commands_view_search_and_export(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    _write_logs(logs, "auth", "trips")
    env = {"ENVIRONMENT": "testing", "TRIPSAGE_DATA_DIR": str(tmp_path), "LOG_DIR": str(logs)}

    viewed = run_cli(env, "view-logs", "--lines", "3")
    assert viewed.returncode == 0, viewed.stderr
    assert (
        len([line for line in viewed.stdout.splitlines() if " INFO " in line or " ERROR " in line])
        == 3
    )
    only = run_cli(env, "view-logs", "--service", "auth", "--lines", "5")
    assert " trips " not in only.stdout
    assert " auth tripsage.auth: call failed" in only.stdout

    found = run_cli(env, "search-logs", "--query", "ERROR")
    assert found.returncode == 0, found.stderr
    assert "2 matching lines" in found.stdout  # one failure per process
    assert "ValueError: the database said no" in found.stdout
    errors = run_cli(
        env, "search-logs", "--query", "call", "--level", "ERROR", "--service", "trips"
    )
    assert "1 matching lines" in errors.stdout
    none = run_cli(env, "search-logs", "--query", "no such text anywhere")
    assert none.returncode == 0
    assert "0 matching lines" in none.stdout

    out = tmp_path / "export.jsonl.gz"
    exported = run_cli(env, "export-logs", "--days", "7", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    with gzip.open(out, "rt") as lines:
        rows = [json.loads(line) for line in lines]
    assert f"exported {len(rows)} log lines" in exported.stdout
    assert {row["process"] for row in rows} == {"auth", "trips"}
    times = [row["time"] for row in rows]
    assert times == sorted(times)

    missing = run_cli({**env, "LOG_DIR": str(tmp_path / "nowhere")}, "view-logs")
    assert missing.returncode == 1
    assert "no log files" in missing.stderr


def test_a_process_logs_to_stdout_and_leaves_stderr_for_crashes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WRITER, "trips", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "served call 39" in done.stdout
    assert "ValueError: the database said no" in done.stdout
    assert "served call" not in done.stderr
