import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { pathToUnitName } from "../systemd/ini";
import { DEFAULT_EXPORT_OPTIONS, checkExport, renderNfsExportScript, renderNfsUnexportScript } from "./nfs-render";

export interface NfsShareArgs {
  /** NFS server address (e.g. 10.50.0.200). */
  server: string;
  /** Exported path (e.g. /nfs/NFS). */
  exportPath: string;
  /** Where nodes mount it. Defaults to /mnt/nfs. */
  mountPoint?: string;
  /** Mount options. Defaults to [rw, acl]. */
  options?: string[];
  /** The addresses allowed to mount it: every cluster node's (one export entry each). */
  clients: string[];
  /**
   * When set, the export is managed on a Linux NAS over this SSH connection: an exports
   * entry for `clients`, `exportfs -ra`, and the shared tree. Unset = an appliance
   * configured by hand (the lab's NAS).
   */
  managedConnection?: command.types.input.remote.ConnectionArgs;
  /** Export options on a managed NAS. Defaults to [rw, sync, no_subtree_check, root_squash]; no_root_squash is refused. */
  exportOptions?: string[];
  /** The deployment's random id: the managed export line's marker and the export's owner. */
  deploymentId: pulumi.Input<string>;
  /** Stack name: the marker older versions wrote on the export line (replaced once). */
  stack: string;
}

/**
 * The NAS share every node mounts (thesis §10.5.1, Annex 4): customer data only. On a managed
 * NAS it is exported to the cluster nodes' addresses alone, with root_squash. A teardown
 * removes the export line and nothing else: customer data is never deleted.
 */
export class NfsShare extends pulumi.ComponentResource {
  public readonly server: string;
  public readonly exportPath: string;
  public readonly mountPoint: string;
  public readonly options: string[];
  /** The systemd mount unit name that matches `mountPoint` (mnt-nfs.mount). */
  public readonly mountUnit: string;
  /** True when the program manages the export. */
  public readonly managed: boolean;

  constructor(name: string, args: NfsShareArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:nas:NfsShare", name, {}, opts);
    this.server = args.server;
    this.exportPath = args.exportPath;
    this.mountPoint = args.mountPoint ?? "/mnt/nfs";
    this.options = args.options ?? ["rw", "acl"];
    this.mountUnit = pathToUnitName(this.mountPoint);
    this.managed = args.managedConnection !== undefined;
    if (args.managedConnection) {
      const exportOptions = args.exportOptions ?? [...DEFAULT_EXPORT_OPTIONS];
      try {
        checkExport({ clients: args.clients, exportOptions });
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
      const spec = pulumi.output(args.deploymentId).apply((deploymentId) => ({
        deploymentId,
        legacyMarker: `xen-coreos:${args.stack}`,
        exportPath: args.exportPath,
        clients: args.clients,
        exportOptions,
      }));
      const script = spec.apply(renderNfsExportScript);
      new command.remote.Command(
        `${name}-export`,
        { connection: args.managedConnection, create: script, update: script, delete: spec.apply(renderNfsUnexportScript) },
        { parent: this },
      );
    }
    this.registerOutputs({
      server: this.server,
      exportPath: this.exportPath,
      mountPoint: this.mountPoint,
      options: this.options,
      mountUnit: this.mountUnit,
      managed: this.managed,
    });
  }
}
