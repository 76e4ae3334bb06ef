#!/usr/bin/env bash
# Tests of the Python binding (package `medseal`, bindings/python). From anywhere:
#
#   bash bindings/python/run-tests.sh [PYTEST_ARGS...]
#   bash bindings/python/run-tests.sh --install-only     (steps 1-3 only: what `make bindings` runs)
#
# 1. builds the library (`cargo build --release --lib -j2`) and the CLI the hub tests run
#    (`cargo build -j2 -p medseal-cli`), honouring CARGO_TARGET_DIR (MEDSEAL_SKIP_CARGO=1 skips both);
# 2. prepares the venv build/venv-binding (tools pinned in bindings/python/requirements-dev.txt,
#    reinstalled only when that file changes);
# 3. checks the package's syntax against Python 3.8 (ast feature_version) and installs it with
#    `pip install bindings/python` (its setup.py runs cargo, a no-op after step 1);
# 4. runs `mypy --strict` on the package;
# 5. builds the wheel (`pip wheel`), repairs it to a manylinux tag with auditwheel when Debian's
#    patchelf is there (scripts/install-deps.sh installs it), and hands it to the tests;
# 6. runs pytest over bindings/python/tests: every public function's success and error paths,
#    PKCS#11 on a SoftHSM2 token, delivery to the reference hub on 127.0.0.1, 8 threads, the
#    100,000-round memory check, and the wheel installed into a fresh venv outside the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BINDING=bindings/python
VENV=build/venv-binding
REQUIREMENTS=$BINDING/requirements-dev.txt
STAMP=$VENV/.medseal-requirements
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac

section() { printf '\n==> %s\n' "$*"; }

section "library and CLI"
if [ "${MEDSEAL_SKIP_CARGO:-0}" = 1 ]; then
    echo "MEDSEAL_SKIP_CARGO=1: using $TARGET/release/libmedseal.so and $TARGET/debug/medseal as they are"
else
    cargo build --release --lib -j2
    cargo build -j2 -p medseal-cli
fi
for file in "$TARGET/release/libmedseal.so" "$TARGET/debug/medseal"; do
    [ -f "$file" ] || { echo "error: $file is missing (run without MEDSEAL_SKIP_CARGO)" >&2; exit 1; }
done
export MEDSEAL_CLI=$TARGET/debug/medseal

section "venv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p build
    python3 -m venv "$VENV"
fi
if ! cmp -s "$REQUIREMENTS" "$STAMP"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$STAMP"
fi
PY=$VENV/bin/python
"$PY" --version

section "Python 3.8 syntax"
"$PY" - "$BINDING/src/medseal" "$BINDING/tests" "$BINDING/setup.py" <<'PYEOF'
import ast, pathlib, sys
files = []
for arg in sys.argv[1:]:
    path = pathlib.Path(arg)
    files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
for f in files:
    ast.parse(f.read_text(encoding="utf-8"), str(f), feature_version=(3, 8))
print("%d files parse as Python 3.8" % len(files))
PYEOF

section "pip install $BINDING"
# pip builds in the tree: start from clean build directories (they are removed again below).
rm -rf "$BINDING/build" "$BINDING/src/medseal.egg-info"
# Without MEDSEAL_LIB: the package's own build step runs cargo and takes the library it built.
env -u MEDSEAL_LIB "$PY" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
    --force-reinstall "./$BINDING"
env -u MEDSEAL_LIB "$PY" -c 'import medseal; print("installed medseal", medseal.__version__, "from", medseal.LIBRARY_PATH)'

# `make bindings` (via `run-tests.sh --install-only`) stops here: the package is installed in $VENV.
if [ "${1:-}" = "--install-only" ]; then
    rm -rf "$BINDING/build" "$BINDING/src/medseal.egg-info" # pip's in-tree build leftovers
    exit 0
fi

section "mypy --strict"
(cd "$BINDING" && "$ROOT/$PY" -m mypy --strict --no-incremental src/medseal)

section "wheel"
WHEELS=build/python-wheel
rm -rf "$WHEELS" "$BINDING/build" "$BINDING/src/medseal.egg-info"
env -u MEDSEAL_LIB "$PY" -m pip wheel --quiet --disable-pip-version-check --no-build-isolation --no-deps \
    -w "$WHEELS" "./$BINDING"
WHEEL=$(ls "$WHEELS"/medseal-*.whl)
echo "built $WHEEL"
if command -v patchelf >/dev/null 2>&1; then
    "$VENV/bin/auditwheel" show "$WHEEL" | tr '\n' ' ' | sed 's/  */ /g'; echo
    # The tag auditwheel reads from the library's symbol versions (e.g. manylinux_2_34_x86_64).
    PLAT=$("$VENV/bin/auditwheel" show "$WHEEL" | tr '\n' ' ' | grep -oE 'manylinux_[0-9]+_[0-9]+_[a-z0-9_]+' | head -n 1)
    "$VENV/bin/auditwheel" repair --plat "$PLAT" -w "$WHEELS/repaired" "$WHEEL"
    WHEEL=$(ls "$WHEELS"/repaired/medseal-*.whl)
    echo "repaired: $WHEEL"
else
    echo "patchelf not found: testing the linux wheel as built (bash scripts/install-deps.sh installs patchelf)"
fi
export MEDSEAL_TEST_WHEEL=$ROOT/$WHEEL

# pip's in-tree builds leave these beside the sources.
rm -rf "$BINDING/build" "$BINDING/src/medseal.egg-info"

section "pytest"
export PYTHONDONTWRITEBYTECODE=1
cd "$BINDING"
env -u MEDSEAL_LIB "$ROOT/$PY" -m pytest -p no:cacheprovider -q -rfE tests "$@"
