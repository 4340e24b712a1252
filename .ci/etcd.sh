#!/usr/bin/env bash
# Provides etcd and etcdctl v3.5 (etcd-io/etcd), built from Go modules with the ordinary
# `go` client (no prebuilt download), for the real-etcd tests of the flatcar profile
# (test/real/etcd/). Cached outside the work tree, keyed by version:
#   $TOOLCHAIN_DIR/etcd-v3.5.17/{etcd,etcdctl,BUILD-INFO}   (toolchain-dir.sh: /var/cache/xen-coreos/toolchain, or ~/.cache/xen-coreos/toolchain for a non-root user)
# A cached pair that reports the expected version is reused (no network).
#
# Why a wrapper module: etcd 3.5 splits into modules (server/v3, etcdctl/v3, api/v3,
# client/...); server/v3's and etcdctl/v3's go.mod carry `replace` lines to ../api etc.,
# so `go install go.etcd.io/etcd/server/v3@v3.5.17` is refused. A wrapper main module
# requires both at the release, `go mod tidy` resolves the rest from the proxy, and
# `go build` builds their main packages (server/main.go is the etcd binary).
#
# What the module proxy served (2026-11-29, `go list -m -versions` and the build itself):
#   lists     of 3.5 versions are incomplete: server/v3 lists v3.5.0-alpha.0, .0, .5, .7-.12,
#             .15, .16, .21, .23, .31-.35; etcdctl/v3 lists .0, .5, .8, .9, .11, .33-.35;
#             the root module go.etcd.io/etcd/v3 lists .0, .5, .8, .9, .11;
#   served    nevertheless, at v3.5.17 (not in the etcdctl list): server/v3, etcdctl/v3, the
#             root module (`go list -m go.etcd.io/etcd/v3@v3.5.17`), and everything `go mod
#             tidy` resolved (api/v3, client/pkg/v3, client/v3, pkg/v3, raft/v3, etcdutl/v3 at
#             v3.5.17, client/v2 v2.305.17, bbolt v1.3.11; BUILD-INFO lists them);
#   refused   nothing this build asked for.
# Builds with go1.26.8 unchanged. Cold build (empty module cache for etcd, a Go build cache
# already holding the pulumi toolchain's builds) took 193 s on 2 cores; a rebuild 23 s.
#
# Usage:
#   .ci/etcd.sh               # build if needed; status on stderr, last stdout line = bin dir
#   .ci/etcd.sh --print-dir   # the same, only the bin dir on stdout
# Environment: XENCOREOS_ETCD_VERSION overrides the version (v3.5.x).
# Exit status: 1 when go is missing or the build fails.
set -euo pipefail

ETCD_VERSION=${XENCOREOS_ETCD_VERSION:-v3.5.17}
SERVER_MODULE=go.etcd.io/etcd/server/v3
ETCDCTL_MODULE=go.etcd.io/etcd/etcdctl/v3
# shellcheck source=.ci/toolchain-dir.sh
source "$(dirname "$0")/toolchain-dir.sh"
dir="$TOOLCHAIN_DIR/etcd-$ETCD_VERSION"

print_dir=false
for arg in "$@"; do
  case "$arg" in
    --print-dir) print_dir=true ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

log() { printf '[etcd] %s\n' "$*" >&2; }

cached_ok() {
  local server client
  [[ -x "$dir/etcd" && -x "$dir/etcdctl" ]] || return 1
  # Read whole outputs first: `cmd | grep -q` under pipefail fails when grep exits early.
  server=$("$dir/etcd" --version 2>/dev/null) && client=$("$dir/etcdctl" version 2>/dev/null) || return 1
  grep -qx "etcd Version: ${ETCD_VERSION#v}" <<<"$server" && grep -qx "etcdctl version: ${ETCD_VERSION#v}" <<<"$client"
}

if ! cached_ok; then
  command -v go >/dev/null 2>&1 || {
    log "the go command is required to build etcd $ETCD_VERSION"
    exit 1
  }
  mkdir -p "$TOOLCHAIN_DIR"
  exec 9>"$TOOLCHAIN_DIR/.etcd.lock"
  flock 9
  if ! cached_ok; then
    # Ask only the configured proxy: a refused version must not fall back to git.
    goproxy=$(go env GOPROXY)
    case "$goproxy" in
      *,direct | *"|direct") export GOPROXY="${goproxy%?direct}" ;;
    esac
    tmp="$dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp/wrap"
    # shellcheck disable=SC2064 # expand $tmp now: it is this run's folder
    trap "rm -rf '$tmp'" EXIT
    log "building etcd and etcdctl $ETCD_VERSION from $SERVER_MODULE and $ETCDCTL_MODULE (cold caches: a few minutes on 2 cores)"
    start=$SECONDS
    if ! (
      cd "$tmp/wrap"
      export CGO_ENABLED=0 GOFLAGS=-mod=mod
      go mod init xencoreos.invalid/toolchain/etcd
      go mod edit -require="$SERVER_MODULE@$ETCD_VERSION" -require="$ETCDCTL_MODULE@$ETCD_VERSION"
      printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "%s"\n\t_ "%s"\n)\n' \
        "$SERVER_MODULE" "$ETCDCTL_MODULE" >tools.go
      go mod tidy
      go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" "$SERVER_MODULE"
      go build -trimpath -ldflags "-s -w" -o "$tmp/etcdctl" "$ETCDCTL_MODULE"
    ) >"$tmp/build.log" 2>&1; then
      log "building etcd $ETCD_VERSION failed after $((SECONDS - start))s; last lines:"
      tail -n 20 "$tmp/build.log" >&2
      exit 1
    fi
    {
      echo "name=etcd"
      echo "version=$ETCD_VERSION"
      echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
      echo "build_seconds=$((SECONDS - start))"
      echo "go=$(go env GOVERSION)"
      echo "module=$SERVER_MODULE@$ETCD_VERSION"
      echo "module=$ETCDCTL_MODULE@$ETCD_VERSION"
      (cd "$tmp/wrap" && go list -m all 2>/dev/null | grep '^go.etcd.io/' | sed 's/ /@/; s/^/resolved=/')
    } >"$tmp/BUILD-INFO"
    rm -rf "$tmp/wrap" "$tmp/build.log"
    rm -rf "$dir" && mv "$tmp" "$dir"
    trap - EXIT
    log "built etcd $ETCD_VERSION in $((SECONDS - start))s: $dir"
  fi
fi

if $print_dir; then
  printf '%s\n' "$dir"
  exit 0
fi
log "etcd $ETCD_VERSION: $dir/etcd, $dir/etcdctl"
printf '%s\n' "$dir"
