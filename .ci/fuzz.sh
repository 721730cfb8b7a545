#!/usr/bin/env bash
# Bounded fuzzing of every parser family (JSON exports, JSONL, LDIF, CSV,
# YAML) and of the shared input and output guards: each target runs for
# FUZZTIME (default 5s) from its seed corpus; a crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-5s}
targets=(
	"./connectors/input FuzzCheck"
	"./internal/printable FuzzEscape"
	"./connectors/graphfile FuzzJSONL"
	"./connectors/ldap FuzzLDIF"
	"./connectors/hr FuzzRoster"
	"./connectors/conjur FuzzPolicy"
	"./connectors/entra FuzzExportFile"
	"./connectors/aws FuzzAuthorizationDetails"
	"./connectors/aws FuzzCredentialReport"
)
for tg in "${targets[@]}"; do
	read -r pkg name <<<"$tg"
	echo "fuzz $pkg $name ($t)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime="$t" "$pkg"
done
