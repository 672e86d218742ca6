"""The Dockerfile passes hadolint; docker-compose.yml validates against the compose
specification's JSON schema (the copy check-jsonschema vendors) and wires the stack as
the image expects: each service probed on its own port, the gateway started last."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tripsage_core.service_registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is a dev dependency (uv sync)"
    return found


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(ROOT / "docker-compose.yml")
    return loaded


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = subprocess.run(
        [_tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    command = [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(command, capture_output=True, text=True)


def test_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    result = _schema_check(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The same check refuses a file the specification does not allow.
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  gateway:\n    image: x\n    restart_policy: always\n")
    assert _schema_check(broken).returncode != 0


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_each_service_runs_its_module_and_is_probed_on_its_port(service: Any) -> None:
    defined = _compose()["services"][service.name]
    assert defined["command"] == [service.module]
    assert defined["environment"]["PORT"] == str(service.default_port)
    probe = defined["healthcheck"]["test"]
    assert probe[-3:] == ["probe", f"127.0.0.1:{service.default_port}", service.name]
    assert defined["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert defined["read_only"] is True


def test_the_gateway_waits_for_healthy_services_and_the_migration() -> None:
    services = _compose()["services"]
    waits = services["gateway"]["depends_on"]
    assert waits.pop("migrate") == {"condition": "service_completed_successfully"}
    assert waits == {service.name: {"condition": "service_healthy"} for service in SERVICES}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["gateway"]["ports"] == ["${GATEWAY_PORT:-8000}:8000"]
