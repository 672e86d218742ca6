"""`tripsage verify-setup` as a script: uv run python scripts/verification/verify_setup.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["verify-setup", *sys.argv[1:]]))
