"""`tripsage create-backup`: the database, the configuration and the logs in one archive.

The archive is a .tar.gz (mode 0600: password hashes and encrypted keys are
inside) holding `database.sql` (tripsage/backups.py: restores with `tripsage
restore`), `configuration.json` (tripsage/config_export.py: secrets redacted),
`logs/<file>` for every log file in LOG_DIR, and `manifest.json`: when it was
made, the TripSage version, and each member's size and sha256, so that
`tripsage verify-backup` can tell a whole archive from a damaged one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tripsage import backups, log_files
from tripsage.config_export import exported_json
from tripsage_core.config import Settings

MANIFEST = "manifest.json"
DATABASE_MEMBER = "database.sql"
CONFIG_MEMBER = "configuration.json"


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ArchiveReport:
    path: Path
    members: list[Member]
    database: backups.BackupReport | None = None


def _version() -> str:
    try:
        return version("tripsage")
    except PackageNotFoundError:
        return "unknown"


def default_archive_path(data_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return data_dir / "backups" / f"tripsage-full-{stamp}.tar.gz"


def _digest(path: Path) -> Member:
    sha = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            sha.update(chunk)
    return Member("", path.stat().st_size, sha.hexdigest())


async def create_backup(settings: Settings, dsn: str, path: Path) -> ArchiveReport:
    """Write the archive to `path`: whole or absent, readable only by its owner."""
    with tempfile.TemporaryDirectory(prefix="tripsage-backup-") as scratch:
        work = Path(scratch)
        database = await backups.backup(dsn, work / DATABASE_MEMBER)
        (work / CONFIG_MEMBER).write_text(exported_json(settings), encoding="utf-8")
        sources: dict[str, Path] = {
            DATABASE_MEMBER: work / DATABASE_MEMBER,
            CONFIG_MEMBER: work / CONFIG_MEMBER,
        }
        for files in log_files.log_files(settings.log_directory).values():
            for file in files:
                sources[f"logs/{file.name}"] = file
        members: list[Member] = []
        for name, source in sources.items():
            digest = _digest(source)
            members.append(Member(name, digest.size, digest.sha256))
        manifest = json.dumps(
            {
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "version": _version(),
                "members": [m.__dict__ for m in members],
            },
            indent=2,
        ).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w:gz") as archive:
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(manifest), 0o600
                archive.addfile(info, io.BytesIO(manifest))
                for member in members:
                    # A log file may grow while we copy it: add exactly the bytes hashed.
                    info = tarfile.TarInfo(member.name)
                    info.size, info.mode = member.size, 0o600
                    with sources[member.name].open("rb") as source:
                        archive.addfile(info, source)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)
    return ArchiveReport(path, members, database)


def verify_backup(path: Path) -> ArchiveReport:
    """Re-check every member against the manifest; BackupError says what is wrong."""
    if not path.is_file():
        raise backups.BackupError(f"{path}: no such file")
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            manifest_file = archive.extractfile(MANIFEST)
            if manifest_file is None:
                raise backups.BackupError(f"{path}: no {MANIFEST}")
            manifest: dict[str, Any] = json.loads(manifest_file.read())
            expected = {m["name"]: Member(**m) for m in manifest["members"]}
            found: list[Member] = []
            for info in archive.getmembers():
                if info.name == MANIFEST:
                    continue
                content = archive.extractfile(info)
                if content is None or info.name not in expected:
                    raise backups.BackupError(f"{path}: {info.name} is not in the manifest")
                data = content.read()
                member = Member(info.name, len(data), hashlib.sha256(data).hexdigest())
                if member != expected[info.name]:
                    raise backups.BackupError(f"{path}: {info.name} does not match its checksum")
                found.append(member)
    except (tarfile.TarError, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
        raise backups.BackupError(f"{path} is not a whole TripSage backup archive: {exc}") from exc
    missing = sorted(set(expected) - {m.name for m in found})
    if missing:
        raise backups.BackupError(f"{path}: missing {', '.join(missing)}")
    return ArchiveReport(path, found)
