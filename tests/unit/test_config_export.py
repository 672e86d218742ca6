"""`tripsage export-config`: every setting by its variable name, no secret in the output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.auth_suite import run_cli
from tripsage_core.config import Settings

SECRETS = {
    "SECRET_KEY": "export-secret-key-0123456789abcdefghijklmnop",
    "DATABASE_JWT_SECRET": "export-jwt-secret-0123456789abcdefghijklmnop",
    "OPENAI_API_KEY": "sk-test-export-0123456789abcdefghij",
    "OPERATOR_TOKEN": "export-operator-token-0123456789abcdefghij",
}
DB_PASSWORD = "pa55-w0rd-in-url"
REDIS_TOKEN = "redis-token-in-query"


def test_every_setting_is_listed_and_no_secret_appears(tmp_path: Path) -> None:
    env = {
        "ENVIRONMENT": "testing",
        "TRIPSAGE_DATA_DIR": str(tmp_path),
        "POSTGRES_URL": f"postgresql://app:{DB_PASSWORD}@db.internal:5433/tripsage",
        "REDIS_URL": f"rediss://cache.internal:6380/0?password={REDIS_TOKEN}",
        **SECRETS,
    }
    done = run_cli(env, "export-config")
    assert done.returncode == 0, done.stderr
    for secret in [*SECRETS.values(), DB_PASSWORD, REDIS_TOKEN]:
        assert secret not in done.stdout
    listed = json.loads(done.stdout)
    assert set(listed) == {name.upper() for name in Settings.model_fields}
    assert listed["POSTGRES_URL"] == "postgresql://app:<redacted>@db.internal:5433/tripsage"
    assert listed["REDIS_URL"] == "rediss://cache.internal:6380/0?password=<redacted>"
    assert listed["OPENAI_API_KEY"] == "<redacted>"
    assert listed["DUFFEL_ACCESS_TOKEN"] is None  # unset stays visibly unset
    assert listed["ENVIRONMENT"] == "testing"

    written = tmp_path / "config.json"
    saved = run_cli(env, "export-config", "--output", str(written))
    assert saved.returncode == 0, saved.stderr
    assert json.loads(written.read_text()) == listed
