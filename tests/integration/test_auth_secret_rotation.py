"""`tripsage rotate-secret-key`: every BYOK key re-encrypted under a new SECRET_KEY, none lost."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.accounts import register
from tests.support.auth_suite import cli_env, run_cli, start_suite
from tripsage_core.grpc_kit.auth_calls import user_provider_key
from tripsage_core.key_derivation import key_fingerprint

pytestmark = pytest.mark.database

NEW_SECRET = "rotated-secret-key-abcdefghijklmnopqrstuvwxyz0123456789"
KEYS = {
    "openai": "sk-rotation-0123456789abcdefghij",
    "mem0": "m0-rotation0123456789abcdefgh",
}


async def _key_ids(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT key_id FROM tripsage_auth.provider_keys")
    finally:
        await conn.close()
    return {row["key_id"] for row in rows}


async def test_rotation_reencrypts_every_key_without_losing_one(
    database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    before = await start_suite(database_dsn, redis_url, tmp_path / "before")
    try:
        users = [await register(before.address("auth"), name) for name in ("ana", "bob")]
        async with httpx.AsyncClient(base_url=before.gateway_url, timeout=10) as http:
            for user in users:
                for service, key in KEYS.items():
                    reply = await http.put(
                        f"/api/v1/users/me/provider-keys/PROVIDER_SERVICE_{service.upper()}",
                        json={"apiKey": key},
                        headers=user.headers,
                    )
                    assert reply.status_code == 200, reply.text
        env = cli_env(before, tmp_path / "cli")
        old_secret = env["SECRET_KEY"]
    finally:
        await before.stop()
    assert await _key_ids(database_dsn) == {key_fingerprint(old_secret)}

    # Without the old key nothing can be decrypted: refused, and nothing changes.
    refused = run_cli({**env, "SECRET_KEY": NEW_SECRET}, "rotate-secret-key")
    assert refused.returncode != 0
    assert "SECRET_KEY_PREVIOUS" in refused.stderr
    assert await _key_ids(database_dsn) == {key_fingerprint(old_secret)}

    done = run_cli(
        {**env, "SECRET_KEY": NEW_SECRET, "SECRET_KEY_PREVIOUS": old_secret}, "rotate-secret-key"
    )
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 4 provider keys" in done.stdout
    assert await _key_ids(database_dsn) == {key_fingerprint(NEW_SECRET)}

    # Services started with only the new SECRET_KEY read every key.
    after = await start_suite(database_dsn, redis_url, tmp_path / "after", secret_key=NEW_SECRET)
    try:
        for user in users:
            for service, key in KEYS.items():
                assert await user_provider_key(after.settings, user.id, service) == key
    finally:
        await after.stop()
