# courtmesh — the front door. `make` lists the targets.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
E2E_CLIENT := e2e/client
FUZZTIME ?= 20s

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build courtd and courtctl into bin/
	$(GO) build -o bin/courtd ./cli/courtd
	$(GO) build -o bin/courtctl ./cli/courtctl

.PHONY: run
run: ## Run a whole mesh in one process (edges us :8080, asia :8081; home us)
	$(GO) run ./cli/courtd dev

$(E2E_CLIENT)/node_modules/.installed: $(E2E_CLIENT)/package-lock.json
	cd $(E2E_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: e2e-deps
e2e-deps: $(E2E_CLIENT)/node_modules/.installed ## Install the real socket.io-client for the end-to-end tests

.PHONY: test
test: e2e-deps ## All tests (unit, real Redis, WAN simulator, end-to-end, fuzz seeds) with -race
	$(GO) test -race -shuffle=on -count=1 -timeout 15m $(PKGS)

.PHONY: test-integration
test-integration: ## Only the tests against real Redis and Postgres
	$(GO) test -race -count=1 ./directory/... ./home/store/... ./home/outbox/...

.PHONY: test-wan
test-wan: ## Only the WAN simulator scenarios
	$(GO) test -race -count=1 -run 'WAN|Partition' ./mesh/... ./cli/...

.PHONY: test-e2e
test-e2e: e2e-deps ## Only the end-to-end tests (separate courtd processes, real socket.io-client)
	$(GO) test -race -count=1 ./e2e/...

.PHONY: fuzz
fuzz: ## Fuzz every decoder for FUZZTIME each (default 20s)
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./edge/internal/sio
	$(GO) test -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime $(FUZZTIME) ./mesh/wire
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) ./mesh/wire
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME) ./mesh/wire
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeResponse$$' -fuzztime $(FUZZTIME) ./mesh/wire
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./token

.PHONY: bench
bench: ## The benchmark suite, ours and the peer side by side, then the soak; writes docs/benchmarks.md
	scripts/bench.sh
	OUT=bench-out/soak scripts/soak.sh
	scripts/benchmarks-md.sh bench-out

.PHONY: soak
soak: ## Only the soak: two homes, two edges, whole sessions for SOAK_MINUTES (10); rewrites its section of docs/benchmarks.md
	OUT=bench-out/soak scripts/soak.sh
	scripts/benchmarks-md.sh --soak bench-out/soak

.PHONY: bench-quick
bench-quick: ## The same suite at small sizes (under two minutes); prints the tables
	@mkdir -p bench-out
	IDLE=1000 COUPLES=50 FAILOVER=1000 OUT=bench-out/quick scripts/bench.sh > bench-out/quick.log 2>&1 || { tail -40 bench-out/quick.log; exit 1; }
	bench-out/quick/bin/courtctl bench report --dir bench-out/quick

.PHONY: lint
lint: ## gofmt, go vet, and golangci-lint (with the depguard import rules) when installed
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	@if command -v golangci-lint >/dev/null; then golangci-lint run; else echo "golangci-lint not installed: skipped"; fi

.PHONY: tidy-check
tidy-check: ## Fail if go.mod/go.sum are not tidy
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
