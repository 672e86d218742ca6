"""`tripsage create-backup` as a script: uv run python scripts/backup/create_backup.py [options]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["create-backup", *sys.argv[1:]]))
