"""python -m services.auth"""

from services.auth.app import build
from tripsage_core.entrypoint import run_service

if __name__ == "__main__":
    run_service("auth", build)
