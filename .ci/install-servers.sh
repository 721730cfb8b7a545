#!/usr/bin/env bash
# Installs the real servers that integration tests start on 127.0.0.1
# (internal/pgtest: PostgreSQL; internal/ldaptest: OpenLDAP slapd), but only
# the ones that are missing, so a warm machine does not touch apt at all.
# Called from .ci/run; safe to run by hand as root.
set -euo pipefail

missing=()
if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && ! command -v postgres >/dev/null; then
	missing+=(postgresql)
fi
if ! command -v slapd >/dev/null && [ ! -x /usr/sbin/slapd ]; then
	missing+=(slapd)
fi
if ! command -v ldapadd >/dev/null; then
	missing+=(ldap-utils)
fi

# web's browser test drives headless Chromium (it fails under CI=true without it).
if ! command -v chromium >/dev/null; then
	missing+=(chromium)
fi
# zsh and fish: the completion scripts must parse in their own shells.
for sh in zsh fish; do
	command -v "$sh" >/dev/null || missing+=("$sh")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-servers: postgresql, slapd, ldap-utils, chromium, zsh and fish already installed"
	exit 0
fi

echo "install-servers: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
$sudo apt-get update -q
# noninteractive: slapd's debconf would otherwise ask for an admin password.
# The packaged services are not needed (tests start their own servers), but
# Debian starts them on install; that is harmless in CI.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
