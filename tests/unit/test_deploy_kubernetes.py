"""The kustomize overlays build and every Deployment is probed, bounded and non-root."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

OVERLAYS = Path(__file__).parents[2] / "deploy" / "kubernetes" / "overlays"

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


def build(overlay: str) -> list[dict]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAYS / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.mark.parametrize("overlay", ["development", "production"])
def test_deployments_are_probed_bounded_and_non_root(overlay: str) -> None:
    deployments = [d for d in build(overlay) if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {
        "auth",
        "trips",
        "travel",
        "assistant",
        "gateway",
    }
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            ports = {p["containerPort"] for p in c["ports"]}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                action = c[probe].get("grpc") or c[probe]["httpGet"]
                assert action["port"] in ports, (d["metadata"]["name"], probe)
            assert c["resources"]["limits"]["memory"]
            assert c["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("overlay", ["development", "production"])
def test_every_variable_is_a_settings_field(overlay: str) -> None:
    from tripsage_core.config import Settings

    fields = {name.upper() for name in Settings.model_fields}
    names: set[str] = set()
    for doc in build(overlay):
        if doc["kind"] in ("ConfigMap", "Secret"):
            names |= set(doc.get("data", {}))
        if doc["kind"] == "CronJob":
            for c in doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
                names |= {e["name"] for e in c.get("env", [])}
    assert names
    assert names <= fields, names - fields
