#!/usr/bin/env bash
# `npm run policy -- [stack]`: a full `pulumi preview` of a stack (default lab) with the
# policy pack in policy/ (all rules mandatory): the same local, offline preview as
# `npm run preview`, and exit status 1 when a rule is broken. See policy/rules.ts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
eval "$(bash "$root/.ci/pulumi-toolchain.sh" --print-env --allow-standins --skip-optional)"
exec node -r ts-node/register/transpile-only "$root/policy/preview.ts" "$@"
