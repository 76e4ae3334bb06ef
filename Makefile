# medseal: the two commands README.md promises, and a few helpers.
#   make demo   canonicalize, sign and verify a FHIR Patient through the CLI and the C example
#   make test   every test: Rust unit/integration/vector tests, header drift, C ABI tests
#               under ASAN+UBSAN and valgrind, the C example
CARGO ?= cargo
JOBS ?= -j2

.PHONY: all build test test-rust test-c demo headers bench lint clean

all: build

build:
	$(CARGO) build $(JOBS) --workspace

test: test-rust test-c

test-rust:
	$(CARGO) test $(JOBS) --workspace

test-c:
	bash tests/c/run.sh

demo:
	bash examples/demo.sh

# Regenerates include/medseal.h and include/medseal_ffi.h with the pinned cbindgen.
headers:
	MEDSEAL_BLESS=1 $(CARGO) test $(JOBS) --test abi

# Criterion benchmarks; each prints "RATIO ..." lines against a reference run in the same process.
bench:
	$(CARGO) bench $(JOBS) --bench canon --bench sign

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(JOBS) --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf build
