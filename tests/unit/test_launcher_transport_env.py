"""`tripsage up` hands its transport settings to the processes it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripsage.launcher import Suite
from tripsage_core.config import load_settings


def test_children_get_the_bind_address_and_absolute_tls_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("cert.pem", "key.pem", "ca.pem"):
        (tmp_path / name).write_text("-")
    settings = load_settings(
        _env_file=None,
        tripsage_data_dir=tmp_path / "data",
        grpc_tls_cert_file=Path("cert.pem"),
        grpc_tls_key_file=Path("key.pem"),
        grpc_tls_ca_file=Path("ca.pem"),
        grpc_tls_client_auth=True,
    )
    env = Suite(settings).child_env("postgresql://db", "redis://cache")
    assert env["GRPC_BIND_HOST"] == "127.0.0.1"
    assert env["GRPC_TLS_CERT_FILE"] == str(tmp_path / "cert.pem")
    assert env["GRPC_TLS_KEY_FILE"] == str(tmp_path / "key.pem")
    assert env["GRPC_TLS_CA_FILE"] == str(tmp_path / "ca.pem")
    assert env["GRPC_TLS_CLIENT_AUTH"] == "true"
