"""`tripsage security-scan` (scripts/security/security_scan.py): real ruff, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/security/security_scan.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_passes_against_the_committed_baseline_and_every_entry_has_a_reason() -> None:
    done = _scan()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 new findings" in done.stdout
    entries = json.loads((ROOT / ".security-baseline.json").read_text())["findings"]
    assert entries
    assert all(entry["reason"] and "replace with" not in entry["reason"] for entry in entries)


def test_a_new_finding_fails_with_file_line_and_rule_until_baselined(tmp_path: Path) -> None:
    risky = tmp_path / "risky.py"
    risky.write_text("import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n")
    baseline = tmp_path / "baseline.json"
    failed = _scan("--baseline", str(baseline), str(risky))
    assert failed.returncode == 1
    assert f"{risky}:5: S602" in failed.stdout
    assert "1 new findings" in failed.stdout

    assert _scan("--baseline", str(baseline), "--update-baseline", str(risky)).returncode == 0
    accepted = _scan("--baseline", str(baseline), str(risky))
    assert accepted.returncode == 0, accepted.stdout
    assert "0 new findings, 1 accepted" in accepted.stdout

    # Moving the line does not matter; a second occurrence is new again.
    risky.write_text(
        "import subprocess\n\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
        "    subprocess.call(cmd, shell=True)\n"
    )
    again = _scan("--baseline", str(baseline), str(risky))
    assert again.returncode == 1
    assert f"{risky}:7: S602" in again.stdout
    assert f"{risky}:6:" not in again.stdout


def test_an_unreadable_baseline_is_an_error_not_a_pass(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text("[1, 2]")
    done = _scan("--baseline", str(baseline))
    assert done.returncode == 2
    assert "is not a security baseline" in done.stderr
