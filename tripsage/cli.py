"""The `tripsage` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from tripsage_core.config import get_settings_or_exit
from tripsage_core.logging import configure_logging


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
        "migrate", help="apply every service's migrations to POSTGRES_URL"
    )
    migrate.add_argument("--service", choices=["auth", "trips", "travel", "assistant"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "data_dir", None) is not None:
        os.environ["TRIPSAGE_DATA_DIR"] = str(args.data_dir)
    settings = get_settings_or_exit()
    configure_logging("launcher", settings.log_level, settings.log_format)
    if args.command == "up":
        from tripsage.launcher import up

        return up(settings)
    from tripsage.launcher import migration_dirs
    from tripsage_core.migrations import migrate

    if settings.postgres_url is None:
        print("POSTGRES_URL is not set", file=sys.stderr)
        return 2
    for service, directory in migration_dirs().items():
        if args.service and service != args.service:
            continue
        applied = asyncio.run(migrate(settings.postgres_url.get_secret_value(), service, directory))
        print(f"{service}: {', '.join(applied) if applied else 'up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
