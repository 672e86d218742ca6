"""`tripsage verify-backup` as a script: uv run python scripts/backup/verify_backup.py [options]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["verify-backup", *sys.argv[1:]]))
