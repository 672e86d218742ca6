"""`tripsage check-vulnerabilities` as a script.

uv run python scripts/security/check_vulnerabilities.py [--service osv]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["check-vulnerabilities", *sys.argv[1:]]))
