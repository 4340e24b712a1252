#!/usr/bin/env bash
# Provides the offline Pulumi toolchain for xen-coreos, built from Go modules
# through the ordinary `go` client (no prebuilt downloads):
#   - pulumi                  CLI (required): from PATH if it prints a version, else built
#   - pulumi-resource-command plugin for npm @pulumi/command (required)
#   - pulumi-language-nodejs  Node.js language host (optional)
#   - pulumi-resource-random  plugin for npm @pulumi/random (optional)
#
# Binaries are cached outside the work tree, keyed by version, in
#   $TOOLCHAIN_DIR/<name>-<version>/   (toolchain-dir.sh: /var/cache/xen-coreos/toolchain, or ~/.cache/xen-coreos/toolchain for a non-root user)
# and reused on later runs. Plugins are installed into the Pulumi plugin cache
# (PULUMI_HOME is respected) with `pulumi plugin install ... --file`.
#
# Usage:
#   .ci/pulumi-toolchain.sh               # status lines, last line PULUMI_BIN_DIR=/path
#   eval "$(.ci/pulumi-toolchain.sh --print-env)"   # export PATH / PULUMI_BIN_DIR
#   .ci/pulumi-toolchain.sh --skip-optional         # only the required tools
#   .ci/pulumi-toolchain.sh --allow-standins        # a provider that cannot be built is
#        served by the project's stand-in (scripts/providers/bin, put first on PATH);
#        exit 0 as long as the CLI is there. For tests and local previews only.
#
# Environment overrides:
#   XENCOREOS_TOOLCHAIN_DIR                 cache root
#   XENCOREOS_COMMAND_MODULE_VERSIONS       space-separated module versions to try for
#                                           github.com/pulumi/pulumi-command/provider
#   XENCOREOS_NODEJS_HOST_MODULE_VERSIONS   same for pulumi-language-nodejs/v3
#   XENCOREOS_RANDOM_MODULE_VERSIONS        same for pulumi-random/provider/v4
#
# Exit status: 0 when the CLI and the command provider are available (or, with
# --allow-standins, when the CLI is), 1 otherwise.
set -euo pipefail

PULUMI_VERSION=v3.274.1
PULUMI_PKG_MODULE=github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MODULE=github.com/pulumi/pulumi/sdk/v3
PULUMI_CLI_PACKAGE=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
PULUMI_VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
# pkg/v3's go.mod replaces sdk/v3 with ../sdk (ignored in a dependency) and this
# non-local replace, which a wrapper module has to repeat.
CLIPBOARD_REPLACE=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e

COMMAND_VERSION=1.2.1
COMMAND_MODULE=github.com/pulumi/pulumi-command/provider
COMMAND_PACKAGE=github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command
COMMAND_VERSION_VAR=github.com/pulumi/pulumi-command/provider/pkg/version.Version
# The repository tags releases at its root, so the provider submodule only has
# pseudo-versions: v1.2.1's commit 7f3eb6f3b77c (2026-03-03T23:59:22Z) and the
# sdk/v1.2.1 tag's commit f0839b236d7b (2026-03-04T00:23:45Z).
COMMAND_MODULE_VERSIONS=${XENCOREOS_COMMAND_MODULE_VERSIONS:-v0.0.0-20260303235922-7f3eb6f3b77c v0.0.0-20260304002345-f0839b236d7b}

NODEJS_HOST_MODULE=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
NODEJS_HOST_PACKAGE=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
# Never tagged: only a pseudo-version v3.0.0-<time>-<commit> of the v3.274.1 commit
# could be asked for. Its commit is not known here; v3.274.1 is tried for the record.
NODEJS_HOST_MODULE_VERSIONS=${XENCOREOS_NODEJS_HOST_MODULE_VERSIONS:-v3.274.1}

RANDOM_VERSION=4.21.2
RANDOM_MODULE=github.com/pulumi/pulumi-random/provider/v4
RANDOM_PACKAGE=github.com/pulumi/pulumi-random/provider/v4/cmd/pulumi-resource-random
RANDOM_VERSION_VAR=github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version
RANDOM_MODULE_VERSIONS=${XENCOREOS_RANDOM_MODULE_VERSIONS:-v4.21.2}

# shellcheck source=.ci/toolchain-dir.sh
source "$(dirname "$0")/toolchain-dir.sh"

print_env=false
skip_optional=false
allow_standins=false
standin_dir=$(readlink -f "$(dirname "$0")/../scripts/providers/bin")
declare -a standins=()
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=true ;;
    --skip-optional) skip_optional=true ;;
    --allow-standins) allow_standins=true ;;
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

log() { printf '[pulumi-toolchain] %s\n' "$*" >&2; }

command -v go >/dev/null 2>&1 || {
  log "the go command is required"
  exit 1
}

# Build environment. GOMODCACHE/GOCACHE stay at the go env defaults (persistent).
export CGO_ENABLED=0
export GOFLAGS=-mod=mod
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Ask only the configured proxy: a refused version must not fall back to git.
goproxy=$(go env GOPROXY)
case "$goproxy" in
  *,direct | *"|direct") export GOPROXY="${goproxy%?direct}" ;;
esac

mkdir -p "$TOOLCHAIN_DIR"
exec 9>"$TOOLCHAIN_DIR/.lock"
if ! flock -n 9; then
  log "waiting for another run holding $TOOLCHAIN_DIR/.lock"
  flock 9
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-toolchain.XXXXXX")
trap 'rm -rf "$work"' EXIT
logs="$TOOLCHAIN_DIR/logs"
mkdir -p "$logs"

declare -a summary=()
add_summary() { # name version path status
  summary+=("$(printf '%-24s %-36s %-70s %s' "$1" "$2" "$3" "$4")")
}

# probe_module MODULE VERSION: succeeds when the proxy serves MODULE@VERSION;
# otherwise sets probe_error to a one-line reason.
probe_error=
probe_module() {
  local out
  if out=$(cd "$work" && GOFLAGS=-mod=mod go list -m -json "$1@$2" 2>&1); then
    return 0
  fi
  probe_error=$(printf '%s\n' "$out" | grep -oE '[0-9]{3} [A-Z][A-Za-z ]+|server response: .*|not found.*|unknown revision.*|invalid version.*' |
    sed 's/server response: //' | paste -sd ' ' -)
  [[ -n "$probe_error" ]] || probe_error=$(printf '%s\n' "$out" | tail -n 1)
  probe_error="$1@$2: $probe_error"
  return 1
}

# go_build NAME OUT PACKAGE LDFLAGS REQUIRE... [-- REPLACE...]
# Builds PACKAGE from a generated wrapper module that requires the given
# module@version pairs (and applies old=new@version replaces).
build_seconds=0
go_build() {
  local name=$1 out=$2 package=$3 ldflags=$4
  shift 4
  local mod="$work/wrap-$name" req rep start
  local -a requires=() replaces=()
  while (($#)); do
    if [[ "$1" == -- ]]; then
      shift
      replaces=("$@")
      break
    fi
    requires+=("$1")
    shift
  done
  rm -rf "$mod" && mkdir -p "$mod"
  start=$SECONDS
  (
    cd "$mod"
    go mod init "xencoreos.invalid/toolchain/$name" >/dev/null 2>&1
    for req in "${requires[@]}"; do go mod edit -require="$req"; done
    for rep in "${replaces[@]}"; do go mod edit -replace="$rep"; done
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" >tools.go
    go mod tidy
    go build -trimpath -ldflags "$ldflags" -o "$out" "$package"
  ) >"$logs/$name.log" 2>&1 || {
    build_seconds=$((SECONDS - start))
    log "building $name failed after ${build_seconds}s; last lines of $logs/$name.log:"
    tail -n 15 "$logs/$name.log" >&2
    return 1
  }
  build_seconds=$((SECONDS - start))
}

# install_cached NAME VERSION BINARY_TMP: moves a fresh binary into its cache dir.
install_cached() {
  local dir="$TOOLCHAIN_DIR/$1-$2"
  mkdir -p "$dir.tmp"
  mv -f "$3" "$dir.tmp/$1"
  {
    echo "name=$1"
    echo "version=$2"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build_seconds=$build_seconds"
    echo "go=$(go env GOVERSION)"
    shift 3
    printf 'module=%s\n' "$@"
  } >"$dir.tmp/BUILD-INFO"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

# ---------------------------------------------------------------- pulumi CLI
pulumi_bin=
pulumi_ver=
pulumi_status=
cli_ok=false
if path_pulumi=$(command -v pulumi 2>/dev/null) &&
  path_ver=$(timeout 30 "$path_pulumi" version 2>/dev/null) && [[ "$path_ver" == v* ]]; then
  pulumi_bin=$(readlink -f "$path_pulumi")
  pulumi_ver=$path_ver
  if [[ "$pulumi_bin" == "$TOOLCHAIN_DIR"/* ]]; then pulumi_status=cached; else pulumi_status="cached (from PATH)"; fi
  cli_ok=true
else
  cli_dir="$TOOLCHAIN_DIR/pulumi-$PULUMI_VERSION"
  if [[ -x "$cli_dir/bin/pulumi" ]] && [[ "$("$cli_dir/bin/pulumi" version 2>/dev/null)" == "$PULUMI_VERSION" ]]; then
    pulumi_status=cached
    cli_ok=true
  else
    log "building pulumi $PULUMI_VERSION (cold GOCACHE: about 4-7 minutes on 2 cores)"
    mkdir -p "$work/out"
    if go_build pulumi "$work/out/pulumi" "$PULUMI_CLI_PACKAGE" \
      "-s -w -X $PULUMI_VERSION_VAR=$PULUMI_VERSION" \
      "$PULUMI_PKG_MODULE@$PULUMI_VERSION" "$PULUMI_SDK_MODULE@$PULUMI_VERSION" -- "$CLIPBOARD_REPLACE"; then
      rm -rf "$cli_dir.tmp" && mkdir -p "$cli_dir.tmp/bin"
      mv "$work/out/pulumi" "$cli_dir.tmp/bin/pulumi"
      printf 'name=pulumi\nversion=%s\nbuilt=%s\nbuild_seconds=%s\ngo=%s\nmodule=%s\nmodule=%s\n' \
        "$PULUMI_VERSION" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$build_seconds" "$(go env GOVERSION)" \
        "$PULUMI_PKG_MODULE@$PULUMI_VERSION" "$PULUMI_SDK_MODULE@$PULUMI_VERSION" >"$cli_dir.tmp/BUILD-INFO"
      rm -rf "$cli_dir" && mv "$cli_dir.tmp" "$cli_dir"
      pulumi_status="built (${build_seconds}s)"
      cli_ok=true
    else
      pulumi_status="missing (go build failed, see log above)"
    fi
  fi
  pulumi_bin="$cli_dir/bin/pulumi"
  pulumi_ver=$PULUMI_VERSION
fi
if $cli_ok; then
  add_summary pulumi "$pulumi_ver" "$pulumi_bin" "$pulumi_status"
else
  add_summary pulumi "$PULUMI_VERSION" - "$pulumi_status"
fi

# The directory that callers put on PATH: the built CLI's own bin dir, or one of
# ours holding a link to the PATH pulumi, so the language host sits beside it.
if [[ "$pulumi_bin" == "$TOOLCHAIN_DIR/pulumi-"*/bin/pulumi ]]; then
  bin_dir=$(dirname "$pulumi_bin")
else
  bin_dir="$TOOLCHAIN_DIR/pulumi-$pulumi_ver-path/bin"
  mkdir -p "$bin_dir"
  $cli_ok && ln -sfn "$pulumi_bin" "$bin_dir/pulumi"
fi

# The Node.js dynamic-provider host (the program's PKI objects are dynamic resources): the
# SDK ships it as a small script, pulumi-resource-pulumi-nodejs, that the CLI's release
# archive puts beside pulumi. A CLI built from Go modules has no such archive, so it comes
# from the installed SDK (npm ci), copied beside the CLI; it finds the SDK from the
# program's directory at run time.
sdk_dynamic_host="$(dirname "$0")/../node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
if [[ -f "$sdk_dynamic_host" ]]; then
  if ! cmp -s "$sdk_dynamic_host" "$bin_dir/pulumi-resource-pulumi-nodejs" 2>/dev/null; then
    install -m 0755 "$sdk_dynamic_host" "$bin_dir/pulumi-resource-pulumi-nodejs"
  fi
  add_summary pulumi-resource-pulumi-nodejs sdk "$bin_dir/pulumi-resource-pulumi-nodejs" "from the installed @pulumi/pulumi"
else
  add_summary pulumi-resource-pulumi-nodejs sdk - "missing: run npm ci first (dynamic resources cannot run)"
fi

# plugin_install KIND NAME VERSION BINARY: idempotent install into the plugin cache.
plugin_install() {
  local home=${PULUMI_HOME:-$HOME/.pulumi}
  local target="$home/plugins/$1-$2-v$3/pulumi-$1-$2"
  if [[ -x "$target" ]] && cmp -s "$target" "$4"; then
    return 0
  fi
  "$pulumi_bin" plugin install "$1" "$2" "$3" --file "$4" >&2
}

# build_plugin NAME VERSION MODULE PACKAGE LDFLAGS VERSIONS [EXTRA_REQUIRES...]
# Sets plugin_path and plugin_status.
plugin_path=
plugin_status=
build_plugin() {
  local name=$1 version=$2 module=$3 package=$4 ldflags=$5 versions=$6
  shift 6
  local dir="$TOOLCHAIN_DIR/$name-$version" cand reasons=() served=
  plugin_path="$dir/$name"
  if [[ -x "$plugin_path" ]]; then
    plugin_status=cached
    return 0
  fi
  for cand in $versions; do
    if probe_module "$module" "$cand"; then
      served=$cand
      break
    fi
    reasons+=("$probe_error")
  done
  if [[ -z "$served" ]]; then
    plugin_path=-
    plugin_status="missing (not served: $(printf '%s; ' "${reasons[@]}" | sed 's/; $//'))"
    return 1
  fi
  log "building $name $version from $module@$served"
  mkdir -p "$work/out"
  if ! go_build "$name" "$work/out/$name" "$package" "$ldflags" "$module@$served" "$@"; then
    plugin_path=-
    plugin_status="missing ($module@$served is served but go build failed: $(grep -v '^go: \(downloading\|finding\)' "$logs/$name.log" | grep . | tail -n 1 | cut -c1-200))"
    return 1
  fi
  install_cached "$name" "$version" "$work/out/$name" "$module@$served" "$@"
  plugin_status="built (${build_seconds}s from $module@$served)"
}

# ---------------------------------------------------------- command provider
command_ok=false
if build_plugin pulumi-resource-command "$COMMAND_VERSION" "$COMMAND_MODULE" "$COMMAND_PACKAGE" \
  "-s -w -X $COMMAND_VERSION_VAR=$COMMAND_VERSION" "$COMMAND_MODULE_VERSIONS"; then
  command_ok=true
  if $cli_ok && ! plugin_install resource command "$COMMAND_VERSION" "$plugin_path"; then
    command_ok=false
    plugin_status="$plugin_status; plugin install failed"
  fi
fi
if ! $command_ok && $allow_standins && [[ -x "$standin_dir/pulumi-resource-command" ]]; then
  plugin_status="$plugin_status; STAND-IN used: $standin_dir/pulumi-resource-command"
  standins+=(command)
fi
add_summary pulumi-resource-command "$COMMAND_VERSION" "$plugin_path" "$plugin_status"

# -------------------------------------------------------- optional: language host
if $skip_optional; then
  add_summary pulumi-language-nodejs "$PULUMI_VERSION" - "missing (skipped: --skip-optional)"
  random_status="missing (skipped: --skip-optional)"
  if $allow_standins && [[ -x "$standin_dir/pulumi-resource-random" ]]; then
    random_status="$random_status; STAND-IN used: $standin_dir/pulumi-resource-random"
    standins+=(random)
  fi
  add_summary pulumi-resource-random "$RANDOM_VERSION" - "$random_status"
else
  if build_plugin pulumi-language-nodejs "$PULUMI_VERSION" "$NODEJS_HOST_MODULE" "$NODEJS_HOST_PACKAGE" \
    "-s -w -X $PULUMI_VERSION_VAR=$PULUMI_VERSION" "$NODEJS_HOST_MODULE_VERSIONS" \
    "$PULUMI_PKG_MODULE@$PULUMI_VERSION" "$PULUMI_SDK_MODULE@$PULUMI_VERSION" -- "$CLIPBOARD_REPLACE"; then
    # Beside the pulumi binary (the CLI looks there and on PATH).
    if [[ -d "$bin_dir" ]] && ! cmp -s "$plugin_path" "$bin_dir/pulumi-language-nodejs"; then
      cp -f "$plugin_path" "$bin_dir/pulumi-language-nodejs"
    fi
    plugin_path="$bin_dir/pulumi-language-nodejs"
  else
    plugin_status="$plugin_status; inline Automation API programs still work without it"
  fi
  add_summary pulumi-language-nodejs "$PULUMI_VERSION" "$plugin_path" "$plugin_status"

  # ------------------------------------------------------ optional: random provider
  if build_plugin pulumi-resource-random "$RANDOM_VERSION" "$RANDOM_MODULE" "$RANDOM_PACKAGE" \
    "-s -w -X $RANDOM_VERSION_VAR=$RANDOM_VERSION" "$RANDOM_MODULE_VERSIONS"; then
    if $cli_ok && ! plugin_install resource random "$RANDOM_VERSION" "$plugin_path"; then
      plugin_status="$plugin_status; plugin install failed"
    fi
  elif $allow_standins && [[ -x "$standin_dir/pulumi-resource-random" ]]; then
    plugin_status="$plugin_status; STAND-IN used: $standin_dir/pulumi-resource-random"
    standins+=(random)
  fi
  add_summary pulumi-resource-random "$RANDOM_VERSION" "$plugin_path" "$plugin_status"
fi

# ------------------------------------------------------------------- report
path_dirs=$bin_dir
if ((${#standins[@]})); then path_dirs="$standin_dir:$bin_dir"; fi
standin_list=$(IFS=,; echo "${standins[*]:-}")
if $print_env; then
  printf '%s\n' "${summary[@]}" >&2
  # shellcheck disable=SC2016 # $PATH is expanded by the caller's eval
  printf 'export PATH=%q:"$PATH"\n' "$path_dirs"
  printf 'export PULUMI_BIN_DIR=%q\n' "$bin_dir"
  printf 'export XENCOREOS_STANDINS=%q\n' "$standin_list"
else
  printf '%s\n' "${summary[@]}"
  printf 'XENCOREOS_STANDINS=%s\n' "$standin_list"
  printf 'PULUMI_BIN_DIR=%s\n' "$bin_dir"
fi

if $allow_standins; then
  $cli_ok && { $command_ok || [[ " ${standins[*]:-} " == *" command "* ]]; }
else
  $cli_ok && $command_ok
fi
