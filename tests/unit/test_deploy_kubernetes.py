"""The kustomize overlays build and every Deployment is probed, bounded and non-root."""

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
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


# The oldest release still commonly run (native gRPC probes are GA since 1.27) and the
# newest the installed kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


@pytest.mark.parametrize("overlay", ["development", "production"])
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_validates_against_the_kubernetes_schemas(
    overlay: str, version: str
) -> None:
    """Offline, strict (unknown fields are errors), with kubernetes-validate's schemas."""
    documents = build(overlay)
    assert len(documents) > 20
    problems = []
    for doc in documents:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert problems == []


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


# Who may call whom (the matrix): gateway -> every service, assistant -> trips and
# travel, every service -> auth.
GRPC_PORTS = {"auth": 50051, "trips": 50052, "travel": 50053, "assistant": 50054}
ALLOWED_CALLS = {
    *{("gateway", s) for s in GRPC_PORTS},
    ("assistant", "trips"),
    ("assistant", "travel"),
    *{(s, "auth") for s in GRPC_PORTS if s != "auth"},
}


def _policies(overlay: str, kind: str) -> dict[str, dict]:
    return {
        d["spec"]["podSelector"]["matchLabels"]["app"]: d["spec"]
        for d in build(overlay)
        if d["kind"] == "NetworkPolicy" and d["spec"]["policyTypes"] == [kind]
    }


def _labels(overlay: str) -> dict[str, dict[str, str]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in build(overlay)
        if d["kind"] == "Deployment"
    }


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def _admits(rule: dict, labels: dict[str, str]) -> bool:
    return any(_selects(f["podSelector"], labels) for f in rule["from"])


def _port_in(rule: dict, port: int) -> bool:
    return any(p["port"] <= port <= p.get("endPort", p["port"]) for p in rule.get("ports", []))


@pytest.mark.parametrize("overlay", ["development", "production"])
def test_ingress_and_egress_allow_exactly_the_calls_of_the_matrix(overlay: str) -> None:
    labels = _labels(overlay)
    ingress, egress = _policies(overlay, "Ingress"), _policies(overlay, "Egress")
    assert set(ingress) == set(GRPC_PORTS)  # the gateway's ingress is the public one
    assert set(egress) == set(labels)
    for caller, caller_labels in labels.items():
        for callee, port in GRPC_PORTS.items():
            let_in = any(
                _port_in(rule, port) and any(_selects(f["podSelector"], caller_labels)
                                             for f in rule["from"])
                for rule in ingress[callee]["ingress"]
            )  # fmt: skip
            # A call leaves only by a rule naming the callee's pods: the rule for the
            # outside (by IP address) leaves TripSage's gRPC ports out.
            let_out = any(
                _port_in(rule, port)
                and all("podSelector" in t for t in rule.get("to", [{}]))
                and any(_selects(t["podSelector"], labels[callee]) for t in rule.get("to", []))
                for rule in egress[caller]["egress"]
            )
            allowed = (caller, callee) in ALLOWED_CALLS
            assert let_in is allowed, (caller, callee, "ingress")
            assert let_out is allowed, (caller, callee, "egress")
            outside = [r for r in egress[caller]["egress"] if "ipBlock" in str(r.get("to"))]
            assert not any(_port_in(r, port) for r in outside), (caller, port)


@pytest.mark.parametrize("overlay", ["development", "production"])
def test_egress_keeps_dns_and_the_outside_but_not_the_metadata_address(overlay: str) -> None:
    for app, spec in _policies(overlay, "Egress").items():
        rules = spec["egress"]
        dns = [r for r in rules if "to" not in r]
        assert {(p["port"], p["protocol"]) for r in dns for p in r["ports"]} == {
            (53, "UDP"),
            (53, "TCP"),
        }, app
        outside = [r for r in rules if any("ipBlock" in t for t in r.get("to", []))]
        assert len(outside) == 1, app
        blocks = {t["ipBlock"]["cidr"]: t["ipBlock"]["except"] for t in outside[0]["to"]}
        assert blocks == {"0.0.0.0/0": ["169.254.169.254/32"], "::/0": ["fd00:ec2::254/128"]}
        # PostgreSQL (5432, Supabase's pooler 6543), Redis (6379), HTTPS (Upstash, the
        # providers, OpenAI), SMTP (587, 465) and OTLP (4317, 4318) on any address.
        for port in (5432, 6543, 6379, 443, 587, 465, 4317, 4318, 8000):
            assert _port_in(outside[0], port), (app, port)


@pytest.mark.parametrize("overlay", ["development", "production"])
def test_each_service_exposes_its_metrics_port_to_prometheus_only(overlay: str) -> None:
    docs = build(overlay)
    [config] = [d for d in docs if d["kind"] == "ConfigMap"]
    ingress = _policies(overlay, "Ingress")
    prometheus = {"app.kubernetes.io/name": "prometheus"}
    for d in docs:
        if d["kind"] != "Deployment" or d["metadata"]["name"] not in GRPC_PORTS:
            continue
        name = d["metadata"]["name"]
        port = int(config["data"][f"{name.upper()}_METRICS_PORT"])
        template = d["spec"]["template"]
        container = template["spec"]["containers"][0]
        assert {"name": "metrics", "containerPort": port} in container["ports"], name
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(port), name
        rules = ingress[name]["ingress"]
        scrape = [r for r in rules if _admits(r, prometheus)]
        assert scrape, name
        assert all(_port_in(r, port) for r in scrape), name
        assert not any(_port_in(r, GRPC_PORTS[name]) for r in scrape), name
        assert not any(_port_in(r, port) for r in rules if r not in scrape), name
