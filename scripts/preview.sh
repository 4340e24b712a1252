#!/usr/bin/env bash
# `npm run preview -- [stack] [--diff]`: a full `pulumi preview` of a stack (default lab)
# with a local state backend: no cloud account, no XenServer, no secret you do not have.
# The first run builds the Pulumi CLI from Go modules (a few minutes, cached after).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
eval "$(bash "$root/.ci/pulumi-toolchain.sh" --print-env --allow-standins --skip-optional)"
exec node -r ts-node/register/transpile-only "$root/scripts/preview.ts" "$@"
