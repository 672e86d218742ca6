"""Settings: operator variable names, production refusals, shared dev secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripsage_core.config import ConfigurationError, Settings, load_settings

STRONG = "k8Jq2vN0pXz7LmR4tY6wB1cD3fG5hA9sE"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ENVIRONMENT",
        "SECRET_KEY",
        "DATABASE_JWT_SECRET",
        "POSTGRES_URL",
        "REDIS_URL",
        "DEBUG",
        "CORS_ORIGINS",
        "PORT",
        "TRIPSAGE_DATA_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


def test_reads_the_operator_reference_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("TRIPS_SERVICE_ADDR", "trips:6000")
    settings = load_settings(_env_file=None, tripsage_data_dir=tmp_path)
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-test"
    assert "sk-test" not in repr(settings)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.otel_exporter_otlp_endpoint == "http://collector:4317"
    assert settings.listen_port("trips") == 6000
    assert settings.listen_port("auth") == 50051
    assert settings.listen_port("gateway") == 8000
    monkeypatch.setenv("PORT", "9999")
    assert Settings(_env_file=None).listen_port("trips") == 9999


def test_production_names_every_problem_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None, environment="production", secret_key="changeme", debug=True)
    message = str(caught.value)
    assert "SECRET_KEY is a well-known or low-entropy value" in message
    assert "DATABASE_JWT_SECRET is required in production" in message
    assert "POSTGRES_URL is required in production" in message
    assert "REDIS_URL is required in production" in message
    assert "DEBUG must be false in production" in message
    # The development notifier would log live reset links.
    assert "NOTIFIER_URL is required in production (or PASSWORD_RESET_ENABLED=false)" in message


def test_production_runs_without_a_notifier_only_with_password_reset_off() -> None:
    complete = {
        "_env_file": None,
        "environment": "production",
        "secret_key": STRONG,
        "database_jwt_secret": STRONG[::-1],
        "postgres_url": "postgresql://db/tripsage",
        "redis_url": "redis://cache:6379/0",
    }
    with pytest.raises(ConfigurationError, match="NOTIFIER_URL is required"):
        load_settings(**complete, notifier_url="")
    assert not load_settings(**complete, password_reset_enabled=False).password_reset_enabled
    assert load_settings(**complete, notifier_url="smtp://mail:25").notifier_url is not None


def test_production_accepts_a_complete_configuration() -> None:
    settings = load_settings(
        _env_file=None,
        environment="production",
        secret_key=STRONG,
        database_jwt_secret=STRONG[::-1],
        postgres_url="postgresql://db/tripsage",
        redis_url="redis://cache:6379/0",
        notifier_url="smtps://user:pass@mail.example.com",
    )
    assert settings.is_production


def test_dev_secrets_are_generated_once_and_shared(tmp_path: Path) -> None:
    first = load_settings(_env_file=None, tripsage_data_dir=tmp_path)
    second = load_settings(_env_file=None, tripsage_data_dir=tmp_path)
    assert first.secret_key is not None
    assert first.database_jwt_secret is not None
    assert second.database_jwt_secret is not None
    assert len(first.database_jwt_secret.get_secret_value()) >= 32
    assert first.database_jwt_secret == second.database_jwt_secret
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o777 == 0o600
    other = load_settings(_env_file=None, tripsage_data_dir=tmp_path / "elsewhere")
    assert other.database_jwt_secret != first.database_jwt_secret


def test_an_empty_database_or_cache_url_means_unset_so_the_embedded_servers_run() -> None:
    settings = load_settings(_env_file=None, environment="testing", postgres_url="", redis_url="")
    assert settings.postgres_url is None
    assert settings.redis_url is None
