/**
 * Scripts that manage an NFS export on a Linux NAS over SSH. Pure: plain values in, POSIX
 * sh out. The export line carries a marker comment so the program only ever edits its own
 * line; no script removes a file or folder under the export: customer data stays.
 */
import { shellAssign } from "../shell";

/** The folders every service expects on the share (thesis §10.5). */
export const SHARED_TREE = ["www", "nginx/conf.d", "services", "services/ftp/conf"] as const;

export interface NfsExportSpec {
  /** Marker identifying this stack's export line, e.g. `xen-coreos:lab`. */
  marker: string;
  exportPath: string;
  /** Clients allowed to mount: the cluster network, e.g. 10.50.0.0/24. */
  clients: string;
  /** Export options, e.g. rw,sync,no_subtree_check. */
  exportOptions: string[];
  /** The exports file. Defaults to /etc/exports. */
  exportsFile?: string;
}

/** Adds (or rewrites) this stack's export line, creates the shared tree, re-exports. */
export function renderNfsExportScript(spec: NfsExportSpec): string {
  return [
    `# xen-coreos: NFS export ${spec.exportPath} for ${spec.clients}`,
    shellAssign("marker", spec.marker),
    shellAssign("export_path", spec.exportPath),
    shellAssign("export_line", `${spec.exportPath} ${spec.clients}(${spec.exportOptions.join(",")}) # ${spec.marker}`),
    shellAssign("exports_file", spec.exportsFile ?? "/etc/exports"),
    "set -eu",
    ...SHARED_TREE.map((dir) => `mkdir -p "$export_path"/${dir}`),
    'touch "$exports_file"',
    'tmp=$(mktemp "$exports_file.XXXXXX")',
    // Keep every line that does not end in exactly our marker (lab must not match lab2).
    'awk -v m=" # $marker" \'length($0) < length(m) || substr($0, length($0) - length(m) + 1) != m\' "$exports_file" >"$tmp"',
    "printf '%s\\n' \"$export_line\" >>\"$tmp\"",
    'chmod 0644 "$tmp"',
    'mv "$tmp" "$exports_file"',
    "exportfs -ra",
    "",
  ].join("\n");
}

/** Removes this stack's export line and re-exports. Leaves every file on the share in place. */
export function renderNfsUnexportScript(spec: Pick<NfsExportSpec, "marker" | "exportsFile">): string {
  return [
    "# xen-coreos: remove the NFS export (the data on the share is kept)",
    shellAssign("marker", spec.marker),
    shellAssign("exports_file", spec.exportsFile ?? "/etc/exports"),
    "set -eu",
    '[ -f "$exports_file" ] || exit 0',
    'tmp=$(mktemp "$exports_file.XXXXXX")',
    // Keep every line that does not end in exactly our marker (lab must not match lab2).
    'awk -v m=" # $marker" \'length($0) < length(m) || substr($0, length($0) - length(m) + 1) != m\' "$exports_file" >"$tmp"',
    'chmod 0644 "$tmp"',
    'mv "$tmp" "$exports_file"',
    "exportfs -ra",
    "",
  ].join("\n");
}
