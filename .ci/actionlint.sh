#!/usr/bin/env bash
# Provides actionlint (github.com/rhysd/actionlint), the linter of GitHub Actions workflow
# files, built from its Go module with the ordinary `go` client (no prebuilt download)
# and cached outside the work tree, keyed by version:
#   $TOOLCHAIN_DIR/actionlint-v1.7.12/actionlint   (toolchain-dir.sh: /var/cache/xen-coreos/toolchain, or ~/.cache/xen-coreos/toolchain for a non-root user)
# A cached binary that reports the expected version is reused.
#
# Usage:
#   .ci/actionlint.sh                      # build if needed; prints the binary's path
#   .ci/actionlint.sh -- [actionlint args]  # build if needed, then run actionlint with them
#
# actionlint runs shellcheck on `run:` scripts when shellcheck is on PATH.
# Exit status: 1 when go is missing or the build fails; otherwise actionlint's own.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
ACTIONLINT_PACKAGE=github.com/rhysd/actionlint/cmd/actionlint
# shellcheck source=.ci/toolchain-dir.sh
source "$(dirname "$0")/toolchain-dir.sh"
dir="$TOOLCHAIN_DIR/actionlint-$ACTIONLINT_VERSION"
bin="$dir/actionlint"

log() { printf '[actionlint] %s\n' "$*" >&2; }

run=false
if (($#)); then
  if [[ "$1" == -- ]]; then
    run=true
    shift
  else
    echo "usage: $0 [-- actionlint arguments]" >&2
    exit 2
  fi
fi

cached_ok() {
  [[ -x "$bin" ]] && [[ "$("$bin" -version 2>/dev/null | head -n 1)" == "$ACTIONLINT_VERSION" ]]
}

if ! cached_ok; then
  command -v go >/dev/null 2>&1 || {
    log "the go command is required to build actionlint $ACTIONLINT_VERSION"
    exit 1
  }
  mkdir -p "$TOOLCHAIN_DIR"
  exec 9>"$TOOLCHAIN_DIR/.actionlint.lock"
  flock 9
  if ! cached_ok; then
    log "building actionlint $ACTIONLINT_VERSION from $ACTIONLINT_PACKAGE"
    # Ask only the configured proxy: a refused version must not fall back to git.
    goproxy=$(go env GOPROXY)
    case "$goproxy" in
      *,direct | *"|direct") export GOPROXY="${goproxy%?direct}" ;;
    esac
    tmp="$dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    # shellcheck disable=SC2064 # expand $tmp now: it is this run's folder
    trap "rm -rf '$tmp'" EXIT
    # `go install pkg@version` builds outside any module; the version is stamped from the module.
    if ! GOFLAGS='' CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "-s -w" \
      "$ACTIONLINT_PACKAGE@$ACTIONLINT_VERSION" >"$tmp/build.log" 2>&1; then
      log "go install failed; last lines:"
      tail -n 15 "$tmp/build.log" >&2
      exit 1
    fi
    printf 'name=actionlint\nversion=%s\nbuilt=%s\ngo=%s\nmodule=%s@%s\n' "$ACTIONLINT_VERSION" \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(go env GOVERSION)" github.com/rhysd/actionlint "$ACTIONLINT_VERSION" >"$tmp/BUILD-INFO"
    rm -f "$tmp/build.log"
    rm -rf "$dir" && mv "$tmp" "$dir"
    trap - EXIT
  fi
fi

if $run; then
  exec "$bin" "$@"
fi
printf '%s\n' "$bin"
