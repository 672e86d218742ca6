"""`.env.example` lists exactly the settings of the Settings class, plus the variables
docker-compose.yml reads that are no setting (in its marked last section)."""

from __future__ import annotations

import re
from pathlib import Path

from tripsage_core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_ONLY_MARK = "# --- docker-compose.yml only"
# `#NAME=value` or `NAME=value`; descriptions are `# text`.
VARIABLE = re.compile(r"^#?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _sections() -> tuple[list[str], list[str]]:
    text = (ROOT / ".env.example").read_text()
    settings_part, marker, compose_part = text.partition(COMPOSE_ONLY_MARK)
    assert marker, f".env.example has no {COMPOSE_ONLY_MARK!r} section"
    return VARIABLE.findall(settings_part), VARIABLE.findall(compose_part)


def _compose_variables() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def test_every_setting_is_listed_once_and_nothing_else() -> None:
    listed, _ = _sections()
    settings = [name.upper() for name in Settings.model_fields]
    assert sorted(set(settings) - set(listed)) == [], "settings missing from .env.example"
    assert sorted(set(listed) - set(settings)) == [], ".env.example lists non-settings"
    assert len(listed) == len(set(listed)), "a setting is listed twice"


def test_compose_only_variables_are_those_compose_reads() -> None:
    _, compose_only = _sections()
    settings = {name.upper() for name in Settings.model_fields}
    assert set(compose_only).isdisjoint(settings), "a setting is in the compose-only section"
    assert sorted(_compose_variables() - settings - set(compose_only)) == []
    assert sorted(set(compose_only) - _compose_variables()) == []


def test_listed_values_are_the_defaults() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = dict(re.findall(r"^#?([A-Z][A-Z0-9_]*)=(.+)$", text, re.MULTILINE))
    fields = Settings.model_fields
    given = {name.lower(): value for name, value in listed.items() if name.lower() in fields}
    assert given, "no setting of .env.example shows a value"
    loaded = Settings(_env_file=None, **given)  # type: ignore[call-arg]
    wrong = {
        name: value
        for name, value in given.items()
        if getattr(loaded, name) != fields[name].default
    }
    assert wrong == {}, "these values of .env.example are not the defaults"
