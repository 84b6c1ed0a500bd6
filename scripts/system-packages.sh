#!/usr/bin/env bash
# Installs the Debian packages Lotsen needs when some are missing (apt-get, as root or through sudo).
set -euo pipefail

packages=(build-essential python3-dev python3-venv libldap-dev libsasl2-dev slapd ldap-utils
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
  chromium chromium-driver hunspell-sv-se wrk
  # the Active Directory tests' throwaway domain controller (tests/auth/samba_ad.py) and its test CA
  samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind krb5-user ldb-tools openssl
  # the mail-in tests' throwaway IMAP server (tests/mailin/dovecot.py)
  dovecot-imapd)

# A PostgreSQL for the test suite: a running server, or the binaries to start a throwaway one.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  packages+=(postgresql)
fi

if ! command -v dpkg-query >/dev/null; then
  echo "system-packages: not a Debian system; install the equivalents of: ${packages[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-packages: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
