#!/usr/bin/env bash
# Installs what the project and its test suite need on a fresh Debian 12 machine with Node >= 20.19:
# the Debian packages each area lists in .ci/install.d/*.packages (one package per line, # comments),
# then each area's .ci/install.d/*.sh set-up script, then the npm packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

pkgs=$(cat .ci/install.d/*.packages 2>/dev/null | sed 's/#.*//' | tr -s ' \n' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
if [ -n "$pkgs" ]; then
  missing=""
  for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
  fi
fi
for s in .ci/install.d/*.sh; do [ -e "$s" ] && bash "$s"; done

npm ci --no-audit --no-fund
