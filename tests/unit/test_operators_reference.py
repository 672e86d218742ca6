"""docs/operators.md stays true: every script, subcommand and variable it names exists.

Its endpoints are called in tests/integration/test_gateway_internal_endpoints.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tripsage.cli import _parser
from tripsage_core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "operators.md").read_text()
VARIABLES = {name.upper() for name in Settings.model_fields}
# Upper-case names in the page that are not variables: gRPC health statuses.
NOT_SETTINGS = frozenset({"NOT_SERVING", "SERVICE_UNKNOWN"})


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", REFERENCE, flags=re.DOTALL)


def _commands() -> list[list[str]]:
    """Every command line of the page's shell blocks, comments dropped."""
    lines = []
    for block in _code_blocks("bash"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and not re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", words[0]):
                lines.append(words)
    return lines


def _script_invocations() -> list[tuple[str, list[str]]]:
    found = []
    for words in _commands():
        for at, word in enumerate(words):
            if word.startswith("scripts/") and word.endswith(".py"):
                args = words[at + 1 :]
                if ">" in args:
                    args = args[: args.index(">")]
                found.append((word, args))
    return found


def _subcommand_of(script: str) -> str:
    match = re.search(r'main\(\["([a-z-]+)"', (ROOT / script).read_text())
    assert match, f"{script} does not call the tripsage CLI"
    return match.group(1)


def test_the_page_names_the_scripts_of_every_area() -> None:
    scripts = {script for script, _ in _script_invocations()}
    for area in ("verification", "database", "cache", "logging", "config"):
        assert any(script.startswith(f"scripts/{area}/") for script in scripts), area


@pytest.mark.parametrize(("script", "args"), _script_invocations(), ids=lambda value: str(value))
def test_each_script_exists_and_takes_the_arguments_shown(script: str, args: list[str]) -> None:
    assert (ROOT / script).is_file(), f"{script} does not exist"
    parsed = _parser().parse_args([_subcommand_of(script), *args])
    assert parsed.command == _subcommand_of(script)


def test_each_tripsage_subcommand_shown_exists() -> None:
    named = {
        words[3]
        for words in _commands()
        if words[:3] == ["uv", "run", "tripsage"] and len(words) > 3
    }
    named |= set(re.findall(r"`(?:uv run )?tripsage ([a-z-]+)", REFERENCE.replace("\n", " ")))
    assert {"up", "migrate", "backup", "verify-setup"} <= named
    known = set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert named - {"--help"} <= known, named - known


def test_every_variable_named_is_a_setting() -> None:
    assigned = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", "\n".join(_code_blocks("bash")), re.M))
    quoted = set(re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", REFERENCE))
    assert {"POSTGRES_URL", "REDIS_URL", "SECRET_KEY", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= assigned
    unknown = (assigned | quoted) - VARIABLES - NOT_SETTINGS
    assert not unknown, f"not settings: {sorted(unknown)}"


def test_the_python_example_runs() -> None:
    (example,) = _code_blocks("python")
    namespace: dict[str, object] = {}
    exec(example, namespace)  # the page's own example, run as a reader would
    assert isinstance(namespace["settings"], Settings)
