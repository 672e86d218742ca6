"""`tripsage check-vulnerabilities` (scripts/security/check_vulnerabilities.py).

Real pip-audit over the real uv.lock. The advisory database is either
unreachable (a proxy on a closed port) or a small OSV-API stand-in on
localhost that knows one advisory, so every outcome is deterministic.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADVISORY = "GHSA-test-0000-0000"


def _check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/security/check_vulnerabilities.py", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _osv(vulnerable: str | None) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = query["package"]["name"]
            vulns = []
            if name == vulnerable:
                vulns = [
                    {
                        "id": ADVISORY,
                        "summary": "test advisory",
                        "affected": [
                            {
                                "package": {"name": name, "ecosystem": "PyPI"},
                                "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "999.0"}]}],
                            }
                        ],
                    }
                ]
            body = json.dumps({"vulns": vulns} if vulns else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def osv_clean() -> Iterator[str]:
    yield from _osv(None)


@pytest.fixture
def osv_vulnerable() -> Iterator[str]:
    yield from _osv("httpx")


@pytest.mark.parametrize("service", ["pypi", "osv"])
def test_an_unreachable_advisory_service_is_not_a_clean_bill(service: str) -> None:
    proxy = f"http://127.0.0.1:{_closed_port()}"
    done = _check(
        "--service",
        service,
        "--timeout",
        "3",
        env={"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": ""},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no known vulnerabilities" not in (done.stdout + done.stderr).lower()
    assert "not checked" in done.stderr or "could not be checked" in done.stderr


def test_a_known_vulnerability_fails_naming_package_advisory_and_fix(
    osv_vulnerable: str,
) -> None:
    done = _check("--service", "osv", "--osv-url", osv_vulnerable)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f": {ADVISORY} (fixed in 999.0)" in done.stdout
    assert "httpx " in done.stdout
    assert "1 known vulnerabilities in" in done.stdout


def test_every_package_answered_clean_is_the_only_pass(osv_clean: str) -> None:
    done = _check("--service", "osv", "--osv-url", osv_clean)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no known vulnerabilities in" in done.stdout
    locked = (ROOT / "uv.lock").read_text().count("[[package]]")
    checked = int(done.stdout.split("no known vulnerabilities in ")[1].split()[0])
    assert 0 < checked < locked  # every locked package but the project itself


@pytest.mark.parametrize("seconds", ["0", "-5", "601", "1.5", "soon"])
def test_a_timeout_that_is_not_a_sane_number_of_seconds_is_refused(
    seconds: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tripsage.cli import _parser

    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(["check-vulnerabilities", "--timeout", seconds])
    assert stopped.value.code == 2
    assert seconds in capsys.readouterr().err
