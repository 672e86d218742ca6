"""Which OTLP endpoint tracing uses, its headers, and refusing protocols it cannot speak."""

from __future__ import annotations

from pathlib import Path

from tripsage_core.config import load_settings
from tripsage_core.telemetry import _headers, configure_telemetry, traces_endpoint


def test_the_traces_endpoint_follows_the_otel_variables(tmp_path: Path) -> None:
    base = {"_env_file": None, "tripsage_data_dir": tmp_path}
    assert traces_endpoint(load_settings(**base)) is None
    settings = load_settings(**base, otel_exporter_otlp_endpoint="http://collector:4318/")
    assert traces_endpoint(settings) == "http://collector:4318/v1/traces"
    settings = load_settings(
        **base,
        otel_exporter_otlp_endpoint="http://collector:4318",
        otel_exporter_otlp_traces_endpoint="http://traces:9999/custom",
    )
    assert traces_endpoint(settings) == "http://traces:9999/custom"


def test_headers_are_parsed_and_url_decoded() -> None:
    assert _headers("api-key=abc%3D%3D, x-team = travel,broken") == {
        "api-key": "abc==",
        "x-team": "travel",
    }


def test_grpc_protocol_leaves_tracing_off(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        tripsage_data_dir=tmp_path,
        otel_exporter_otlp_endpoint="http://collector:4317",
        otel_exporter_otlp_protocol="grpc",
    )
    assert configure_telemetry("trips", settings) is False


def test_traces_exporter_none_turns_tracing_off_with_an_endpoint_set(tmp_path: Path) -> None:
    base = {
        "_env_file": None,
        "tripsage_data_dir": tmp_path,
        "otel_exporter_otlp_endpoint": "http://collector:4318",
    }
    assert traces_endpoint(load_settings(**base, otel_traces_exporter="otlp")) is not None
    off = load_settings(**base, otel_traces_exporter="none")
    assert traces_endpoint(off) is None
    assert configure_telemetry("trips", off) is False
