"""`tripsage create-admin` as a script: python scripts/auth/create_admin.py [options]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["create-admin", *sys.argv[1:]]))
