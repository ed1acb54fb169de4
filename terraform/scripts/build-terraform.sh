#!/usr/bin/env bash
# build-terraform.sh VERSION OUT: builds terraform VERSION from the Go module
# proxy into OUT, for machines that have no terraform (make terraform-providers).
#
# `go install github.com/hashicorp/terraform@VERSION` is refused: terraform's
# go.mod replaces nine nested modules (eight remote-state backends and
# internal/legacy) by directories that module zips never carry, and the proxy
# does not serve them on their own. So this builds a copy of the module with
# those directories filled by stand-ins: internal/legacy empty, each backend
# one that refuses to be configured. `terraform init -backend=false`,
# validate, test and fmt never touch a backend; a real deploy uses a released
# terraform binary (see terraform/README.md).
set -euo pipefail
version=$1 out=$2

export GOFLAGS=-mod=mod GOWORK=off
src=$(cd / && go mod download -json "github.com/hashicorp/terraform@v$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "build-terraform: no source for terraform v$version" >&2; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -R "$src/." "$work"
chmod -R u+w "$work"
# Go 1.26 no longer knows the tlskyber setting terraform 1.11 pins (its
# post-quantum key exchange is on by default now).
(cd "$work" && go mod edit -dropgodebug=tlskyber)

mkdir -p "$work/internal/legacy"
printf 'module github.com/hashicorp/terraform/internal/legacy\n\ngo 1.23\n' > "$work/internal/legacy/go.mod"

for b in azure consul cos gcs kubernetes oss pg s3; do
  dir="$work/internal/backend/remote-state/$b"
  mkdir -p "$dir"
  printf 'module github.com/hashicorp/terraform/internal/backend/remote-state/%s\n\ngo 1.23\n' "$b" > "$dir/go.mod"
  cat > "$dir/backend.go" <<GO
// Package $b stands in for terraform's $b backend, which the Go module
// proxy does not serve: configuring it fails.
package $b

import (
	"fmt"

	"github.com/hashicorp/terraform/internal/backend"
	"github.com/hashicorp/terraform/internal/backend/remote-state/inmem"
	"github.com/hashicorp/terraform/internal/tfdiags"
	"github.com/zclconf/go-cty/cty"
)

type unavailable struct{ backend.Backend }

// New returns a backend that refuses to be configured.
func New() backend.Backend { return unavailable{inmem.New()} }

func (unavailable) Configure(cty.Value) tfdiags.Diagnostics {
	var diags tfdiags.Diagnostics
	return diags.Append(fmt.Errorf("the $b backend is not in this terraform (built from the Go module proxy for offline checks); use a released terraform"))
}
GO
done

mkdir -p "$(dirname "$out")"
(cd "$work" && go build -trimpath -ldflags "-X github.com/hashicorp/terraform/version.dev=no" -o "$out" .)
CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$out" version
