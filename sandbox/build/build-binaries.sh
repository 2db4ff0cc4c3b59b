#!/usr/bin/env bash
# Builds the sandbox's Kubernetes binaries from the Go module proxy into a cache keyed by version:
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok, and the tools the tests
# check the Helm chart and the alerting rules with: helm and promtool; and Karpenter's kwok provider
# with the CRDs it ships, for the scenarios that ask for Karpenter. Nothing is downloaded as a
# prebuilt release; a second run with the same versions only checks that the files exist.
#
# Usage: build-binaries.sh [COMPONENT...]   (cache dir: $EKSUP_SANDBOX_CACHE or ~/.cache/eks-upgrade-operator)
#   COMPONENT is etcd, kwok, kubernetes, helm, promtool or karpenter; none builds them all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${EKSUP_SANDBOX_CACHE:-$HOME/.cache/eks-upgrade-operator}
bin="$cache/bin"
mkdir -p "$bin" "$cache/work"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[sandbox-build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Only one build at a time per cache: a second caller waits, then finds the binaries made.
exec 9>"$cache/build.lock"
flock 9

kube_dir="$bin/kubernetes-$KUBERNETES_VERSION"
etcd_dir="$bin/etcd-$ETCD_VERSION"
kwok_dir="$bin/kwok-$KWOK_VERSION"
helm_dir="$bin/helm-$HELM_VERSION"
promtool_dir="$bin/promtool-$PROMETHEUS_VERSION"
karpenter_dir="$bin/karpenter-$KARPENTER_VERSION"

build_kubernetes() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler) missing=0 c
  for c in "${want[@]}"; do [ -x "$kube_dir/$c" ] || missing=1; done
  if [ "$missing" = 0 ]; then log "kubernetes $KUBERNETES_VERSION: cached in $kube_dir"; return; fi
  log "kubernetes $KUBERNETES_VERSION: building (cold: 20-30 min on 2 cores, ~1 GB of modules)"
  local staging_version="v0${KUBERNETES_VERSION#v1}"   # k8s.io/api etc. are published as v0.<minor>.<patch>
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local work="$cache/work/kubernetes-$KUBERNETES_VERSION"
  rm -rf "$work"; mkdir -p "$work"; cd "$work"
  # k8s.io/kubernetes points its staging modules at ./staging paths, which `go install` refuses;
  # a throwaway module that replaces each one with its published version builds it cleanly.
  log "fetching k8s.io/kubernetes $KUBERNETES_VERSION go.mod"
  local modfile
  modfile=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  {
    echo "module sandbox.local/kubebuild"
    echo
    echo "go $(sed -n 's/^go //p' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 '"$staging_version"'#p' "$modfile"
  } > go.mod
  log "resolving modules"
  for c in "${want[@]}"; do go get "k8s.io/kubernetes/cmd/$c@$KUBERNETES_VERSION" >/dev/null 2>&1 || go get "k8s.io/kubernetes/cmd/$c@$KUBERNETES_VERSION"; done
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  mkdir -p "$kube_dir.tmp"
  for c in "${want[@]}"; do
    log "building $c"
    go build -trimpath -ldflags "$ldflags" -o "$kube_dir.tmp/$c" "k8s.io/kubernetes/cmd/$c"
  done
  rm -rf "$kube_dir"; mv "$kube_dir.tmp" "$kube_dir"
  log "kubernetes $KUBERNETES_VERSION: done"
}

build_etcd() {
  if [ -x "$etcd_dir/etcd" ]; then log "etcd $ETCD_VERSION: cached in $etcd_dir"; return; fi
  log "etcd $ETCD_VERSION: building"
  local work="$cache/work/etcd-$ETCD_VERSION"
  rm -rf "$work"; mkdir -p "$work"; cd "$work"
  # The etcd server module carries replace directives too; a small main around etcdmain avoids them.
  cat > go.mod <<MOD
module sandbox.local/etcdbuild

go 1.24
MOD
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
  go mod tidy >/dev/null
  mkdir -p "$etcd_dir.tmp"
  go build -trimpath -ldflags "-s -w" -o "$etcd_dir.tmp/etcd" .
  rm -rf "$etcd_dir"; mv "$etcd_dir.tmp" "$etcd_dir"
  log "etcd $ETCD_VERSION: done"
}

build_kwok() {
  if [ -x "$kwok_dir/kwok" ] && [ -d "$kwok_dir/stages" ]; then log "kwok $KWOK_VERSION: cached in $kwok_dir"; return; fi
  log "kwok $KWOK_VERSION: building"
  mkdir -p "$kwok_dir.tmp"
  GOBIN="$kwok_dir.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The Stage definitions kwok needs at run time ship inside the module.
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  cp -r "$src/kustomize/stage" "$kwok_dir.tmp/stages"
  chmod -R u+w "$kwok_dir.tmp/stages"
  rm -rf "$kwok_dir"; mv "$kwok_dir.tmp" "$kwok_dir"
  log "kwok $KWOK_VERSION: done"
}

build_helm() {
  if [ -x "$helm_dir/helm" ]; then log "helm $HELM_VERSION: cached in $helm_dir"; return; fi
  log "helm $HELM_VERSION: building (cold: about 5 min on 2 cores)"
  rm -rf "$helm_dir.tmp"; mkdir -p "$helm_dir.tmp"
  # helm prints its version from these variables; without them `helm version` says v3.x-dev.
  local pkg=helm.sh/helm/v3/internal/version
  GOBIN="$helm_dir.tmp" go install -trimpath -ldflags "-s -w -X $pkg.version=$HELM_VERSION -X $pkg.gitTreeState=clean" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$helm_dir"; mv "$helm_dir.tmp" "$helm_dir"
  log "helm $HELM_VERSION: done"
}

build_promtool() {
  if [ -x "$promtool_dir/promtool" ]; then log "promtool $PROMETHEUS_VERSION: cached in $promtool_dir"; return; fi
  log "promtool $PROMETHEUS_VERSION: building (cold: about 10 min on 2 cores)"
  rm -rf "$promtool_dir.tmp"; mkdir -p "$promtool_dir.tmp"
  # remove_all_sd leaves out the cloud service-discovery plugins, which rule tests never use and
  # which are most of the build.
  GOBIN="$promtool_dir.tmp" go install -trimpath -tags remove_all_sd -ldflags "-s -w" "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  rm -rf "$promtool_dir"; mv "$promtool_dir.tmp" "$promtool_dir"
  log "promtool $PROMETHEUS_VERSION: done"
}

build_karpenter() {
  if [ -x "$karpenter_dir/karpenter-kwok" ] && [ -d "$karpenter_dir/crds" ]; then log "karpenter $KARPENTER_VERSION: cached in $karpenter_dir"; return; fi
  log "karpenter $KARPENTER_VERSION (kwok provider): building (cold: about 10 min on 2 cores)"
  rm -rf "$karpenter_dir.tmp"; mkdir -p "$karpenter_dir.tmp/crds"
  # The module has no replace directives, so go install builds its kwok main package directly.
  GOBIN="$karpenter_dir.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/karpenter/kwok@$KARPENTER_VERSION"
  mv "$karpenter_dir.tmp/kwok" "$karpenter_dir.tmp/karpenter-kwok"
  # The CRDs come from the same module version as the binary, so they always match it:
  # NodePool and NodeClaim from the provider's chart, KWOKNodeClass from its API package.
  local src
  src=$(go mod download -json "sigs.k8s.io/karpenter@$KARPENTER_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  cp "$src/kwok/charts/crds/karpenter.sh_nodepools.yaml" "$src/kwok/charts/crds/karpenter.sh_nodeclaims.yaml" \
    "$src/kwok/apis/crds/karpenter.kwok.sh_kwoknodeclasses.yaml" "$karpenter_dir.tmp/crds/"
  chmod -R u+w "$karpenter_dir.tmp/crds"
  rm -rf "$karpenter_dir"; mv "$karpenter_dir.tmp" "$karpenter_dir"
  log "karpenter $KARPENTER_VERSION: done"
}

components=("$@")
[ "${#components[@]}" -gt 0 ] || components=(etcd kwok kubernetes helm promtool karpenter)
for component in "${components[@]}"; do
  case "$component" in
    etcd | kwok | kubernetes | helm | promtool | karpenter) "build_$component" ;;
    *) echo "build-binaries.sh: unknown component '$component'; expected etcd, kwok, kubernetes, helm, promtool or karpenter" >&2; exit 2 ;;
  esac
done
log "ready under $bin: ${components[*]}"
