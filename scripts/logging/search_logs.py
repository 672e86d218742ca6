"""`tripsage search-logs` as a script: uv run python scripts/logging/search_logs.py [options]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["search-logs", *sys.argv[1:]]))
