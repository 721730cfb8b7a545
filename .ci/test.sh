#!/usr/bin/env bash
# The whole test suite: the README's second command, and what .ci/run runs.
# Installs the PostgreSQL and OpenLDAP server packages the integration
# tests start (only when missing), then vets (also for darwin), runs
# staticcheck and tests every package, with the race detector on the
# concurrent ones.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install-servers.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go mod tidy (must leave go.mod/go.sum unchanged)"
tidy=$(mktemp -d)
cp go.mod go.sum "$tidy"/
go mod tidy
if ! cmp -s go.mod "$tidy/go.mod" || ! cmp -s go.sum "$tidy/go.sum"; then
	diff -u "$tidy/go.mod" go.mod || true
	cp "$tidy"/go.mod "$tidy"/go.sum .
	echo "go mod tidy changes go.mod/go.sum: run it and commit the result"; exit 1
fi
rm -rf "$tidy"

echo "== go vet"
go vet ./...

echo "== go vet (GOOS=darwin: Linux-only test helpers carry build tags)"
GOOS=darwin go vet ./...

echo "== staticcheck"
staticcheck_version=v0.8.2
sc=$(command -v staticcheck || true)
if [ -z "$sc" ] || ! "$sc" -version | grep -qF "(${staticcheck_version#v})"; then
	scbin=$(mktemp -d)
	GOBIN="$scbin" go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
	sc="$scbin/staticcheck"
fi
"$sc" ./...
[ -z "${scbin:-}" ] || rm -rf "$scbin"

echo "== go test"
go test -count=1 -timeout 30m ./...

echo "== go test -race (concurrent packages)"
race=()
for d in graph/inventory audit approval agent tools server slackbot chat; do
	[ -d "$d" ] && race+=("./$d/...")
done
go test -count=1 -race -timeout 30m "${race[@]}"

echo "== go test -fuzz (bounded, every parser family)"
bash .ci/fuzz.sh
