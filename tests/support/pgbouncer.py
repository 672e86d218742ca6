"""Debian's PgBouncer in transaction mode in front of a test database: what Supabase's
pooler on port 6543 does (each transaction on whichever server connection is free,
no prepared statements kept for a client)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from tripsage_core.embedded import free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def pgbouncer_problem() -> str | None:
    """Why no PgBouncer can be started here, or None."""
    if not Path(PGBOUNCER).is_file():
        return "PgBouncer is not installed (apt-get install pgbouncer)"
    return None


def _server(dsn: str) -> tuple[str, int, str, str]:
    """host (or socket directory), port, user and database of a postgresql:// URL."""
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    port = int(query.get("port", [parts.port or 5432])[0])
    return host, port, parts.username or "postgres", parts.path.lstrip("/")


@contextmanager
def transaction_pooler(dsn: str, *, server_connections: int = 2) -> Iterator[str]:
    """PgBouncer (pool_mode=transaction) in front of `dsn`'s database; yields the URL of
    the same database through it. `server_connections` is its pool per database and
    user: fewer than the clients, so clients really share server connections."""
    host, port, user, database = _server(dsn)
    directory = Path(tempfile.mkdtemp(prefix="tripsage-pgbouncer-"))
    listen = free_port()
    # PgBouncer refuses to run as root; as root it runs as the socket directory's owner
    # (the embedded PostgreSQL's system user), who must also own its files.
    run_as = None
    if os.geteuid() == 0:
        owner = Path(host).stat().st_uid if host.startswith("/") else 65534
        run_as = pwd.getpwuid(owner).pw_name
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    (directory / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"{database} = host={host} port={port} dbname={database}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {listen}",
                "unix_socket_dir =",
                "pool_mode = transaction",
                f"default_pool_size = {server_connections}",
                "max_client_conn = 500",
                "auth_type = trust",
                f"auth_file = {directory / 'users.txt'}",
                f"logfile = {directory / 'pgbouncer.log'}",
                f"pidfile = {directory / 'pgbouncer.pid'}",
                *([f"user = {run_as}"] if run_as else []),
                "",
            ]
        )
    )
    if run_as:
        entry = pwd.getpwnam(run_as)
        for path in (directory, *directory.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    process = subprocess.Popen(
        [PGBOUNCER, str(directory / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(listen, process, directory)
        parts = urlsplit(dsn)
        yield urlunsplit(
            ("postgresql", f"{user}@127.0.0.1:{listen}", f"/{database}", "", parts.fragment)
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_listening(port: int, process: subprocess.Popen[bytes], directory: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            log = directory / "pgbouncer.log"
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(
                f"pgbouncer exited: {stderr}{log.read_text() if log.exists() else ''}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not listen")
