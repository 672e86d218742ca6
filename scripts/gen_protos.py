"""Regenerate the Python code of the gRPC contract from protos/.

    uv run python scripts/gen_protos.py            # rewrite tripsage/<pkg>/v1/
    uv run python scripts/gen_protos.py --check    # exit 1 if the committed code drifted
    uv run python scripts/gen_protos.py --out DIR  # generate under DIR instead
    uv run python scripts/gen_protos.py --descriptor-set FILE   # image for buf lint

Runs grpcio-tools' bundled protoc with the mypy-protobuf plugins, so the
output depends only on the locked versions of grpcio-tools, mypy-protobuf and
googleapis-common-protos. For every protos/tripsage/<pkg>/v1/<name>.proto it
writes tripsage/<pkg>/v1/<name>_pb2.py and .pyi, plus <name>_pb2_grpc.py and
.pyi when the file declares a service, and the package __init__.py files; and
tripsage/contract.binpb, the contract's descriptors with their comments (the
generated modules carry none), read by tripsage_core.proto_docs.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib
import importlib.util
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "protos"


def _module_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed; run `uv sync`")
    return Path(spec.origin).resolve().parent


# Where the googleapis-common-protos wheel puts google/api/*.proto and
# google/type/*.proto (site-packages).
GOOGLEAPIS_INCLUDE = _module_dir("google.api.annotations_pb2").parents[1]
# The well-known types (google/protobuf/*.proto) bundled with grpcio-tools.
WELL_KNOWN_INCLUDE = _module_dir("grpc_tools") / "_proto"
BIN_DIR = Path(sys.executable).parent

GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")
# Our files' descriptors with source info (comments), without the imports.
CONTRACT_DOCS = Path("tripsage/contract.binpb")
SERVICE_RE = re.compile(r"^\s*service\s+\w+\s*\{", re.MULTILINE)


def proto_files() -> list[Path]:
    """Every .proto file of the contract, in a stable order."""
    return sorted(PROTO_ROOT.glob("tripsage/**/*.proto"))


def package_dirs() -> list[Path]:
    """The proto directories (relative to protos/), e.g. tripsage/auth/v1."""
    return sorted({p.parent.relative_to(PROTO_ROOT) for p in proto_files()})


def generated_files(root: Path) -> list[Path]:
    """Every generated file under root (relative paths), in a stable order."""
    found: set[Path] = set()
    for pkg_dir in package_dirs():
        out_dir = root / pkg_dir
        if not out_dir.is_dir():
            continue
        for path in out_dir.iterdir():
            if path.name == "__init__.py" or path.name.endswith(GENERATED_SUFFIXES):
                found.add(path.relative_to(root))
        # The __init__.py of the intermediate package, e.g. tripsage/auth/.
        parent_init = out_dir.parent / "__init__.py"
        if parent_init.exists():
            found.add(parent_init.relative_to(root))
    if (root / CONTRACT_DOCS).exists():
        found.add(CONTRACT_DOCS)
    return sorted(found)


def _include_args() -> list[str]:
    return [
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={WELL_KNOWN_INCLUDE}",
        f"--proto_path={GOOGLEAPIS_INCLUDE}",
    ]


def _plugin(name: str) -> str:
    path = BIN_DIR / name
    if not path.exists():
        raise SystemExit(f"{name} not found next to {sys.executable}; run `uv sync`")
    return f"--plugin={name}={path}"


def _protoc(args: list[str]) -> None:
    # Imported by name: grpcio-tools ships no type information.
    protoc = importlib.import_module("grpc_tools.protoc")
    code = protoc.main(["grpc_tools.protoc", *_include_args(), *args])
    if code != 0:
        raise SystemExit(f"protoc failed (exit {code})")


def generate(out_root: Path) -> None:
    """Write the generated code for every proto under out_root."""
    files = proto_files()
    if not files:
        raise SystemExit(f"no .proto files under {PROTO_ROOT}")
    # Start from clean package directories so a removed proto leaves nothing.
    for rel in generated_files(out_root):
        if rel.name.endswith(GENERATED_SUFFIXES):
            (out_root / rel).unlink()
    for pkg_dir in package_dirs():
        (out_root / pkg_dir).mkdir(parents=True, exist_ok=True)

    sources = [str(p) for p in files]
    _protoc([f"--descriptor_set_out={out_root / CONTRACT_DOCS}", "--include_source_info", *sources])
    _protoc(
        [
            f"--python_out={out_root}",
            f"--mypy_out=quiet:{out_root}",
            _plugin("protoc-gen-mypy"),
            *sources,
        ]
    )
    with_services = [str(p) for p in files if SERVICE_RE.search(p.read_text(encoding="utf-8"))]
    if with_services:
        _protoc(
            [
                f"--grpc_python_out={out_root}",
                f"--mypy_grpc_out=quiet:{out_root}",
                _plugin("protoc-gen-mypy_grpc"),
                *with_services,
            ]
        )

    # Package markers so tripsage.<pkg>.v1 imports; tripsage/__init__.py is
    # hand-written and left alone.
    for pkg_dir in package_dirs():
        for parent in [pkg_dir, *pkg_dir.parents]:
            if parent in (Path("."), Path("tripsage")):
                continue
            init = out_root / parent / "__init__.py"
            if not init.exists():
                init.write_text("", encoding="utf-8")


def write_descriptor_set(path: Path) -> None:
    """Write a FileDescriptorSet image (with imports and source info)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _protoc(
        [
            f"--descriptor_set_out={path}",
            "--include_imports",
            "--include_source_info",
            *[str(p) for p in proto_files()],
        ]
    )


def drift(committed_root: Path) -> list[str]:
    """Differences between the code under committed_root and fresh output."""
    with tempfile.TemporaryDirectory(prefix="tripsage-protos-") as tmp:
        fresh_root = Path(tmp)
        generate(fresh_root)
        fresh = set(generated_files(fresh_root))
        committed = set(generated_files(committed_root))
        problems = [f"missing: {p}" for p in sorted(fresh - committed)]
        problems += [f"stale (no proto generates it): {p}" for p in sorted(committed - fresh)]
        problems += [
            f"differs: {p}"
            for p in sorted(fresh & committed)
            if not filecmp.cmp(fresh_root / p, committed_root / p, shallow=False)
        ]
        return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if the committed code drifted")
    mode.add_argument("--out", type=Path, help="generate under this directory instead of the repo")
    mode.add_argument(
        "--descriptor-set", type=Path, help="write a descriptor-set image here and stop"
    )
    args = parser.parse_args(argv)

    if args.descriptor_set:
        write_descriptor_set(args.descriptor_set)
        return 0
    if args.check:
        problems = drift(REPO_ROOT)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(
                "generated code is stale: run `uv run python scripts/gen_protos.py`",
                file=sys.stderr,
            )
            return 1
        return 0
    out_root = args.out.resolve() if args.out else REPO_ROOT
    generate(out_root)
    print(f"generated {len(generated_files(out_root))} files from {len(proto_files())} protos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
