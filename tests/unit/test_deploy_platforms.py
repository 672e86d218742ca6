"""render.yaml, Railway, ECS and Cloud Run name only real commands, variables and ports.

Every definition parses; every container command is a process of the image (a module
with a __main__, or a `tripsage` subcommand its parser accepts); every variable is a
Settings field; ports agree with the service registry and with Kubernetes.
"""

import importlib.util
import json
import shlex
from pathlib import Path

import pytest
import yaml

from tripsage.cli import _parser
from tripsage_core.config import GATEWAY_DEFAULT_PORT, Settings
from tripsage_core.grpc_kit.targets import grpc_target
from tripsage_core.service_registry import DEFAULT_PORTS

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
PORTS = {**DEFAULT_PORTS, "gateway": GATEWAY_DEFAULT_PORT}
PROCESSES = {f"services.{name}" for name in DEFAULT_PORTS} | {"gateway"}
FIELDS = {name.upper() for name in Settings.model_fields}


def render() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


def ecs() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((DEPLOY / "ecs").glob("*.json"))}


def cloudrun() -> dict[str, dict]:
    return {
        p.stem: yaml.safe_load(p.read_text()) for p in sorted((DEPLOY / "cloudrun").glob("*.yaml"))
    }


def railway() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((DEPLOY / "railway").glob("*.json"))}


def cloudrun_container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


def check_image_args(args: list[str]) -> None:
    """Arguments of the image (ENTRYPOINT `python -m` or its dispatcher) name a process."""
    if args[0] in PROCESSES:
        assert importlib.util.find_spec(f"{args[0]}.__main__") is not None, args
    else:
        check_tripsage(args)


def check_tripsage(args: list[str]) -> None:
    try:
        _parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"not a tripsage command: {args}")


def check_shell_command(command: str) -> None:
    """`[uv run [--no-sync]] python -m X ...` with X a module with a __main__, or `tripsage ...`."""
    words = shlex.split(command)
    if words[:2] == ["uv", "run"]:
        words = words[2:]
        if words[:1] == ["--no-sync"]:
            words = words[1:]
    if words[:2] == ["python", "-m"]:
        assert words[2] in PROCESSES, command
        assert importlib.util.find_spec(f"{words[2]}.__main__") is not None, command
    elif words[:1] == ["tripsage"]:
        check_tripsage(words[1:])
    else:
        pytest.fail(f"not a TripSage process: {command!r}")


def render_services() -> dict[str, dict]:
    return {s["name"].removeprefix("tripsage-"): s for s in render()["services"]}


def test_every_definition_parses_and_covers_every_process() -> None:
    expected = set(PORTS)
    assert expected <= set(render_services())
    assert set(ecs()) == expected | {"migrate"}
    assert set(cloudrun()) == expected
    assert set(railway()) == expected


def test_render_commands_types_and_health_check() -> None:
    services = render_services()
    for name, service in services.items():
        if name not in PORTS:
            continue
        check_shell_command(service["startCommand"])
        if "preDeployCommand" in service:
            check_shell_command(service["preDeployCommand"])
        assert service["type"] == ("web" if name == "gateway" else "pserv"), name
    assert services["gateway"]["healthCheckPath"] == "/api/health"
    assert "migrate" in services["gateway"]["preDeployCommand"]
    assert {s["type"] for s in services.values()} >= {"keyvalue"}
    assert render()["databases"]


def test_railway_commands_and_health_check() -> None:
    for name, doc in railway().items():
        assert doc["build"]["builder"] == "DOCKERFILE"
        assert (ROOT / doc["build"]["dockerfilePath"]).is_file()
        check_shell_command(doc["deploy"]["startCommand"])
        for command in doc["deploy"].get("preDeployCommand", []):
            check_shell_command(command)
        assert doc["deploy"]["restartPolicyType"] in ("ON_FAILURE", "ALWAYS", "NEVER"), name
    assert railway()["gateway"]["deploy"]["healthcheckPath"] == "/api/health"


def test_ecs_containers_are_checked_logged_read_only_and_non_root() -> None:
    for name, task in ecs().items():
        assert task["requiresCompatibilities"] == ["FARGATE"]
        assert task["networkMode"] == "awsvpc"
        volumes = {v["name"] for v in task["volumes"]}
        for c in task["containerDefinitions"]:
            check_image_args(c["command"])
            assert c["readonlyRootFilesystem"] is True, name
            assert c["user"] not in ("", "0", "root"), name
            assert c["logConfiguration"]["logDriver"] == "awslogs", name
            assert {m["containerPath"]: m["sourceVolume"] for m in c["mountPoints"]}[
                "/tmp"
            ] in volumes
            for secret in c["secrets"]:
                assert secret["valueFrom"].startswith("arn:aws:secretsmanager:"), secret
            if name == "migrate":
                continue
            assert [p["containerPort"] for p in c["portMappings"]] == [PORTS[name]]
            probe = c["healthCheck"]["command"]
            assert probe[0] == "CMD", name
            if name == "gateway":
                assert probe[1:3] == ["python", "-c"]
                assert f"127.0.0.1:{PORTS[name]}/api/health" in probe[3]
            else:
                # ECS cannot speak gRPC: the image's probe does (docs/deployment.md).
                check_tripsage(probe[2:])
                assert probe[1:] == ["tripsage", "probe", f"127.0.0.1:{PORTS[name]}", name]


def test_cloud_run_grpc_services_speak_h2c_with_grpc_probes() -> None:
    for name, doc in cloudrun().items():
        assert doc["apiVersion"] == "serving.knative.dev/v1"
        assert doc["kind"] == "Service"
        c = cloudrun_container(doc)
        check_image_args(c["args"])
        [port] = c["ports"]
        assert port["containerPort"] == PORTS[name]
        for probe in ("startupProbe", "livenessProbe"):
            if name == "gateway":
                assert c[probe]["httpGet"] == {"path": "/api/health", "port": PORTS[name]}
            else:
                assert c[probe]["grpc"]["port"] == PORTS[name], (name, probe)
        assert port["name"] == ("http1" if name == "gateway" else "h2c"), name


def env_names() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, service in render_services().items():
        if name in PORTS:
            found[f"render:{name}"] = {e["key"] for e in service["envVars"]}
    for name, task in ecs().items():
        for c in task["containerDefinitions"]:
            found[f"ecs:{name}"] = {e["name"] for e in c["environment"] + c["secrets"]}
    for name, doc in cloudrun().items():
        found[f"cloudrun:{name}"] = {e["name"] for e in cloudrun_container(doc)["env"]}
    return found


def test_every_variable_is_a_settings_field() -> None:
    for where, names in env_names().items():
        assert names <= FIELDS, (where, names - FIELDS)
    assert all(env_names().values())


def test_service_addresses_are_valid_targets() -> None:
    values: list[str] = []
    for task in ecs().values():
        for c in task["containerDefinitions"]:
            values += [e["value"] for e in c["environment"] if e["name"].endswith("_SERVICE_ADDR")]
    for doc in cloudrun().values():
        env = cloudrun_container(doc)["env"]
        values += [e["value"] for e in env if e["name"].endswith("_SERVICE_ADDR")]
    assert values
    for value in values:
        grpc_target(value)  # raises ValueError naming what is wrong


def test_ports_agree_across_targets() -> None:
    for name, service in render_services().items():
        if name in PORTS:
            env = {e["key"]: e.get("value") for e in service["envVars"]}
            assert env["PORT"] == str(PORTS[name]), name
    for name, doc in cloudrun().items():
        assert cloudrun_container(doc)["ports"][0]["containerPort"] == PORTS[name]
    for name in PORTS:
        task = ecs()[name]
        assert task["containerDefinitions"][0]["portMappings"][0]["containerPort"] == PORTS[name]
        docs = yaml.safe_load_all((DEPLOY / "kubernetes" / "base" / f"{name}.yaml").read_text())
        [deployment] = [d for d in docs if d and d["kind"] == "Deployment"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        # The serving port first; services also name a metrics port (test_deploy_kubernetes).
        assert container["ports"][0]["containerPort"] == PORTS[name], name
    for name in DEFAULT_PORTS:
        for task in ecs().values():
            env = {e["name"]: e["value"] for e in task["containerDefinitions"][0]["environment"]}
            assert env[f"{name.upper()}_SERVICE_ADDR"].endswith(f":{PORTS[name]}")
