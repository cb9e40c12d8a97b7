#!/usr/bin/env bash
# Builds the sandbox control-plane binaries from Go modules (recipe: ../shared/docs/sandbox.md):
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (Kubernetes v1.34.10),
# etcd v3.6.4 and kwok v0.8.0. Cached by version under ${LIFELINE_CACHE:-~/.cache/lifeline};
# skipped when the cached binaries answer --version right. Honours KUBEBUILDER_ASSETS: when
# it holds all the binaries at the right versions, nothing is built.
# Prints the binary directory on its last line of stdout.
set -euo pipefail

# shellcheck source=sandbox-versions.env
. "$(dirname "$0")/sandbox-versions.env"
CACHE_ROOT="${LIFELINE_CACHE:-$HOME/.cache/lifeline}"
BIN="$CACHE_ROOT/sandbox/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
log() { echo "[build-sandbox] $*" >&2; }

k8s_ok() { # $1 = dir
  local d="$1"
  [ -x "$d/kube-apiserver" ] && [ -x "$d/kube-controller-manager" ] && [ -x "$d/kube-scheduler" ] || return 1
  "$d/kube-apiserver" --version 2>/dev/null | grep -q "Kubernetes $K8S_VERSION" || return 1
  "$d/kube-controller-manager" --version 2>/dev/null | grep -q "Kubernetes $K8S_VERSION" || return 1
  "$d/kube-scheduler" --version 2>/dev/null | grep -q "Kubernetes $K8S_VERSION" || return 1
}
etcd_ok() { [ -x "$1/etcd" ] && "$1/etcd" --version 2>/dev/null | grep -q "etcd Version: ${ETCD_VERSION#v}"; }
kwok_ok() { [ -x "$1/kwok" ] && "$1/kwok" --version 2>/dev/null | grep -q "$KWOK_VERSION"; }
kubectl_ok() { [ -x "$1/kubectl" ] && "$1/kubectl" version --client 2>/dev/null | grep -q "$K8S_VERSION"; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && k8s_ok "$KUBEBUILDER_ASSETS" && etcd_ok "$KUBEBUILDER_ASSETS" && kwok_ok "$KUBEBUILDER_ASSETS"; then
  log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

mkdir -p "$BIN"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
WORK="$CACHE_ROOT/sandbox/build"
mkdir -p "$WORK"

if k8s_ok "$BIN" && kubectl_ok "$BIN"; then
  log "kubernetes $K8S_VERSION binaries cached"
else
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION (about 5 min cold)"
  d="$WORK/k8s"; mkdir -p "$d"
  {
    echo "module lifeline.local/sandbox-k8s"; echo; echo "go 1.24.0"; echo; echo "godebug default=go1.24"; echo
    echo "require k8s.io/kubernetes $K8S_VERSION"; echo
    echo "tool ("
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "	k8s.io/kubernetes/cmd/$c"; done
    echo ")"; echo; echo "replace ("
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
      cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms \
      kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
      mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
      echo "	k8s.io/$m => k8s.io/$m $STAGING_VERSION"
    done
    echo ")"
  } > "$d/go.mod"
  (cd "$d" && go mod tidy >&2)
  LDF="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=34 -X $p.gitTreeState=clean"
  done
  (cd "$d" && go build -p 2 -trimpath -tags=selinux,notest -ldflags="$LDF" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl >&2)
  k8s_ok "$BIN" || { log "built kubernetes binaries do not report $K8S_VERSION"; exit 1; }
fi

if etcd_ok "$BIN"; then
  log "etcd $ETCD_VERSION cached"
else
  log "building etcd $ETCD_VERSION"
  d="$WORK/etcd"; mkdir -p "$d"
  printf 'module lifeline.local/sandbox-etcd\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n\ntool go.etcd.io/etcd/server/v3\n' "$ETCD_VERSION" > "$d/go.mod"
  (cd "$d" && go mod tidy >&2 && go build -trimpath -ldflags="-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 >&2)
  etcd_ok "$BIN" || { log "built etcd does not report $ETCD_VERSION"; exit 1; }
fi

if kwok_ok "$BIN"; then
  log "kwok $KWOK_VERSION cached"
else
  log "building kwok $KWOK_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  kwok_ok "$BIN" || { log "built kwok does not report $KWOK_VERSION"; exit 1; }
fi

# kwok's Stage documents ship in its module; copy the ones the launcher uses next to the binaries.
STAGES="$BIN/kwok-stages"
if [ ! -f "$STAGES/pod/general/pod-create.yaml" ]; then
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  if [ ! -d "$src" ]; then
    (cd "$WORK" && GOFLAGS=-mod=mod go mod download -x "sigs.k8s.io/kwok@$KWOK_VERSION" >&2) || true
  fi
  rm -rf "$STAGES"; mkdir -p "$STAGES"
  cp -r "$src/." "$STAGES/"
  chmod -R u+w "$STAGES"
fi

log "sandbox binaries ready in $BIN"
echo "$BIN"
