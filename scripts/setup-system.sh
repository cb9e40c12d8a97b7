#!/usr/bin/env bash
# Installs the system components the suites and the demo need, only when missing:
# Debian: prometheus, prometheus-alertmanager, postgresql, ansible (and chromium when
# LIFELINE_WITH_CHROMIUM=1); PyPI: moto[server] when moto_server is missing.
# Idempotent: a second run changes nothing and takes about a second.
set -euo pipefail
log() { echo "[setup-system] $*" >&2; }

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
if [ "${LIFELINE_WITH_CHROMIUM:-0}" = 1 ]; then command -v chromium >/dev/null 2>&1 || missing+=(chromium); fi

if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  # policy-rc.d keeps the packages' services from starting: the suites start their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  log "Debian packages present"
fi

if ! command -v moto_server >/dev/null 2>&1; then
  log "installing moto[server] from PyPI"
  python3 -m pip install --quiet 'moto[server]' >&2
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
else
  log "moto_server present"
fi
