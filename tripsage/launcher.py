"""`tripsage up`: the whole suite as separate processes, on embedded servers when needed.

Starts embedded PostgreSQL and Valkey unless POSTGRES_URL / REDIS_URL are set,
applies every service's migrations, then runs the four services and the
gateway, each its own process (as in production). Ctrl-C or SIGTERM stops the
gateway first, then the services (each drains its calls), then the embedded
servers, and leaves nothing running. Once the suite has been healthy, a process that
exits is started again with backoff (as an orchestrator would), and the others keep
running; one that exits before that stops the suite (a port in use or a bad setting is
not cured by restarting).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tripsage_core.config import Settings
from tripsage_core.database import ensure_database, with_database
from tripsage_core.embedded import DATABASE_NAME, EmbeddedPostgres, EmbeddedValkey
from tripsage_core.migrations import migrate
from tripsage_core.service_registry import DEFAULT_PORTS, SERVICE_NAMES

logger = logging.getLogger("tripsage.launcher")

REPO_ROOT = Path(__file__).resolve().parent.parent

# Restart backoff: the first restart after half a second, doubling while the process
# keeps exiting, at most 30 s apart; one that stayed up a minute starts over.
RESTART_FIRST_DELAY = 0.5
RESTART_MAX_DELAY = 30.0
RESTART_STABLE_AFTER = 60.0


@dataclass
class Restarts:
    """One process's crash history: how many restarts in a row, and when the next is due."""

    count: int = 0
    due: float | None = None

    def schedule(self, now: float, uptime: float) -> float:
        if uptime >= RESTART_STABLE_AFTER:
            self.count = 0
        delay = min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2**self.count)
        self.count += 1
        self.due = now + delay
        return delay


def migration_dirs() -> dict[str, Path]:
    return {
        name: REPO_ROOT / "services" / name / "migrations"
        for name in SERVICE_NAMES
        if (REPO_ROOT / "services" / name / "migrations").is_dir()
    }


def _die_with_parent() -> None:
    # Linux: children get SIGTERM if the launcher itself is killed, so none is orphaned.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Suite:
    settings: Settings
    embedded_postgres: EmbeddedPostgres | None = None
    embedded_valkey: EmbeddedValkey | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # What each process was started with and when, to start it again after a crash.
    commands: dict[str, tuple[str, int, dict[str, str]]] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    restarts: dict[str, Restarts] = field(default_factory=dict)
    # Where the children write their logs (the launcher's own output when None).
    output: IO[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.tripsage_data_dir.resolve()

    def start_backing_services(self) -> tuple[str, str | None]:
        postgres_url = self.settings.postgres_url
        if postgres_url is None:
            self.embedded_postgres = EmbeddedPostgres(self.data_dir)
            admin_dsn = self.embedded_postgres.start()
            asyncio.run(ensure_database(admin_dsn, DATABASE_NAME))
            dsn = with_database(admin_dsn, DATABASE_NAME)
            print(f"  postgres   embedded, data in {self.data_dir / 'postgres'}", flush=True)
        else:
            dsn = postgres_url.get_secret_value()
            print("  postgres   POSTGRES_URL", flush=True)
        redis_url = self.settings.redis_url
        redis: str | None
        if redis_url is None and self.settings.upstash_redis_rest_url is not None:
            redis = None  # the children read UPSTASH_REDIS_REST_URL and _TOKEN themselves
            print("  redis      Upstash REST API (UPSTASH_REDIS_REST_URL)", flush=True)
        elif redis_url is None:
            self.embedded_valkey = EmbeddedValkey(self.data_dir)
            redis = self.embedded_valkey.start()
            print(
                f"  valkey     embedded at {redis}, data in {self.data_dir / 'valkey'}", flush=True
            )
        else:
            redis = redis_url.get_secret_value()
            print("  redis      REDIS_URL", flush=True)
        return dsn, redis

    def child_env(self, dsn: str, redis: str | None) -> dict[str, str]:
        env = dict(os.environ)
        secret_key = self.settings.secret_key
        jwt_secret = self.settings.database_jwt_secret
        assert secret_key is not None
        assert jwt_secret is not None
        env.update(
            POSTGRES_URL=dsn,
            SECRET_KEY=secret_key.get_secret_value(),
            DATABASE_JWT_SECRET=jwt_secret.get_secret_value(),
            TRIPSAGE_DATA_DIR=str(self.data_dir),
            PYTHONUNBUFFERED="1",
        )
        if redis is not None:
            env["REDIS_URL"] = redis
        elif (token := self.settings.upstash_redis_rest_token) is not None:
            env["UPSTASH_REDIS_REST_URL"] = self.settings.upstash_redis_rest_url or ""
            env["UPSTASH_REDIS_REST_TOKEN"] = token.get_secret_value()
        for name in SERVICE_NAMES:
            env[f"{name.upper()}_SERVICE_ADDR"] = self.settings.service_addr(name)
        env.pop("PORT", None)
        # The children run in the repository root: give them the launcher's view of the
        # transport settings (from its .env too), with TLS files as absolute paths.
        env["GRPC_BIND_HOST"] = self.settings.grpc_bind_host
        for name in ("grpc_tls_cert_file", "grpc_tls_key_file", "grpc_tls_ca_file"):
            path = getattr(self.settings, name)
            if path is not None:
                env[name.upper()] = str(path.resolve())
        env["GRPC_TLS_CLIENT_AUTH"] = str(self.settings.grpc_tls_client_auth).lower()
        return env

    def spawn(self, name: str, module: str, port: int, env: dict[str, str]) -> None:
        self.commands[name] = (module, port, env)
        self.started_at[name] = time.monotonic()
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**env, "PORT": str(port)},
            cwd=REPO_ROOT,
            stdout=self.output,
            stderr=subprocess.STDOUT if self.output is not None else None,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops them in order
            preexec_fn=_die_with_parent,
        )

    def start(self) -> int:
        gateway_port = self.settings.listen_port("gateway")
        print(f"TripSage {self.settings.environment.value}: starting", flush=True)
        dsn, redis = self.start_backing_services()
        for service, directory in migration_dirs().items():
            applied = asyncio.run(migrate(dsn, service, directory))
            if applied:
                print(f"  migrations {service}: {', '.join(applied)}", flush=True)
        env = self.child_env(dsn, redis)
        transport = "grpcs" if self.settings.grpc_tls_cert_file else "grpc"
        for name in SERVICE_NAMES:
            port = int(self.settings.service_addr(name).rsplit(":", 1)[1])
            self.spawn(name, f"services.{name}", port, env)
            print(f"  {name:<10} {transport}  localhost:{port}", flush=True)
        self.spawn("gateway", "gateway", gateway_port, env)
        print(f"  {'gateway':<10} http  http://localhost:{gateway_port}", flush=True)
        return gateway_port

    def wait_until_healthy(self, gateway_port: int, timeout: float = 90.0) -> bool:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{gateway_port}/api/health"
        while time.monotonic() < deadline:
            if any(proc.poll() is not None for proc in self.processes.values()):
                return False
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        return False

    def first_exited(self) -> str | None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                return name
        return None

    def restart_exited(self, now: float) -> None:
        """Starts again, with backoff, every process that exited; says so on stderr."""
        for name, proc in list(self.processes.items()):
            if proc.poll() is None:
                continue
            restarts = self.restarts.setdefault(name, Restarts())
            if restarts.due is None:
                delay = restarts.schedule(now, now - self.started_at[name])
                print(
                    f"{name} exited with status {proc.returncode}; restarting it in "
                    f"{delay:.1f} s (restart {restarts.count} in a row)",
                    file=sys.stderr,
                    flush=True,
                )
            elif now >= restarts.due:
                restarts.due = None
                module, port, env = self.commands[name]
                self.spawn(name, module, port, env)
                print(f"  {name:<10} restarted (pid {self.processes[name].pid})", flush=True)

    def stop(self) -> None:
        grace = self.settings.shutdown_grace_seconds + 5
        # The gateway first, so no new calls arrive; then the services drain.
        for group in (["gateway"], list(SERVICE_NAMES)):
            running = [self.processes[n] for n in group if n in self.processes]
            for proc in running:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in running:
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.embedded_valkey is not None:
            self.embedded_valkey.stop()
        if self.embedded_postgres is not None:
            self.embedded_postgres.stop()


def up(settings: Settings) -> int:
    suite = Suite(settings)
    stop_requested = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop_requested.set())
    exit_code = 0
    try:
        gateway_port = suite.start()
        healthy = suite.wait_until_healthy(gateway_port)
        if healthy:
            print(
                f"TripSage is up: http://localhost:{gateway_port}/api/health  (Ctrl-C stops it)",
                flush=True,
            )
        elif not stop_requested.is_set():
            print(
                "TripSage did not become healthy; see the logs above", file=sys.stderr, flush=True
            )
        while not stop_requested.wait(0.2):
            if healthy:
                suite.restart_exited(time.monotonic())
                continue
            exited = suite.first_exited()
            if exited is not None:
                code = suite.processes[exited].returncode
                print(
                    f"{exited} exited with status {code}; stopping the suite",
                    file=sys.stderr,
                    flush=True,
                )
                exit_code = 1
                break
    finally:
        print("TripSage: stopping", flush=True)
        suite.stop()
        print("TripSage: stopped", flush=True)
    return exit_code


__all__ = ["DEFAULT_PORTS", "Suite", "migration_dirs", "up"]
