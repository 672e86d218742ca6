#!/usr/bin/env bash
# Lint the gRPC contract with buf (STANDARD + COMMENTS, see buf.yaml).
#
#   bash scripts/lint_protos.sh
#
# The Buf registry is not reachable, so buf cannot resolve google/api and
# google/type itself: grpcio-tools builds a descriptor-set image (imports and
# source info included) and buf lints only our tripsage/* files in it. buf
# comes from the npm package @bufbuild/buf pinned in package.json /
# package-lock.json (installed with `npm ci` on first use). Exits non-zero on
# any finding.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/buf ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
buf=node_modules/.bin/buf

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

uv run python scripts/gen_protos.py --descriptor-set "$tmp/tripsage.binpb"
"$buf" lint "$tmp/tripsage.binpb#format=binpb" --config buf.yaml --path tripsage
"$buf" format --diff --exit-code protos

echo "protos: buf lint and buf format clean ($("$buf" --version))"
