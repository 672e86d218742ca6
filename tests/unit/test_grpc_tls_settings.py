"""gRPC TLS settings that cannot work stop start-up with a message naming them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tripsage_core.config import ConfigurationError, load_settings


def _load(tmp_path: Path, **values: Any) -> None:
    load_settings(_env_file=None, tripsage_data_dir=tmp_path, **values)


def test_a_certificate_needs_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    with pytest.raises(ConfigurationError, match="GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE"):
        _load(tmp_path, grpc_tls_cert_file=cert)


def test_client_auth_needs_a_ca_and_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GRPC_TLS_CLIENT_AUTH needs"):
        _load(tmp_path, grpc_tls_client_auth=True)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GRPC_TLS_CA_FILE: no such file"):
        _load(tmp_path, grpc_tls_ca_file=tmp_path / "absent.pem")


def test_plain_text_by_default_and_loopback_bind(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, tripsage_data_dir=tmp_path)
    assert settings.grpc_bind_host == "127.0.0.1"
    assert settings.grpc_tls_cert_file is None
    assert settings.reflection_enabled is True
