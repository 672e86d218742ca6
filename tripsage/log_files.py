"""Reading the processes' rotating JSON-lines log files (tripsage_core/logging.LogFiles).

`tripsage view-logs`, `search-logs` and `export-logs` work on LOG_DIR: every
`<process>.log` and its rotated `<process>.log.N`, oldest first, one JSON
object per line. A line that is not JSON (a crash's raw output) is kept as a
message of level "RAW" rather than dropped.
"""

from __future__ import annotations

import gzip
import heapq
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_FILE = re.compile(r"^(?P<process>[A-Za-z0-9_.-]+?)\.log(?:\.(?P<n>\d+))?$")


@dataclass(frozen=True)
class Entry:
    time: datetime
    process: str
    fields: dict[str, Any]
    raw: str

    @property
    def level(self) -> str:
        return str(self.fields.get("level", "RAW"))

    def text(self) -> str:
        f = self.fields
        extras = {
            k: v
            for k, v in f.items()
            if k not in {"time", "level", "service", "logger", "message", "exception"}
        }
        line = (
            f"{self.time.isoformat(timespec='milliseconds')} {self.level:<7}"
            f" {f.get('service', self.process)} {f.get('logger', '')}: {f.get('message', '')}"
        )
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if "exception" in f:
            line += "\n" + str(f["exception"])
        return line


def log_files(directory: Path, process: str | None = None) -> dict[str, list[Path]]:
    """Each process's files, oldest first."""
    found: dict[str, list[tuple[int, Path]]] = {}
    if not directory.is_dir():
        return {}
    for path in directory.iterdir():
        match = _FILE.match(path.name)
        if match is None or not path.is_file():
            continue
        name = match.group("process")
        if process is not None and name != process:
            continue
        found.setdefault(name, []).append((-int(match.group("n") or 0), path))
    return {name: [p for _n, p in sorted(files)] for name, files in sorted(found.items())}


def _parse(line: str, process: str, fallback: datetime) -> Entry:
    try:
        fields = json.loads(line)
        if not isinstance(fields, dict):
            raise ValueError("not an object")
        when = datetime.fromisoformat(str(fields["time"]))
    except (ValueError, KeyError):
        return Entry(fallback, process, {"level": "RAW", "message": line}, line)
    return Entry(when if when.tzinfo else when.replace(tzinfo=UTC), process, fields, line)


def _read(process: str, paths: Iterable[Path]) -> Iterator[Entry]:
    last = datetime.min.replace(tzinfo=UTC)
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                line = line.rstrip("\n")
                if line:
                    entry = _parse(line, process, last)
                    last = entry.time
                    yield entry


def entries(directory: Path, process: str | None = None) -> Iterator[Entry]:
    """Every entry of every process, merged in time order."""
    streams = [_read(name, paths) for name, paths in log_files(directory, process).items()]
    return heapq.merge(*streams, key=lambda entry: entry.time)


def matching(
    directory: Path,
    *,
    query: str | None = None,
    process: str | None = None,
    level: str | None = None,
    since: datetime | None = None,
) -> Iterator[Entry]:
    """Entries whose line contains `query` (case-insensitive), at `level` or above."""
    needle = query.lower() if query else None
    floor = _LEVELS.get(level.upper(), 0) if level else 0
    for entry in entries(directory, process):
        if since is not None and entry.time < since:
            continue
        if floor and _LEVELS.get(entry.level, 100) < floor:
            continue
        if needle is not None and needle not in entry.raw.lower():
            continue
        yield entry


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LEVELS = tuple(_LEVELS)


def export(directory: Path, output: Path, days: float) -> int:
    """The last `days` days of every process as one gzipped JSON-lines file; returns lines."""
    since = datetime.now(UTC) - timedelta(days=days)
    output.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with gzip.open(output, "wt", encoding="utf-8") as out:
        for entry in matching(directory, since=since):
            fields = {"process": entry.process, **entry.fields}
            out.write(json.dumps(fields, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count
