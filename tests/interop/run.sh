#!/usr/bin/env bash
# The interop tests, from anywhere (`make test` calls it):
#
#   bash tests/interop/run.sh [PYTEST_ARGS...]
#   bash tests/interop/run.sh --venv-only        (only step 2: for make bench-python)
#
# 1. `make bindings`: the release library, the C driver (examples/c/interop) and the Python
#    binding installed into build/venv-binding (examples/python/interop); and the medseal CLI
#    (the reference hub of the outbox example). MEDSEAL_SKIP_BUILD=1 skips this step;
# 2. installs the independent implementations (tests/interop/requirements.txt: PyCA
#    cryptography, joserfc, rfc8785) into that venv, again only when the file changes;
# 3. checks the smoke scenario's expected outputs without medseal (tests/smoke/check_expected.py);
# 4. runs pytest over tests/interop with the venv first on PATH: the driver matrix
#    (test_matrix.py) and the Python examples (test_examples.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
VENV=build/venv-binding
REQUIREMENTS=tests/interop/requirements.txt
STAMP=$VENV/.medseal-interop-requirements

if [ "${1:-}" != "--venv-only" ] && [ "${MEDSEAL_SKIP_BUILD:-0}" != 1 ]; then
    make --no-print-directory bindings
    cargo build -j2 -p medseal-cli
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "error: $VENV is missing: run make bindings (or unset MEDSEAL_SKIP_BUILD)" >&2
    exit 1
fi
if ! cmp -s "$REQUIREMENTS" "$STAMP"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$STAMP"
fi
if [ "${1:-}" = "--venv-only" ]; then
    exit 0
fi

export PATH="$ROOT/$VENV/bin:$PATH" PYTHONDONTWRITEBYTECODE=1
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
export MEDSEAL_CLI=${MEDSEAL_CLI:-$TARGET/debug/medseal}

python tests/smoke/check_expected.py
exec python -m pytest -p no:cacheprovider -q -rfE tests/interop "$@"
