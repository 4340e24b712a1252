# xen-coreos: fleet unit galera@.service
unit=galera@.service
instances='galera@1.service galera@2.service'
timeout=300
set -eu
fail() { echo "xen-coreos: fleet unit $unit: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/$unit"
[ -s "$work/$unit" ] || fail "empty unit text on standard input"
targets=${instances:-$unit}
if current=$(fleetctl cat "$unit" 2>/dev/null) && [ "$current" != "$(cat "$work/$unit")" ]; then
  echo "xen-coreos: fleet unit $unit: text changed, replacing it" >&2
  # shellcheck disable=SC2086 # targets is a list of unit names
  fleetctl destroy $targets
  [ "$targets" = "$unit" ] || fleetctl destroy "$unit"
fi
fleetctl submit "$work/$unit"
# shellcheck disable=SC2086
fleetctl start --no-block $targets
deadline=$(( $(date +%s) + timeout ))
for target in $targets; do
  while :; do
    # A global unit is listed once per machine: it is active when every row is.
    state=$(fleetctl list-units --no-legend --fields=unit,active | awk -v u="$target" '$1 == u { n++; if ($2 != "active") s = $2 } END { if (n) print (s == "" ? "active" : s) }')
    [ "$state" = active ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      fail "unit $target is not active after ${timeout}s (fleet reports: ${state:-not scheduled}). Check: fleetctl status $target; fleetctl list-machines --fields=ip,metadata"
    fi
    sleep 2
  done
done
echo "xen-coreos: fleet unit $unit: active: $targets" >&2
