"""python -m services.trips"""

from services.trips.app import build
from tripsage_core.entrypoint import run_service

if __name__ == "__main__":
    run_service("trips", build)
