"""`tripsage rotate-secret-key` as a script: python scripts/auth/rotate_secret_key.py [options]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["rotate-secret-key", *sys.argv[1:]]))
