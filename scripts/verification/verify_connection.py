"""`tripsage verify-connection` as a script (the same options)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["verify-connection", *sys.argv[1:]]))
