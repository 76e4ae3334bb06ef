# medseal: the two commands README.md promises, and a few helpers.
#   make demo   canonicalize, sign, verify (keys and a trust list), seal and open a FHIR Patient
#               through the CLI and the C examples
#   make test   every test: lint (rustfmt, clippy on all targets, the fuzz crate too), Rust
#               unit/integration/vector tests against their test-count floors (SoftHSM2 tokens,
#               generated PKIs), header drift, C ABI tests under ASAN+UBSAN and valgrind, the C
#               examples, interop with PyCA and joserfc (Python venv), the Python, .NET, PHP and Java
#               bindings, the interop driver matrix (C, Python, Java, C#, PHP; PyCA, joserfc) and a
#               fuzz smoke, and schemathesis against the live hub (hub/openapi.yaml); `deps` first
#               installs missing Debian packages
CARGO ?= cargo
JOBS ?= -j2

.PHONY: all build deps test test-rust test-c test-python test-bindings test-fuzz test-api demo headers bench bench-audit bench-seal bench-submit bench-wipe fuzz lint clean \
	bindings bench-python bench-dotnet bench-php bench-java

all: build

build:
	$(CARGO) build $(JOBS) --workspace

test: deps lint test-rust test-c test-python test-bindings test-fuzz test-api

# Installs (only when missing) the Debian packages the tests need, SoftHSM2 among them.
deps:
	bash scripts/install-deps.sh

# Every Rust test binary of the workspace (unit, integration and doc tests of each crate), then a
# check that each ran at least its committed floor of tests (tests/floors.txt; the checker's own
# failure paths are tested first on canned cargo output).
test-rust:
	python3 scripts/test-floors.py --self-test
	CARGO="$(CARGO)" JOBS="$(JOBS)" python3 scripts/test-floors.py

test-c:
	bash tests/c/run.sh

# Interop with PyCA cryptography (HPKE, Ed25519) against the real medseal binary.
test-python: build
	bash tests/python/run.sh

# The Python binding (bindings/python/run-tests.sh: mypy --strict, pytest, the wheel installed into a
# fresh venv), then the interop drivers of every language against each other and against PyCA and
# joserfc (tests/interop/run.sh, which runs `make bindings` first). One after the other: both use
# the venv build/venv-binding.
test-bindings:
	bash bindings/python/run-tests.sh
	bash bindings/dotnet/run-tests.sh
	bash bindings/php/run-tests.sh
	bash bindings/java/run-tests.sh
	bash tests/interop/run.sh

# hub/openapi.yaml against the live reference hub over mutual TLS: schemathesis (pinned in
# hub/tests/schemathesis/requirements.txt, venv build/venv-schemathesis) with every check on and
# the document's links followed, a fixed seed and a bounded number of examples.
test-api:
	bash hub/tests/schemathesis/run.sh

demo: deps
	bash examples/demo.sh

# Regenerates include/medseal.h and include/medseal_ffi.h with the pinned cbindgen.
headers:
	MEDSEAL_BLESS=1 $(CARGO) test $(JOBS) --test abi

# Criterion benchmarks; each prints "RATIO ..." lines against a reference run in the same process.
bench:
	$(CARGO) bench $(JOBS) --bench canon --bench sign --bench wipe

# The cost of wiping secret buffers on free ("COST" lines: medseal's wipe and the zeroize crate,
# each next to the same buffer freed without wiping, measured in the same run).
bench-wipe:
	$(CARGO) bench $(JOBS) --bench wipe

# Every binding and interop driver (../shared/INTEROP.md), against the release library where
# cargo puts it (${CARGO_TARGET_DIR:-target}/release): the C driver build/interop/interop-c (run
# as examples/c/interop) and the Python package installed into build/venv-binding (what
# examples/python/interop and bindings/python/run-tests.sh use).
MEDSEAL_RELEASE_DIR = $(abspath $(or $(CARGO_TARGET_DIR),target)/release)
bindings:
	$(CARGO) build $(JOBS) --release --lib
	mkdir -p build/interop
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples/c/interop.c \
		-L$(MEDSEAL_RELEASE_DIR) -lmedseal -Wl,-rpath,$(MEDSEAL_RELEASE_DIR) -o build/interop/interop-c
	bash bindings/python/run-tests.sh --install-only
	bash bindings/dotnet/build.sh
	bash bindings/php/run-tests.sh --install-only
	bash bindings/java/run-tests.sh --build-only

# The Python binding vs rfc8785, joserfc and PyCA's hpke.Suite, in one Python process
# ("RATIO name medseal/reference = X (goal >= G)" lines; benches/python_bench.py says what each measures).
bench-python: bindings
	bash tests/interop/run.sh --venv-only
	build/venv-binding/bin/python benches/python_bench.py

# The .NET binding's per-call overhead against the same work from C (sign a 1 KB record, open a
# 1 KB envelope), on Mono and on the .NET Core 3.1 runtime ("RATIO ... (goal <= 1.1)" lines;
# bindings/dotnet/bench/bench.sh says what each measures).
bench-dotnet: bindings
	bash bindings/dotnet/bench/bench.sh

# The PHP binding: Signer::sign of a 1 KB record vs sodium_crypto_sign_detached(json_encode(...)),
# and the per-call FFI overhead against the same signing from C ("RATIO ... (goal >= 0.8)" and
# "OVERHEAD" lines; bindings/php/bench/bench.php says what each measures).
bench-php: bindings
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iinclude bindings/php/bench/sign_c.c \
		-L$(MEDSEAL_RELEASE_DIR) -lmedseal -Wl,-rpath,$(MEDSEAL_RELEASE_DIR) -o build/php-bench-sign-c
	MEDSEAL_LIB=$(MEDSEAL_RELEASE_DIR)/libmedseal.so php bindings/php/bench/bench.php build/php-bench-sign-c

# The Java binding, one JVM: Signer.sign of a 1 KB record vs Nimbus JOSE+JWT over an RFC 8785
# library (EdDSA, ES256; "RATIO ... (goal >= 1.5)"), and its per-call cost against the same signing
# from C ("RATIO binding-overhead-sign-*"); bindings/java/bench/SignBench.java says what each measures.
bench-java: bindings
	bash bindings/java/bench/bench.sh

# Seal/open vs PyCA's hpke.Suite in one Python process (medseal through its C ABI).
bench-seal:
	$(CARGO) build $(JOBS) --release --lib
	bash tests/python/run.sh --venv-only
	build/venv/bin/python benches/seal_vs_pyca.py target/release/libmedseal.so
	@echo "-- again with glibc's trim/mmap thresholds raised (fewer page faults for megabyte buffers, both libraries):"
	MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=100000000 build/venv/bin/python benches/seal_vs_pyca.py target/release/libmedseal.so

# Secure submission end to end: enqueue + deliver to the reference hub on 127.0.0.1 (mutual TLS,
# synchronous=FULL, batches of 500) next to the raw SQLite commit rate of this machine, measured
# in the same run ("RATE", "RATIO" and "GOAL" lines; how to read them: benches/submit.rs).
# MEDSEAL_BENCH_RECORDS (default 20000) and MEDSEAL_BENCH_BATCH (default 500) change the sizes.
bench-submit:
	$(CARGO) bench $(JOBS) --bench submit

# The auditor's toolkit: records::check of a bundle of 100,000 Ed25519 records (made once by
# audit/examples/audit_bench.rs, kept in build/bench-audit/) on one core and on all, next to ring's
# raw Ed25519 verify rate measured in the same run, and the peak memory with 10,000 and 100,000
# records ("RATIO" and "MEMORY" lines; how to read them: benches/audit.sh).
# MEDSEAL_BENCH_RECORDS (default 100000) changes the size.
bench-audit:
	CARGO="$(CARGO)" JOBS="$(JOBS)" bash benches/audit.sh

# Fuzzes one parser for a bounded time: FUZZ_SECONDS (default 60), FUZZ_TARGET envelope
# (default), canon, keys, jws, x509, trust, ledger, or all (each target for FUZZ_SECONDS).
fuzz:
	bash fuzz/run.sh $(or $(FUZZ_SECONDS),60) $(or $(FUZZ_TARGET),envelope)

# Formatting and clippy over every target of the workspace (benchmarks, examples and tests
# included, so none of them rots uncompiled), then the same for the fuzz crate (a workspace of
# its own). rustup's default profile has both tools; they are added when missing.
lint:
	$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(JOBS) --workspace --all-targets -- -D warnings
	cd fuzz && $(CARGO) fmt -- --check && $(CARGO) clippy $(JOBS) --all-targets --no-default-features -- -D warnings

# The fuzz crate's own tests (its seeds do what they say), then a smoke run of every libFuzzer
# target: FUZZ_SMOKE_RUNS (default 5000) mutations each from a fixed seed, repeatable, so that a
# target that no longer builds or starts fails `make test` (and a failure is not luck). Real
# fuzzing, with random seeds for a time, is `make fuzz`.
test-fuzz:
	cd fuzz && $(CARGO) test $(JOBS) --no-default-features
	FUZZ_RUNS=$(or $(FUZZ_SMOKE_RUNS),5000) bash fuzz/run.sh 3 all

clean:
	$(CARGO) clean
	rm -rf build
