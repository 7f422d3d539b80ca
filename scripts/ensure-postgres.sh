#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, postgres) are installed;
# fhirhub and its tests start private servers from them. Installs Debian's
# package when they are missing and we may.
set -euo pipefail
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && exit 0
done
command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries not found; installing Debian's postgresql package" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL 15+ or set DATABASE_URL" >&2
exit 1
