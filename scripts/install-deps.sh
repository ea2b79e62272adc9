#!/usr/bin/env bash
# Installs the system packages pxt needs to build and run on Debian/Ubuntu:
#   libsqlite3-dev  SQLite headers and library (the embedded store, through GRDB)
#   curl            used by the README's examples
# Benchmarks install their own tools (wrk, hyperfine) from bench/common.sh.
set -euo pipefail
missing=()
for pkg in libsqlite3-dev curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"
