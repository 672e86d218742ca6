"""`tripsage check-vulnerabilities`: pip-audit over the locked requirements (uv.lock).

pip-audit says "No known vulnerabilities found" even when it skipped every
package because the advisory service did not answer for it, and exits 1 both
for a vulnerability and for a crash. So its JSON report is read here instead:
a vulnerability is a failure (1); a package that could not be checked, or an
advisory service that cannot be reached, is "not checked" (2), never a pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("pypi", "osv")


class AuditUnavailable(Exception):
    """The audit could not check the dependencies; the message says why."""


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    id: str
    fixed_in: tuple[str, ...]

    def text(self) -> str:
        fix = f" (fixed in {', '.join(self.fixed_in)})" if self.fixed_in else " (no fix yet)"
        return f"{self.package} {self.version}: {self.id}{fix}"


@dataclass
class AuditReport:
    checked: int = 0
    vulnerabilities: list[Vulnerability] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # package: why


def locked_requirements() -> str:
    done = subprocess.run(
        ["uv", "export", "--frozen", "--no-hashes", "--no-emit-project"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AuditUnavailable(f"`uv export` failed: {done.stderr.strip()}")
    return done.stdout


def parse(report: dict[str, object]) -> AuditReport:
    result = AuditReport()
    dependencies = report.get("dependencies")
    if not isinstance(dependencies, list):
        raise AuditUnavailable("pip-audit's report has no dependency list")
    for dep in dependencies:
        if "skip_reason" in dep:
            result.skipped[str(dep["name"])] = str(dep["skip_reason"])
            continue
        result.checked += 1
        for vuln in dep.get("vulns", []):
            result.vulnerabilities.append(
                Vulnerability(
                    str(dep["name"]),
                    str(dep.get("version", "")),
                    str(vuln["id"]),
                    tuple(vuln.get("fix_versions", [])),
                )
            )
    return result


def audit(
    requirements: str, service: str = "pypi", timeout: int = 15, osv_url: str | None = None
) -> AuditReport:
    """Run pip-audit on pinned `requirements`; AuditUnavailable when it could not check."""
    with tempfile.TemporaryDirectory(prefix="tripsage-audit-") as scratch:
        source, output = Path(scratch) / "requirements.txt", Path(scratch) / "report.json"
        source.write_text(requirements, encoding="utf-8")
        command = [
            sys.executable, "-m", "pip_audit", "--requirement", str(source), "--no-deps",
            "--disable-pip", "--vulnerability-service", service, "--timeout", str(timeout),
            "--format", "json", "--output", str(output), "--progress-spinner", "off",
            "--cache-dir", str(Path(scratch) / "cache"),  # every run asks afresh
        ]  # fmt: skip
        if osv_url is not None:
            command += ["--osv-url", osv_url]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        text = output.read_text(encoding="utf-8") if output.is_file() else ""
        if not text.strip():
            if "No module named pip_audit" in done.stderr:
                raise AuditUnavailable("pip-audit is not installed: run `uv sync`")
            last = done.stderr.strip().splitlines()[-1:] or ["no output"]
            raise AuditUnavailable(
                f"the {service} advisory service could not be reached: {last[0]}"
            )
        try:
            return parse(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditUnavailable(f"pip-audit's report could not be read: {exc}") from exc
