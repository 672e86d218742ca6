"""The container image's entry point.

`services.<name>` and `gateway` run that process as `python -m` would; `python ...`
runs the interpreter (so `python -m services.trips` keeps working as a command);
`healthcheck` is the image's HEALTHCHECK: it probes whichever process PID 1 runs;
anything else is a `tripsage` command: `migrate`, `backup`, `probe ADDRESS [SERVICE]`, ...
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from tripsage_core.service_registry import SERVICES

PROCESS_MODULES: tuple[str, ...] = (*(service.module for service in SERVICES), "gateway")


def _running_process() -> str | None:
    """The process module PID 1 runs (the container's command), if it is one."""
    try:
        words = Path("/proc/1/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return None
    return next((word for word in words if word in PROCESS_MODULES), None)


def healthcheck() -> int:
    """gRPC health of a service (`tripsage probe`), /api/health of the gateway; a
    one-shot job (migrate, backup) has nothing to probe."""
    process = _running_process()
    if process is None:
        return 0
    from tripsage.cli import main as cli_main
    from tripsage_core.config import get_settings_or_exit

    name = process.removeprefix("services.")
    port = get_settings_or_exit().listen_port(name)
    if process != "gateway":
        return cli_main(["probe", f"127.0.0.1:{port}", name])
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as reply:
            return 0 if reply.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"gateway at 127.0.0.1:{port}: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in PROCESS_MODULES:
        sys.argv = list(args)
        runpy.run_module(args[0], run_name="__main__", alter_sys=True)
        return 0
    if args == ["healthcheck"]:
        return healthcheck()
    if args and args[0] in ("python", "python3"):
        os.execv(sys.executable, [sys.executable, *args[1:]])  # noqa: S606
    from tripsage.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
