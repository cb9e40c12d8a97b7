#!/usr/bin/env bash
# Runs a command inside a network namespace that has only loopback, so nothing it starts can
# reach an address outside 127.0.0.0/8 (a mistake fails with "Network is unreachable").
# It also runs in its own PID namespace: when the command ends, the kernel kills everything it
# left behind, so no etcd/apiserver/kwok/moto/prometheus outlives `make test`.
# As root: unshare -n; otherwise unshare -rn (a user namespace). Set-up stays outside.
set -euo pipefail
if [ "${LIFELINE_HERMETIC:-1}" = 0 ]; then exec "$@"; fi
export AWS_EC2_METADATA_DISABLED=true
userns=()
[ "$(id -u)" = 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n -p -f --kill-child --mount-proc -- sh -c 'ip link set lo up && exec "$@"' hermetic "$@"
