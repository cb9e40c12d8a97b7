#!/usr/bin/env bash
# Fails when a sandbox component started by the suites is still running after them
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, moto_server,
# prometheus, alertmanager, postgres started from a lifeline temp dir).
set -uo pipefail
pattern='lifeline-(test|two|cli|demo|prom|home|bench|pg|store|wf|kube|obj|anom)[^ ]*|/\.cache/lifeline/sandbox/.*/(etcd|kube-|kwok)|moto_server|prometheus-alertmanager --config.file=/tmp|prometheus --config.file=/tmp'
left=$(pgrep -af -- "$pattern" | grep -v -e pgrep -e check-leftovers || true)
# Processes of a sandbox a user started on purpose (lifeline sandbox up, make demo) live under
# ~/.lifeline and are not ours to judge.
left=$(printf '%s\n' "$left" | grep -v -e "$HOME/.lifeline/" -e '^$' || true)
if [ -n "$left" ]; then
  echo "processes left behind by the test suites:" >&2
  printf '%s\n' "$left" >&2
  exit 1
fi
# Silent on success: the test runner's summary stays the last lines CI reads.
