"""`tripsage backup --keep-days`: old backups go by the time in their names, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tripsage.backups import default_backup_path, prune_backups
from tripsage.cli import _parser

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def test_backups_older_than_the_days_kept_are_deleted_and_nothing_else(tmp_path: Path) -> None:
    made = [default_backup_path(tmp_path, NOW - timedelta(days=age)) for age in (0, 13.9, 14.1, 30)]
    others = [tmp_path / "backups" / name for name in ("notes.sql", "tripsage-latest.sql", "x.txt")]
    for path in [*made, *others]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("-- dump\n")
    removed = prune_backups(tmp_path / "backups", 14, now=NOW)
    assert sorted(removed) == sorted(made[2:])
    assert [path.exists() for path in made] == [True, True, False, False]
    assert all(path.exists() for path in others)


@pytest.mark.parametrize("days", ["0", "-1", "nan", "inf", "1e9", "seven"])
def test_a_number_of_days_that_is_not_one_is_refused(
    days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["backup", "--keep-days", days], ["export-logs", "--days", days]):
        with pytest.raises(SystemExit) as stopped:
            _parser().parse_args(command)
        assert stopped.value.code == 2
        assert days in capsys.readouterr().err
