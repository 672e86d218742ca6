"""The committed generated code (tripsage/<pkg>/v1/) matches the protos.

Regenerates everything into a temporary directory with the same command the
developers run (scripts/gen_protos.py) and compares byte for byte.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen_protos() -> ModuleType:
    path = REPO_ROOT / "scripts" / "gen_protos.py"
    spec = importlib.util.spec_from_file_location("gen_protos", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_protos", module)
    spec.loader.exec_module(module)
    return module


def test_generated_code_matches_protos(gen_protos: ModuleType) -> None:
    problems = gen_protos.drift(REPO_ROOT)
    assert not problems, (
        "generated code drifted from protos/; run `uv run python scripts/gen_protos.py`:\n"
        + "\n".join(problems)
    )


def test_every_proto_has_importable_generated_modules(gen_protos: ModuleType) -> None:
    for proto in gen_protos.proto_files():
        rel = proto.relative_to(gen_protos.PROTO_ROOT).with_suffix("")
        module_name = ".".join(rel.parts) + "_pb2"
        module = importlib.import_module(module_name)
        assert module.DESCRIPTOR.name == rel.as_posix() + ".proto"
        if module.DESCRIPTOR.services_by_name:
            importlib.import_module(module_name + "_grpc")
