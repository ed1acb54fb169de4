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
	$(GO) test -race -count=1 -run 'WAN|Partition|TCPProxy' ./mesh/... ./cli/...

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
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRows$$' -fuzztime $(FUZZTIME) ./appdata
	$(GO) test -run '^$$' -fuzz '^FuzzClaims$$' -fuzztime $(FUZZTIME) ./mesh/pki
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./home/outbox/signature
	$(GO) test -run '^$$' -fuzz '^FuzzTokenExpiry$$' -fuzztime $(FUZZTIME) ./edge
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime $(FUZZTIME) ./home/court

.PHONY: bench
bench: ## The benchmark suite, ours and the peer side by side, then the soak; writes docs/benchmarks.md
	scripts/bench.sh
	OUT=bench-out/soak scripts/soak.sh
	scripts/benchmarks-md.sh bench-out

.PHONY: soak
soak: ## Only the soak: two homes, two edges, whole sessions for SOAK_MINUTES (10); rewrites its section of docs/benchmarks.md
	OUT=bench-out/soak scripts/soak.sh
	scripts/benchmarks-md.sh --soak bench-out/soak

.PHONY: bench-asia
bench-asia: ## Only the asia rows: asia couples with the WAN on every path, before and after the replica, beside us couples; rewrites their section of docs/benchmarks.md
	OUT=bench-out scripts/bench-asia.sh
	scripts/benchmarks-md.sh --asia bench-out

.PHONY: bench-quick
bench-quick: ## The same suite at small sizes (under two minutes); prints the tables
	@mkdir -p bench-out
	IDLE=1000 COUPLES=50 FAILOVER=1000 PINNED_CLIENTS=2000 DRAIN=500 DRAIN_WINDOW=5s ASIA_COUPLES=10 ASIA_QUIET=99 OUT=bench-out/quick scripts/bench.sh > bench-out/quick.log 2>&1 || { tail -40 bench-out/quick.log; exit 1; }
	bench-out/quick/bin/courtctl bench report --dir bench-out/quick
	bench-out/quick/bin/courtctl bench report --wan --dir bench-out/quick

.PHONY: lint
lint: ## gofmt, go vet, and golangci-lint (with the depguard import rules) when installed
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	@if command -v golangci-lint >/dev/null; then golangci-lint run; else echo "golangci-lint not installed: skipped"; fi

.PHONY: tidy-check
tidy-check: ## Fail if go.mod/go.sum are not tidy
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

# Terraform, checked offline: no registry is reachable, so the OpenStack
# provider (and terraform itself when the machine has none) is built from the
# Go module proxy into terraform/.tools, ignored by git and rebuilt only when
# missing. TF_CLI_CONFIG points terraform at that filesystem mirror.
TF_VERSION := 1.11.4
TF_OPENSTACK_VERSION := 3.4.0
TF_TOOLS := $(CURDIR)/terraform/.tools
TF_PLATFORM = $(shell $(GO) env GOOS)_$(shell $(GO) env GOARCH)
TF_OPENSTACK = $(TF_TOOLS)/mirror/registry.terraform.io/terraform-provider-openstack/openstack/$(TF_OPENSTACK_VERSION)/$(TF_PLATFORM)/terraform-provider-openstack_v$(TF_OPENSTACK_VERSION)
TF_CLI_CONFIG := $(TF_TOOLS)/terraformrc
TERRAFORM := $(or $(shell command -v terraform 2>/dev/null),$(TF_TOOLS)/bin/terraform)
TF_ROOTS := terraform
TF_ENV = TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

$(TF_TOOLS)/bin/terraform:
	terraform/scripts/build-terraform.sh $(TF_VERSION) $@

$(TF_TOOLS)/mirror/%/terraform-provider-openstack_v$(TF_OPENSTACK_VERSION):
	@mkdir -p $(TF_TOOLS)/gobin $(@D)
	cd / && GOFLAGS= GOBIN=$(TF_TOOLS)/gobin $(GO) install github.com/terraform-provider-openstack/terraform-provider-openstack/v3@v$(TF_OPENSTACK_VERSION)
	mv $(TF_TOOLS)/gobin/terraform-provider-openstack $@

.PHONY: terraform-providers
terraform-providers: $(TERRAFORM) $(TF_OPENSTACK) ## Build the OpenStack provider (and terraform, if missing) from the Go module proxy; write the CLI config
	@printf '%s\n' \
	  '# Written by make terraform-providers: providers come from the local mirror only.' \
	  'provider_installation {' \
	  '  filesystem_mirror {' \
	  '    path    = "$(TF_TOOLS)/mirror"' \
	  '    include = ["registry.terraform.io/terraform-provider-openstack/*"]' \
	  '  }' \
	  '}' > $(TF_CLI_CONFIG)
	@echo "terraform: $(TERRAFORM); export TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG)"

.PHONY: terraform-check
terraform-check: terraform-providers ## terraform fmt -check, then init, validate and test (mocked provider, offline) in every root module
	$(TF_ENV) $(TERRAFORM) fmt -check -recursive terraform
	@set -e; for d in $(TF_ROOTS); do \
	  echo "== $$d"; \
	  rm -f $$d/.terraform.lock.hcl; \
	  $(TF_ENV) $(TERRAFORM) -chdir=$$d init -backend=false -input=false -no-color > $(TF_TOOLS)/init.log || { cat $(TF_TOOLS)/init.log; exit 1; }; \
	  $(TF_ENV) $(TERRAFORM) -chdir=$$d validate -no-color; \
	  $(TF_ENV) $(TERRAFORM) -chdir=$$d test -no-color; \
	done
	terraform/tests/fetch-secrets_test.sh
