# xen-coreos: remove fleet unit galera@.service
unit=galera@.service
instances='galera@1.service galera@2.service'
set -eu
fail() { echo "xen-coreos: fleet unit $unit: $*" >&2; exit 1; }
# shellcheck disable=SC2086 # a list of unit names
[ -z "$instances" ] || fleetctl destroy $instances
fleetctl destroy "$unit"
