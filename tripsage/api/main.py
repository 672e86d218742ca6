"""`python -m tripsage.api.main`: the operators reference's start command, same as `tripsage up`."""

import sys

from tripsage.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["up", *sys.argv[1:]]))
