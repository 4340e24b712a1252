/**
 * Scripts that manage an NFS export on a Linux NAS over SSH (`scripts/*.sh` beside this
 * file, with a generated header). Pure: plain values in, POSIX sh out. The export line
 * carries this deployment's marker so the program only ever edits its own line, and the
 * export's root names the deployment that uses it; no script removes a file or folder under
 * the export: customer data stays.
 */
import * as fs from "fs";
import * as path from "path";
import { scriptWithHeader } from "../shell";

/** The folders every service expects on the share (thesis §10.5). */
export const SHARED_TREE = ["www", "nginx/conf.d", "services", "services/ftp/conf"] as const;

const body = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");

/** The marker on this deployment's export line. */
export function exportMarker(deploymentId: string): string {
  return `xen-coreos:${deploymentId}`;
}

export interface NfsExportSpec {
  /** The deployment's random id (see program.ts). */
  deploymentId: string;
  /** The marker versions before deployment ids wrote (`xen-coreos:<stack>`), replaced once. */
  legacyMarker?: string;
  exportPath: string;
  /** Clients allowed to mount: the cluster network, e.g. 10.50.0.0/24. */
  clients: string;
  /** Export options, e.g. rw,sync,no_subtree_check. */
  exportOptions: string[];
  /** The exports file. Defaults to /etc/exports. */
  exportsFile?: string;
}

/** Adds (or rewrites) this deployment's export line, claims the export, creates the shared tree, re-exports. */
export function renderNfsExportScript(spec: NfsExportSpec): string {
  const marker = exportMarker(spec.deploymentId);
  return scriptWithHeader(body("export.sh"), {
    title: `NFS export ${spec.exportPath} for ${spec.clients}`,
    what: "NFS export $export_path",
    params: [
      ["marker", marker],
      ["deployment", spec.deploymentId],
      ["legacy_marker", spec.legacyMarker ?? ""],
      ["export_path", spec.exportPath],
      ["export_line", `${spec.exportPath} ${spec.clients}(${spec.exportOptions.join(",")}) # ${marker}`],
      ["exports_file", spec.exportsFile ?? "/etc/exports"],
      ["shared_tree", SHARED_TREE.join(" ")],
    ],
  });
}

/** Removes this deployment's export line, releases the export, re-exports. Leaves every file on the share in place. */
export function renderNfsUnexportScript(spec: Pick<NfsExportSpec, "deploymentId" | "exportPath" | "exportsFile">): string {
  return scriptWithHeader(body("unexport.sh"), {
    title: "remove the NFS export (the data on the share is kept)",
    what: "NFS export $export_path",
    params: [
      ["marker", exportMarker(spec.deploymentId)],
      ["deployment", spec.deploymentId],
      ["export_path", spec.exportPath],
      ["exports_file", spec.exportsFile ?? "/etc/exports"],
    ],
  });
}
