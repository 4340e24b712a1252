# shellcheck shell=bash
# Sourced by the toolchain scripts: where built binaries are cached, outside the work tree.
# XENCOREOS_TOOLCHAIN_DIR when set; else /var/cache/xen-coreos/toolchain when this user may
# write there (root, CI); else the user's cache, ${XDG_CACHE_HOME:-~/.cache}/xen-coreos/toolchain.
# test/support/engine.ts `toolchainDir()` follows the same rule.
if [[ -n "${XENCOREOS_TOOLCHAIN_DIR:-}" ]]; then
  TOOLCHAIN_DIR=$XENCOREOS_TOOLCHAIN_DIR
elif mkdir -p /var/cache/xen-coreos/toolchain 2>/dev/null && [[ -w /var/cache/xen-coreos/toolchain ]]; then
  TOOLCHAIN_DIR=/var/cache/xen-coreos/toolchain
else
  TOOLCHAIN_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/xen-coreos/toolchain
fi
export TOOLCHAIN_DIR
