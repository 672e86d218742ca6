"""python -m services.travel"""

from services.travel.app import build
from tripsage_core.entrypoint import run_service

if __name__ == "__main__":
    run_service("travel", build)
