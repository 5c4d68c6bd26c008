# Copresence — `make demo` runs it, `make test` passes every test.
# Both install what is missing first (Debian/Ubuntu; root or sudo).

CARGO ?= cargo
DEMO_LISTEN ?= 127.0.0.1:7878
DEMO_DATA ?= .copresence-demo
# tray: the tray app (the CLI watcher when there is no display); cli: the CLI watcher.
DEMO_UI ?= tray

.PHONY: all deps ui build test test-desktop lint lint-windows fuzz demo demo-cluster package windows clean bench bench-tray

all: build

deps:
	@scripts/install-deps.sh

# The popup's bundle, embedded in the tray app when it compiles.
ui: deps
	cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build

build: ui
	$(CARGO) build --workspace --bins

test: build
	cd ui && npm test
	# The TypeScript client (packages/client): the golden files it shares with the Rust client,
	# and the client against the service just built (found where cargo put it).
	cd packages/client && npm ci --no-audit --no-fund --loglevel=error && \
	  COPRESENCE_BIN_DIR="$${COPRESENCE_BIN_DIR:-$${CARGO_TARGET_DIR:-$(CURDIR)/target}/debug}" npm test
	# The VS Code extension (extensions/vscode): its path → page rules, both bundles build, and
	# the packed extension in VS Code for the Web (code-server, installed once into
	# ~/.cache/copresence-test by scripts/code-server.sh) in Chromium against the service.
	cd extensions/vscode && npm ci --no-audit --no-fund --loglevel=error && npm test && \
	  COPRESENCE_BIN_DIR="$${COPRESENCE_BIN_DIR:-$${CARGO_TARGET_DIR:-$(CURDIR)/target}/debug}" npm run test:e2e
	# The browser extension (extensions/browser): both builds, web-ext lint, and the extension in
	# headless Chromium with a studio on loopback, against the service.
	cd extensions/browser && npm ci --no-audit --no-fund --loglevel=error && \
	  COPRESENCE_BIN_DIR="$${COPRESENCE_BIN_DIR:-$${CARGO_TARGET_DIR:-$(CURDIR)/target}/debug}" npm test
	$(CARGO) test --workspace
	# The presence-service suite again, against two nodes on PostgreSQL and Redis.
	COPRESENCE_TEST_CLUSTER=1 $(CARGO) test -p copresence-tests --test service
	# The tray app, the client and the CLI compile and lint for Windows (docs/desktop.md).
	scripts/windows-lint.sh
	# Every fuzz target for a minute, from its committed corpus (fuzz/README.md).
	scripts/fuzz.sh 60

# Fuzz what strangers control: `make fuzz FUZZ_SECONDS=3600 FUZZ_TARGETS=org_file` for a long hunt.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Only the tray app end to end (Xvfb, D-Bus, dunst, WebDriver); `make test` runs it too.
test-desktop: build
	$(CARGO) test -p copresence-tests --test desktop -- --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# clippy -D warnings for Windows (x86_64-pc-windows-gnu), with Debian's cross toolchain; `make
# test` runs it too.
lint-windows: ui
	scripts/windows-lint.sh

# The presence service's benchmarks (release build): publish → subscriber fan-out latency and CPU
# per delivered event, server memory per idle subscriber, and heartbeat ingest rate and latency,
# each against a bare SSE floor measured in the same run. Prints a table and writes
# BENCHMARKS.json and its section of BENCHMARKS.md. Takes several minutes.
bench:
	$(CARGO) build --release -p copresence-server -p copresence-bench
	target/release/copresence-bench --json BENCHMARKS.json --markdown BENCHMARKS.md

# The tray app's join → notification latency, idle memory and CPU against a bare Tauri tray
# app, under Xvfb/D-Bus/dunst (release builds; about 4 minutes): prints a table, writes
# BENCHMARKS-tray.json and its section of BENCHMARKS.md.
bench-tray: ui
	$(CARGO) build --release -p copresence-server -p copresence-cli -p copresence-tray --bins --example bare-tray
	$(CARGO) bench -p copresence-tests --bench tray

demo: build
	@DEMO_LISTEN=$(DEMO_LISTEN) DEMO_DATA=$(DEMO_DATA) DEMO_UI=$(DEMO_UI) scripts/demo.sh

# Three nodes on a local PostgreSQL and Redis (installed by `make deps`), the demo makers shared
# out over them, and the tray app on the first node.
demo-cluster: build
	@scripts/demo-cluster.sh

# A .deb of the tray app (the Tauri CLI comes from npm), the VS Code extension's
# extensions/vscode/dist/copresence.vsix, and the browser extension for Chromium
# (extensions/browser/dist/copresence-chromium.zip) and Firefox (…/copresence-firefox.xpi).
package: ui
	npx --yes @tauri-apps/cli@2 build --bundles deb
	cd packages/client && npm ci --no-audit --no-fund --loglevel=error && npm run build
	cd extensions/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run package
	cd extensions/browser && npm ci --no-audit --no-fund --loglevel=error && npm run package

# The tray app and the CLI for Windows, released as target/copresence-windows-x86_64.zip
# (cross-built with Debian's toolchain and MinGW-w64, which it installs; docs/desktop.md).
windows: ui
	scripts/windows.sh

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DATA) .copresence-cluster ui/dist packages/client/dist packages/client/dist-test \
	  extensions/vscode/dist extensions/vscode/dist-test extensions/browser/dist extensions/browser/dist-test
