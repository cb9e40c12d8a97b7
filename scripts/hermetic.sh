#!/usr/bin/env bash
# Runs a command inside a network namespace that has only loopback, so nothing it starts can
# reach an address outside 127.0.0.0/8 (a mistake fails with "Network is unreachable").
# As root: unshare -n; otherwise unshare -rn (a user namespace). Set-up stays outside.
set -euo pipefail
if [ "${LIFELINE_HERMETIC:-1}" = 0 ]; then exec "$@"; fi
export AWS_EC2_METADATA_DISABLED=true
if [ "$(id -u)" = 0 ]; then
  exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' hermetic "$@"
else
  exec unshare -rn -- sh -c 'ip link set lo up && exec "$@"' hermetic "$@"
fi
