/**
 * Shell scripts run on a cluster node (user core) to apply fleet units and files. Pure:
 * plain values in, POSIX sh out; every value is one quoted assignment at the top, so a
 * preview diff shows exactly what changed. fleetctl syntax follows the 0.11-era CLI
 * (coreos/fleet `fleetctl/*.go`): options before unit names, `--no-legend`, `--fields`.
 */
import { shellAssign, strictPrelude } from "../shell";

function prelude(what: string, needsRoot = false): string[] {
  return [
    ...strictPrelude(what),
    // core has passwordless sudo on CoreOS; the test sandbox runs as root.
    ...(needsRoot ? ['if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root=sudo; fi'] : []),
  ];
}

export interface FleetApplySpec {
  /** The unit's fleet name (`apache-1.service`, or a template `galera@.service`). */
  unit: string;
  /** For a template: the instances to start. Empty for a plain unit. */
  instances: string[];
  /** Seconds to wait for every started unit to be active. */
  timeoutSeconds: number;
}

/**
 * Submits the unit text read from standard input and starts it (or its instances), then
 * waits until fleet reports each one active. fleet keeps the first text submitted under a
 * name, so a unit whose text differs is destroyed first: that is how a change replaces it.
 */
export function renderFleetApplyScript(spec: FleetApplySpec): string {
  return [
    `# xen-coreos: fleet unit ${spec.unit}`,
    shellAssign("unit", spec.unit),
    shellAssign("instances", spec.instances.join(" ")),
    shellAssign("timeout", spec.timeoutSeconds),
    ...prelude("fleet unit $unit"),
    "",
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    'cat >"$work/$unit"',
    '[ -s "$work/$unit" ] || fail "empty unit text on standard input"',
    'targets=${instances:-$unit}',
    'if current=$(fleetctl cat "$unit" 2>/dev/null) && [ "$current" != "$(cat "$work/$unit")" ]; then',
    '  echo "xen-coreos: fleet unit $unit: text changed, replacing it" >&2',
    "  # shellcheck disable=SC2086 # targets is a list of unit names",
    "  fleetctl destroy $targets",
    '  [ "$targets" = "$unit" ] || fleetctl destroy "$unit"',
    "fi",
    'fleetctl submit "$work/$unit"',
    "# shellcheck disable=SC2086",
    "fleetctl start --no-block $targets",
    "deadline=$(( $(date +%s) + timeout ))",
    "for target in $targets; do",
    "  while :; do",
    "    # A global unit is listed once per machine: it is active when every row is.",
    '    state=$(fleetctl list-units --no-legend --fields=unit,active | awk -v u="$target" \'$1 == u { n++; if ($2 != "active") s = $2 } END { if (n) print (s == "" ? "active" : s) }\')',
    '    [ "$state" = active ] && break',
    '    if [ "$(date +%s)" -ge "$deadline" ]; then',
    '      fail "unit $target is not active after ${timeout}s (fleet reports: ${state:-not scheduled}). Check: fleetctl status $target; fleetctl list-machines --fields=ip,metadata"',
    "    fi",
    "    sleep 2",
    "  done",
    "done",
    'echo "xen-coreos: fleet unit $unit: active: $targets" >&2',
    "",
  ].join("\n");
}

/** Destroys the unit (and its instances). A unit already gone is success, as in fleetctl. */
export function renderFleetDestroyScript(spec: Pick<FleetApplySpec, "unit" | "instances">): string {
  return [
    `# xen-coreos: remove fleet unit ${spec.unit}`,
    shellAssign("unit", spec.unit),
    shellAssign("instances", spec.instances.join(" ")),
    ...prelude("fleet unit $unit"),
    "# shellcheck disable=SC2086 # a list of unit names",
    "[ -z \"$instances\" ] || fleetctl destroy $instances",
    'fleetctl destroy "$unit"',
    "",
  ].join("\n");
}

export interface FleetReadySpec {
  /** How many machines fleet must list. */
  machines: number;
  timeoutSeconds: number;
}

/** Waits until fleet lists the cluster's machines: the units are applied only then. */
export function renderFleetReadyScript(spec: FleetReadySpec): string {
  return [
    "# xen-coreos: wait for the fleet cluster",
    shellAssign("machines", spec.machines),
    shellAssign("timeout", spec.timeoutSeconds),
    ...prelude("fleet cluster"),
    "deadline=$(( $(date +%s) + timeout ))",
    "while :; do",
    "  seen=$(fleetctl list-machines --no-legend --fields=machine 2>/dev/null | grep -c . || true)",
    '  [ "$seen" -ge "$machines" ] && break',
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    '    fail "fleet lists $seen of $machines machines after ${timeout}s. Check: etcdctl cluster-health; fleetctl list-machines"',
    "  fi",
    "  sleep 5",
    "done",
    'echo "xen-coreos: fleet cluster: $seen machines" >&2',
    "",
  ].join("\n");
}

export interface NodeFileSpec {
  path: string;
  /** Octal mode, e.g. 0o644. */
  mode: number;
}

/** Writes standard input to the file atomically (temp file + rename) with the mode. */
export function renderNodeFileWriteScript(spec: NodeFileSpec): string {
  return [
    `# xen-coreos: file ${spec.path}`,
    shellAssign("path", spec.path),
    shellAssign("mode", spec.mode.toString(8).padStart(4, "0")),
    ...prelude("file $path", true),
    '$as_root mkdir -p "$(dirname "$path")"',
    'tmp=$($as_root mktemp "$path.XXXXXX")',
    '$as_root chmod "$mode" "$tmp"',
    "$as_root tee \"$tmp\" >/dev/null",
    '$as_root mv -f "$tmp" "$path"',
    "",
  ].join("\n");
}

/** Removes a program-owned file (never a customer's: callers refuse paths under www/). */
export function renderNodeFileRemoveScript(spec: Pick<NodeFileSpec, "path">): string {
  return [
    `# xen-coreos: remove file ${spec.path}`,
    shellAssign("path", spec.path),
    ...prelude("file $path", true),
    '$as_root rm -f "$path"',
    "",
  ].join("\n");
}
