"""Domain modules import no transport, not even transitively: importing every module of
every service except its gRPC edge (servicer, composition root, entry point, access
table) in a fresh interpreter leaves `grpc` unloaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# clients: adapters that call other services (the assistant's tools), edge like app.py.
EDGE = {"servicer", "app", "clients", "__main__", "__init__", "rpc_policy"}


def domain_modules() -> list[str]:
    found = []
    for path in sorted((REPO / "services").rglob("*.py")):
        if path.stem in EDGE:
            continue
        found.append(".".join(path.relative_to(REPO).with_suffix("").parts))
    return found


def test_no_domain_module_loads_grpc() -> None:
    modules = domain_modules()
    assert len(modules) > 30  # the walk really found the services' modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'grpc' in sys.modules:\n"
        "        print(name); break\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{result.stdout.strip()} loads grpc"
