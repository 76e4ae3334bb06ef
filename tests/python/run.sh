#!/usr/bin/env bash
# Interop tests of the medseal binary against PyCA cryptography (HPKE, Ed25519).
#   bash tests/python/run.sh [PYTEST_ARGS...]     from anywhere; needs `cargo build` first
#   bash tests/python/run.sh --venv-only          only prepare build/venv (for make bench-seal)
# Creates a virtualenv in build/venv on first use and reinstalls only when requirements.txt
# changes. MEDSEAL_BIN picks the binary (default target/debug/medseal).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=build/venv
requirements=tests/python/requirements.txt
stamp="$venv/.medseal-requirements"

if [ ! -x "$venv/bin/python" ]; then
    mkdir -p build
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi

if [ "${1:-}" = "--venv-only" ]; then
    exit 0
fi

export PYTHONDONTWRITEBYTECODE=1
# No cache directory in the tree; -rfE lists failures and errors in the summary.
# With test files or directories among the arguments, only those run; otherwise all of tests/python.
targets=(tests/python)
for arg in "$@"; do
    if [ -e "${arg%%::*}" ]; then
        targets=()
        break
    fi
done
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q -rfE "${targets[@]}" "$@"
