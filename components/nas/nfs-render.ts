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

/**
 * The folders the program creates on the share: customer data only (issue 12). Configs and
 * scripts that root runs are node-local files the program writes over SSH (NodeFiles), never
 * on a share that every client can write.
 */
export const SHARED_TREE = ["www"] as const;

/** Export options on a managed NAS unless given: root on a node is squashed to nobody on the share. */
export const DEFAULT_EXPORT_OPTIONS = ["rw", "sync", "no_subtree_check", "root_squash"] as const;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d{1,2}))?$/;

/** Checks the clients (node addresses, or networks a.b.c.d/n) and the options; throws naming the fix. */
export function checkExport(spec: Pick<NfsExportSpec, "clients" | "exportOptions">): void {
  if (spec.clients.length === 0) throw new Error("the NFS export needs at least one client: the cluster nodes' addresses");
  for (const c of spec.clients) {
    const m = IPV4.exec(c);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || (m[6] !== undefined && Number(m[6]) > 32))
      throw new Error(`NFS client ${JSON.stringify(c)} must be an IPv4 address (a node's) or network a.b.c.d/n; wildcards and host names are refused`);
  }
  for (const o of spec.exportOptions) {
    if (!/^[a-z_]+(=[A-Za-z0-9:._/-]+)?$/.test(o)) throw new Error(`NFS export option ${JSON.stringify(o)} is not an option word`);
    if (o === "no_root_squash")
      throw new Error("NFS export option no_root_squash gives root on every client root on the share: refused (the share holds customer data only, and root on a node is squashed)");
  }
  if (!spec.exportOptions.includes("root_squash")) throw new Error("NFS export options must include root_squash (root on a node is squashed to nobody on the share)");
}

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
  /** Clients allowed to mount: the cluster nodes' addresses (one export entry each), e.g. [10.50.0.101, 10.50.0.102]. */
  clients: string[];
  /** Export options, e.g. rw,sync,no_subtree_check,root_squash; no_root_squash is refused. */
  exportOptions: string[];
  /** The exports file. Defaults to /etc/exports. */
  exportsFile?: string;
}

/** Adds (or rewrites) this deployment's export line, claims the export, creates the shared tree, re-exports. */
export function renderNfsExportScript(spec: NfsExportSpec): string {
  checkExport(spec);
  const marker = exportMarker(spec.deploymentId);
  const options = spec.exportOptions.join(",");
  return scriptWithHeader(body("export.sh"), {
    title: `NFS export ${spec.exportPath} for ${spec.clients.join(" ")}`,
    what: "NFS export $export_path",
    params: [
      ["marker", marker],
      ["deployment", spec.deploymentId],
      ["legacy_marker", spec.legacyMarker ?? ""],
      ["export_path", spec.exportPath],
      ["export_line", `${spec.exportPath} ${spec.clients.map((c) => `${c}(${options})`).join(" ")} # ${marker}`],
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
