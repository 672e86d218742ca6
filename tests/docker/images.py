"""Images the docker tests build locally (nothing can be pulled here): a Debian trixie
base made with debootstrap, kept between runs, a stand-in for the uv image, and the
TripSage image built on them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE_IMAGE = "tripsage-base:trixie"
UV_IMAGE = "tripsage-uv:local"
APP_IMAGE = "tripsage-ai:test"
POSTGRES_IMAGE = "tripsage-postgres:test"
VALKEY_IMAGE = "tripsage-valkey:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# The client to use (DOCKER=/usr/bin/docker where the one on PATH lacks buildx).
DOCKER = os.environ.get("DOCKER", "docker")


def docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def engine_problem() -> str | None:
    """Why no Docker engine can be used, or None when one answers."""
    if shutil.which(DOCKER) is None:
        return "no docker client on PATH"
    info = docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    if info.returncode != 0:
        return f"no Docker engine answers: {info.stderr.strip()[:200]}"
    return None


def _exists(image: str) -> bool:
    return docker("image", "inspect", image, timeout=30).returncode == 0


def _checked(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def ensure_base() -> None:
    """Debian trixie minbase with python3, imported once and then reused."""
    if _exists(BASE_IMAGE):
        return
    debootstrap = shutil.which("debootstrap")
    assert debootstrap, "the base image needs debootstrap (apt-get install debootstrap)"
    with tempfile.TemporaryDirectory() as directory:
        _checked(
            subprocess.run(
                [
                    debootstrap,
                    "--variant=minbase",
                    "--include=python3,ca-certificates",
                    "trixie",
                    directory,
                ],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
        )
        tar = subprocess.Popen(["tar", "-C", directory, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [DOCKER, "import", "-", BASE_IMAGE],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        tar.wait()
        _checked(imported)


def _uv_binary() -> Path:
    found = shutil.which("uv")
    assert found, "uv is needed to stand in for its image"
    path = Path(found).resolve()
    if path.read_bytes()[:4] == b"\x7fELF":
        return path
    # A pyenv shim is a script; pyenv names the binary behind it.
    shim = subprocess.run(["pyenv", "which", "uv"], capture_output=True, text=True, check=False)
    return Path(shim.stdout.strip()).resolve()


def ensure_uv() -> None:
    if _exists(UV_IMAGE):
        return
    with tempfile.TemporaryDirectory() as directory:
        shutil.copy2(_uv_binary(), Path(directory) / "uv")
        _checked(docker("build", "-f", str(HERE / "uv.Dockerfile"), "-t", UV_IMAGE, directory))


def build_app() -> None:
    """The TripSage image from the repository's Dockerfile, on the local base images."""
    ensure_base()
    ensure_uv()
    args = [
        "build",
        "--build-arg",
        f"BASE={BASE_IMAGE}",
        "--build-arg",
        f"UV_IMAGE={UV_IMAGE}",
        "-t",
        APP_IMAGE,
    ]
    if CA_BUNDLE.is_file():
        args += ["--secret", f"id=ca,src={CA_BUNDLE}"]
    result = subprocess.run(
        [DOCKER, *args, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    _checked(result)


def build_stores() -> None:
    """PostgreSQL (with pgvector) and Valkey on the same base, for the stack."""
    ensure_base()
    for dockerfile, tag in (
        ("postgres.Dockerfile", POSTGRES_IMAGE),
        ("valkey.Dockerfile", VALKEY_IMAGE),
    ):
        result = subprocess.run(
            [DOCKER, "build", "-f", str(HERE / dockerfile), "-t", tag, str(HERE)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )
        _checked(result)
