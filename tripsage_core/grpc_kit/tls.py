"""TLS for the gRPC servers and for the channels between TripSage processes.

Servers listen with TLS when GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE are set.
Channels (service to service, gateway to service, health probes) use TLS when
GRPC_TLS_CA_FILE (the CA that signed the servers' certificates) or a
certificate is set; without a CA file they trust the system's roots. With
GRPC_TLS_CLIENT_AUTH, servers also require a client certificate signed by that
CA, and every channel presents this process's certificate (mutual TLS).
"""

from __future__ import annotations

from pathlib import Path

import grpc
from grpc import aio

from tripsage_core.config import Settings


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """None: listen in plain text."""
    if settings.grpc_tls_cert_file is None or settings.grpc_tls_key_file is None:
        return None
    pair = (settings.grpc_tls_key_file.read_bytes(), settings.grpc_tls_cert_file.read_bytes())
    return grpc.ssl_server_credentials(
        [pair],
        root_certificates=_read(settings.grpc_tls_ca_file)
        if settings.grpc_tls_client_auth
        else None,
        require_client_auth=settings.grpc_tls_client_auth,
    )


def channel_credentials(settings: Settings) -> grpc.ChannelCredentials | None:
    """None: connect in plain text."""
    if settings.grpc_tls_ca_file is None and settings.grpc_tls_cert_file is None:
        return None
    mutual = settings.grpc_tls_client_auth
    return grpc.ssl_channel_credentials(
        root_certificates=_read(settings.grpc_tls_ca_file),
        private_key=_read(settings.grpc_tls_key_file) if mutual else None,
        certificate_chain=_read(settings.grpc_tls_cert_file) if mutual else None,
    )


def open_channel(
    address: str,
    credentials: grpc.ChannelCredentials | None,
    **options: object,
) -> aio.Channel:
    """A grpc.aio channel, over TLS when credentials are given."""
    if credentials is None:
        return aio.insecure_channel(address, **options)  # type: ignore[arg-type]
    return aio.secure_channel(address, credentials, **options)  # type: ignore[arg-type]
