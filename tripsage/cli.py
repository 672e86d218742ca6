"""The `tripsage` command."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tripsage_core.config import Settings, get_settings_or_exit
from tripsage_core.logging import LogFiles, configure_logging
from tripsage_core.service_registry import SERVICE_NAMES, SERVICES

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _days(text: str) -> float:
    """A number of days for --days and --keep-days: positive and finite (not nan or inf)."""
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not math.isfinite(days) or days <= 0 or days > 36500:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 36500: {text!r}")
    return days


def _seconds(text: str) -> int:
    """A whole number of seconds for --timeout: 1 to 600."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if not 1 <= seconds <= 600:
        raise argparse.ArgumentTypeError(f"must be 1 to 600 seconds: {text!r}")
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripsage", description="TripSage travel-planning suite")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run every service and the gateway")
    up.add_argument(
        "--data-dir",
        type=Path,
        help="data of embedded PostgreSQL/Valkey (default: TRIPSAGE_DATA_DIR or ./.tripsage)",
    )
    migrate = commands.add_parser(
        "migrate",
        help="apply every service's migrations (POSTGRES_URL, else the embedded server)",
    )
    migrate.add_argument("--service", choices=SERVICE_NAMES)
    admin = commands.add_parser(
        "create-admin",
        help="make an account an administrator (creating it if needed)",
        description="The password is read from TRIPSAGE_ADMIN_PASSWORD, or asked for.",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--full-name", default="")
    probe = commands.add_parser(
        "health-check",
        help="exit 0 when a service reports SERVING on grpc.health.v1 (over TLS when set)",
        description="For container probes that cannot speak TLS themselves.",
    )
    probe.add_argument("service", choices=["auth", "trips", "travel", "assistant"])
    probe.add_argument("--address", help="host:port (default: 127.0.0.1 and the service's port)")
    grpc_probe = commands.add_parser(
        "probe",
        help="exit 0 when the gRPC server at ADDRESS reports SERVING on grpc.health.v1",
        description="The container image's health check. SERVICE is a short name (auth, ...)"
        " or a full gRPC service name; without it, the whole server.",
    )
    grpc_probe.add_argument("address", help="host:port")
    grpc_probe.add_argument("service", nargs="?", default="")
    commands.add_parser(
        "rotate-secret-key",
        help="re-encrypt every BYOK key under SECRET_KEY (old key in SECRET_KEY_PREVIOUS)",
    )
    backup = commands.add_parser(
        "backup",
        help="dump every TripSage schema to a SQL file (POSTGRES_URL, else the embedded server)",
    )
    backup.add_argument(
        "--output", type=Path, help="file to write (default: DATA_DIR/backups/tripsage-TIME.sql)"
    )
    backup.add_argument(
        "--keep-days",
        type=_days,
        help="afterwards, delete backups of that directory older than DAYS (by their names)",
    )
    restore = commands.add_parser(
        "restore", help="load a backup made by `tripsage backup` into the database"
    )
    restore.add_argument("path", type=Path)
    restore.add_argument(
        "--clean", action="store_true", help="drop the backup's schemas first if they exist"
    )
    full = commands.add_parser(
        "create-backup",
        help="database, configuration (secrets redacted) and logs in one .tar.gz with checksums",
    )
    full.add_argument(
        "--output", type=Path, help="default: DATA_DIR/backups/tripsage-full-TIME.tar.gz"
    )
    check = commands.add_parser(
        "verify-backup", help="re-check an archive of `tripsage create-backup` against its manifest"
    )
    check.add_argument("path", type=Path)
    scan = commands.add_parser(
        "security-scan",
        help="ruff's security rules (S) over the code; findings not in the baseline fail",
    )
    scan.add_argument("paths", nargs="*", help="default: services gateway tripsage tripsage_core")
    scan.add_argument("--baseline", type=Path, help="default: .security-baseline.json")
    scan.add_argument("--update-baseline", action="store_true", help="accept every current finding")
    audit = commands.add_parser(
        "check-vulnerabilities",
        help="pip-audit over uv.lock: 1 on a known vulnerability, 2 when it could not check",
    )
    audit.add_argument(
        "--service", choices=("pypi", "osv"), default="pypi", help="advisory database"
    )
    audit.add_argument("--timeout", type=_seconds, default=15, help="seconds per request")
    audit.add_argument("--osv-url", help="an OSV API mirror (with --service osv)")
    commands.add_parser(
        "verify-connection", help="check that PostgreSQL and Redis answer (a line each)"
    )
    commands.add_parser(
        "verify-setup",
        help="check settings, database, cache, migrations, every service's health and modes",
    )
    commands.add_parser(
        "cache-stats", help="the travel search cache: keys, memory and hit ratio by content type"
    )
    clear = commands.add_parser(
        "clear-cache", help="delete travel search cache entries (all, or of some content types)"
    )
    clear.add_argument(
        "--type",
        dest="kinds",
        action="append",
        default=[],
        metavar="KIND",
        help="a content type (flights, stays, places, weather, ...); repeatable",
    )
    view = commands.add_parser("view-logs", help="the latest lines of every process's log file")
    view.add_argument("--service", help="one process (auth, trips, ..., gateway, launcher)")
    view.add_argument("--lines", type=int, default=50, help="how many (default 50)")
    search = commands.add_parser("search-logs", help="log lines containing a text")
    search.add_argument("--query", required=True, help="text to find (case-insensitive)")
    search.add_argument("--service", help="one process only")
    search.add_argument("--level", choices=LOG_LEVELS, help="this level or above")
    search.add_argument("--days", type=_days, help="only the last DAYS days")
    export_logs = commands.add_parser(
        "export-logs", help="the last days of every log as one gzipped JSON-lines file"
    )
    export_logs.add_argument("--days", type=_days, default=7, help="default 7")
    export_logs.add_argument(
        "--output", type=Path, help="default: DATA_DIR/exports/logs-TIME.jsonl.gz"
    )
    export = commands.add_parser(
        "export-config", help="print every setting as JSON, secrets redacted"
    )
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    return parser


def _auth_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.auth import operator_commands
    from tripsage_core.errors import InvalidArgument

    if args.command == "create-admin":

        def password() -> str:
            import getpass

            given = os.environ.get("TRIPSAGE_ADMIN_PASSWORD")
            return given or getpass.getpass("password for the new administrator: ")

        try:
            message = asyncio.run(
                operator_commands.create_admin(
                    settings, email=args.email, password=password, full_name=args.full_name
                )
            )
        except InvalidArgument as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(message)
        return 0
    report = asyncio.run(operator_commands.rotate_secret_key(settings))
    print(
        f"re-encrypted {report.reencrypted} provider keys under the current SECRET_KEY"
        f" ({report.already_current} already were); SECRET_KEY_PREVIOUS can now be removed"
    )
    return 0


async def _health_check(settings: Settings, service: str, address: str | None) -> int:
    target = address or f"127.0.0.1:{settings.listen_port(service)}"
    return await _probe(settings, target, service, health_name="")


async def _probe_command(settings: Settings, address: str, service: str) -> int:
    info = next((each for each in SERVICES if each.name == service), None)
    if info is not None:
        return await _probe(settings, address, service, health_name=info.grpc_service)
    return await _probe(settings, address, None, health_name=service)


async def _probe(settings: Settings, target: str, service: str | None, health_name: str) -> int:
    """Ask grpc.health.v1 at TARGET about HEALTH_NAME ("" is the whole server); over TLS
    when the settings say so, expecting the certificate of SERVICE's *_SERVICE_ADDR host."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from tripsage_core.grpc_kit.tls import channel_credentials, open_channel

    credentials = channel_credentials(settings)
    label = service or health_name or target
    options = []
    if credentials and service is not None:
        # The certificate names the service as others reach it, not 127.0.0.1.
        expected_name = settings.service_addr(service).rsplit(":", 1)[0].strip("[]")
        options = [("grpc.ssl_target_name_override", expected_name)]
    async with open_channel(target, credentials, options=options) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=health_name), timeout=5
            )
        except grpc.aio.AioRpcError as exc:
            print(f"{label} at {target}: {exc.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{label} at {target}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """POSTGRES_DIRECT_URL or POSTGRES_URL (these commands need a session: pg_dump, the
    migrations), else the embedded server over the data directory (the running suite's,
    or started for this command and stopped after it)."""
    if (url := settings.postgres_session_url) is not None:
        yield url
        return
    from tripsage_core.database import ensure_database, with_database
    from tripsage_core.embedded import DATABASE_NAME, EmbeddedPostgres

    server = EmbeddedPostgres(settings.tripsage_data_dir.resolve())
    admin_dsn = server.start()
    try:
        asyncio.run(ensure_database(admin_dsn, DATABASE_NAME))
        yield with_database(admin_dsn, DATABASE_NAME)
    finally:
        server.stop()


def _backup_command(args: argparse.Namespace, settings: Settings) -> int:
    from tripsage import backups

    try:
        with _database(settings) as dsn:
            if args.command == "backup":
                path = args.output or backups.default_backup_path(
                    settings.tripsage_data_dir.resolve()
                )
                report = asyncio.run(backups.backup(dsn, path))
                verb = "backed up"
                if args.keep_days is not None:
                    for old in backups.prune_backups(path.parent, args.keep_days):
                        print(f"  deleted {old.name} (older than {args.keep_days:g} days)")
            else:
                report = asyncio.run(backups.restore(dsn, args.path, clean=args.clean))
                verb = "restored"
    except backups.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for table in report.tables:
        print(f"  {table.schema}.{table.table}: {table.rows} rows")
    print(
        f"{verb} {len(report.header.schemas)} schemas, {len(report.tables)} tables,"
        f" {report.rows} rows: {report.path}"
    )
    return 0


def _archive_command(args: argparse.Namespace, settings: Settings) -> int:
    from tripsage import backups, full_backup

    try:
        if args.command == "verify-backup":
            report = full_backup.verify_backup(args.path)
            verb = "verified"
        else:
            with _database(settings) as dsn:
                path = args.output or full_backup.default_archive_path(
                    settings.tripsage_data_dir.resolve()
                )
                report = asyncio.run(full_backup.create_backup(settings, dsn, path))
                verb = "archived"
    except backups.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for member in report.members:
        print(f"  {member.name}: {member.size} bytes, sha256 {member.sha256}")
    print(f"{verb} {len(report.members)} members: {report.path}")
    return 0


def _security_scan(args: argparse.Namespace) -> int:
    from tripsage import security_scan as scan

    baseline_path = args.baseline or scan.DEFAULT_BASELINE
    try:
        baseline = scan.read_baseline(baseline_path)
        found = scan.findings(args.paths or list(scan.DEFAULT_PATHS))
    except scan.ScanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.update_baseline:
        scan.write_baseline(baseline_path, found, baseline)
        print(f"baseline {baseline_path}: {len(found)} accepted findings")
        return 0
    result = scan.compare(found, baseline)
    for finding in result.new:
        print(finding.text())
    stale = f"; {result.stale} baseline entries no longer occur" if result.stale else ""
    print(
        f"{len(result.new)} new findings, {len(found) - len(result.new)} accepted in"
        f" {baseline_path.name}{stale}"
    )
    return 1 if result.new else 0


def _check_vulnerabilities(args: argparse.Namespace) -> int:
    from tripsage import vulnerabilities as vulns

    try:
        report = vulns.audit(vulns.locked_requirements(), args.service, args.timeout, args.osv_url)
    except vulns.AuditUnavailable as exc:
        print(f"error: not checked: {exc}", file=sys.stderr)
        return 2
    for vulnerability in report.vulnerabilities:
        print(vulnerability.text())
    if report.checked:  # all skipped is one failure, said once below
        for package, why in sorted(report.skipped.items()):
            print(f"not checked: {package}: {why}", file=sys.stderr)
    if report.vulnerabilities:
        print(f"{len(report.vulnerabilities)} known vulnerabilities in {report.checked} packages")
        return 1
    if report.skipped:
        print(
            f"error: {len(report.skipped)} of {report.checked + len(report.skipped)} packages"
            f" could not be checked against {args.service} (is its advisory database"
            " reachable?): no clean bill given",
            file=sys.stderr,
        )
        return 2
    print(f"no known vulnerabilities in {report.checked} packages ({args.service})")
    return 0


def _cache_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.travel.cache import cache_namespace
    from tripsage import cache_admin
    from tripsage_core.cache import redis_configured, redis_from_settings

    if not redis_configured(settings):
        print(
            "error: REDIS_URL is not set (the embedded Valkey of `tripsage up` prints its URL"
            " at start-up; or set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)",
            file=sys.stderr,
        )
        return 2
    unknown = sorted(set(getattr(args, "kinds", ())) - set(cache_admin.KINDS))
    if unknown:
        print(
            f"error: unknown content type {', '.join(unknown)}; one of"
            f" {', '.join(cache_admin.KINDS)}",
            file=sys.stderr,
        )
        return 2

    async def run() -> int:
        from redis.exceptions import RedisError

        redis = redis_from_settings(settings)
        if redis is None:  # checked above
            return 2
        namespace = cache_namespace(settings)
        try:
            if args.command == "clear-cache":
                removed = await cache_admin.clear_cache(redis, namespace, tuple(args.kinds))
                for kind, count in removed.items():
                    print(f"  {kind}: {count} entries deleted")
                print(f"deleted {sum(removed.values())} cache entries")
                return 0
            stats = await cache_admin.cache_stats(redis, namespace)
        except (RedisError, OSError) as exc:
            print(f"error: Redis did not answer: {exc}", file=sys.stderr)
            return 1
        finally:
            await redis.aclose()
        print(f"{'type':<16}{'keys':>8}{'memory':>12}{'lookups':>10}{'hit ratio':>11}")
        for kind, each in stats.items():
            ratio = "-" if each.hit_ratio is None else f"{each.hit_ratio:.1%}"
            print(
                f"{kind:<16}{each.keys:>8}{each.memory_bytes:>12}"
                f"{sum(each.lookups.values()):>10}{ratio:>11}"
            )
        return 0

    return asyncio.run(run())


def _verify_command(args: argparse.Namespace, settings: Settings) -> int:
    from tripsage import verification

    with _database(settings) as dsn:
        run = (
            verification.verify_setup
            if args.command == "verify-setup"
            else verification.verify_connection
        )
        checks = asyncio.run(run(settings, dsn))
    for check in checks:
        print(check.line())
    failed = [check for check in checks if not check.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _logs_command(args: argparse.Namespace, settings: Settings) -> int:
    from collections import deque
    from datetime import UTC, datetime, timedelta

    from tripsage import log_files

    directory = settings.log_directory
    if not log_files.log_files(directory, getattr(args, "service", None)):
        which = f" of {args.service}" if getattr(args, "service", None) else ""
        print(f"error: no log files{which} in {directory} (LOG_DIR)", file=sys.stderr)
        return 1
    if args.command == "export-logs":
        if args.days <= 0:
            print("error: --days must be positive", file=sys.stderr)
            return 2
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        output = args.output or settings.tripsage_data_dir.resolve() / "exports" / (
            f"logs-{stamp}.jsonl.gz"
        )
        count = log_files.export(directory, output, args.days)
        print(f"exported {count} log lines of the last {args.days:g} days: {output}")
        return 0
    if args.command == "view-logs":
        shown = deque(log_files.entries(directory, args.service), maxlen=max(1, args.lines))
    else:
        since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
        shown = deque(
            log_files.matching(
                directory, query=args.query, process=args.service, level=args.level, since=since
            )
        )
    for entry in shown:
        print(entry.text())
    if args.command == "search-logs":
        print(f"{len(shown)} matching lines")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "data_dir", None) is not None:
        os.environ["TRIPSAGE_DATA_DIR"] = str(args.data_dir)
    if args.command == "security-scan":  # reads code, not settings
        return _security_scan(args)
    if args.command == "check-vulnerabilities":
        return _check_vulnerabilities(args)
    settings = get_settings_or_exit()
    # The launcher of `tripsage up` keeps a log file too; one-off commands only print.
    files = LogFiles.from_settings(settings, "launcher") if args.command == "up" else None
    # One-off commands print their results on stdout: their log lines go to stderr.
    stream = sys.stdout if args.command == "up" else sys.stderr
    configure_logging("launcher", settings.log_level, settings.log_format, files, stream)
    if args.command == "health-check":
        return asyncio.run(_health_check(settings, args.service, args.address))
    if args.command == "probe":
        return asyncio.run(_probe_command(settings, args.address, args.service))
    if args.command in ("create-admin", "rotate-secret-key"):
        return _auth_command(args, settings)
    if args.command in ("backup", "restore"):
        return _backup_command(args, settings)
    if args.command in ("create-backup", "verify-backup"):
        return _archive_command(args, settings)
    if args.command in ("view-logs", "search-logs", "export-logs"):
        return _logs_command(args, settings)
    if args.command in ("verify-connection", "verify-setup"):
        return _verify_command(args, settings)
    if args.command in ("cache-stats", "clear-cache"):
        return _cache_command(args, settings)
    if args.command == "export-config":
        from tripsage.config_export import exported_json

        text = exported_json(settings)
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text)
            print(f"configuration written to {args.output} (secrets redacted)")
        return 0
    if args.command == "up":
        from tripsage.launcher import up
        from tripsage_core.embedded import EmbeddedServerMissing

        try:
            return up(settings)
        except EmbeddedServerMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    from tripsage.launcher import migration_dirs
    from tripsage_core.migrations import migrate

    with _database(settings) as dsn:
        for service, directory in migration_dirs().items():
            if args.service and service != args.service:
                continue
            applied = asyncio.run(migrate(dsn, service, directory))
            print(f"{service}: {', '.join(applied) if applied else 'up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
