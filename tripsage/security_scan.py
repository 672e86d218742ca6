"""`tripsage security-scan`: ruff's security rules (flake8-bandit, S) against a baseline.

The scan runs ruff in isolation (no pyproject ignores, no `# noqa`), so every
finding is either new, and fails the scan, or listed in the committed baseline
(.security-baseline.json) with the reason it was accepted. A finding is known
by its file, rule and the stripped text of its line, not its line number, so
edits elsewhere in a file do not turn accepted findings into new ones.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATHS = ("services", "gateway", "tripsage", "tripsage_core")
DEFAULT_BASELINE = ROOT / ".security-baseline.json"
GENERATED = "tripsage/*/v1/*_pb2*"
NEW_REASON = "accepted by --update-baseline: replace with why this is safe"


class ScanError(Exception):
    """The scan could not run; the message says why."""


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str
    code: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.file, self.rule, self.code)

    def text(self) -> str:
        return f"{self.file}:{self.line}: {self.rule} {self.message}"


@dataclass(frozen=True)
class ScanResult:
    findings: list[Finding]
    new: list[Finding]
    stale: int  # baseline entries that no longer match anything


def _ruff() -> str:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ScanError("ruff is not installed: run `uv sync` (it is a dev dependency)") from exc
    return str(find_ruff_bin())


def _relative(path: str) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def findings(paths: list[str]) -> list[Finding]:
    command = [
        _ruff(), "check", "--isolated", "--select", "S", "--ignore-noqa", "--no-cache",
        "--target-version", "py313", "--exclude", GENERATED, "--output-format", "json",
        "--exit-zero", *paths,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ScanError(f"ruff failed: {done.stderr.strip()}")
    found: list[Finding] = []
    lines: dict[str, list[str]] = {}
    for item in json.loads(done.stdout or "[]"):
        filename, row = item["filename"], item["location"]["row"]
        source = lines.setdefault(filename, Path(filename).read_text(encoding="utf-8").splitlines())
        code = source[row - 1].strip() if 0 < row <= len(source) else ""
        found.append(Finding(_relative(filename), row, item["code"], item["message"], code))
    return sorted(found, key=lambda f: (f.file, f.line, f.rule))


def read_baseline(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["findings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ScanError(f"{path} is not a security baseline: {exc}") from exc
    return list(entries)


def compare(found: list[Finding], baseline: list[dict[str, str]]) -> ScanResult:
    accepted = Counter((e["file"], e["rule"], e["code"]) for e in baseline)
    new: list[Finding] = []
    for finding in found:
        if accepted[finding.key] > 0:
            accepted[finding.key] -= 1
        else:
            new.append(finding)
    return ScanResult(found, new, sum(accepted.values()))


def write_baseline(path: Path, found: list[Finding], baseline: list[dict[str, str]]) -> None:
    """The current findings, each keeping the reason it had (new ones get a placeholder)."""
    reasons: dict[tuple[str, str, str], list[str]] = {}
    for entry in baseline:
        key = (entry["file"], entry["rule"], entry["code"])
        reasons.setdefault(key, []).append(entry.get("reason", NEW_REASON))
    entries = []
    for finding in found:
        kept = reasons.get(finding.key) or [NEW_REASON]
        reason = kept.pop(0) if len(kept) > 1 else kept[0]
        entries.append(
            {"file": finding.file, "rule": finding.rule, "code": finding.code, "reason": reason}
        )
    text = json.dumps({"findings": entries}, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
