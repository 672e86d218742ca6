"""python -m services.assistant"""

from services.assistant.app import build
from tripsage_core.entrypoint import run_service

if __name__ == "__main__":
    run_service("assistant", build)
