# Copresence — `make demo` runs it, `make test` passes every test.
# Both install what is missing first (Debian/Ubuntu; root or sudo).

CARGO ?= cargo
DEMO_LISTEN ?= 127.0.0.1:7878
DEMO_DATA ?= .copresence-demo

.PHONY: all deps build test lint demo clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --workspace --bins

test: build
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

demo: build
	@DEMO_LISTEN=$(DEMO_LISTEN) DEMO_DATA=$(DEMO_DATA) scripts/demo.sh

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DATA)
