import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { NodeFileSpec, checkFileSet, renderNodeFilesRemoveScript, renderNodeFilesStdin, renderNodeFilesWriteScript } from "./node-files-render";

export interface NodeFilesArgs {
  /** SSH connection to the node (user core with sudo, or root). */
  connection: command.types.input.remote.ConnectionArgs;
  /**
   * The files, as plain values or an Output of them (e.g. certificates). The paths must be
   * known when the program runs (`paths`), so that delete and the preview know them.
   */
  files: pulumi.Input<NodeFileSpec[]>;
  /** The paths of `files`, in any order (required when `files` is an Output). */
  paths?: string[];
  /** Paths under these folders are refused (customer data, e.g. /mnt/nfs/www). */
  protectedDirs?: string[];
  /** systemd units restarted after the files are in place (e.g. the firewall's restore units). */
  restartUnits?: string[];
}

/**
 * A set of program-owned files on one node (a service's config, scripts and certificates),
 * node-local and root-owned, written in one SSH command: every file is checked against its
 * sha256 on the node and only then are they all renamed into place. A content change is an
 * update (the preview shows the changed lines, or `[secret]` when a file is secret); a file
 * dropped from the set is removed; delete removes the set.
 */
export class NodeFiles extends pulumi.ComponentResource {
  public readonly paths: string[];

  constructor(name: string, args: NodeFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:node:NodeFiles", name, {}, opts);
    const paths = args.paths ?? (Array.isArray(args.files) ? (args.files as NodeFileSpec[]).map((f) => f.path) : undefined);
    if (!paths) throw new pulumi.ResourceError("NodeFiles: give `paths` when `files` is an Output", this);
    checkFileSet(paths.map((p) => ({ path: p, mode: 0o644 })), args.protectedDirs);
    const stdin = pulumi.output(args.files).apply((files) => {
      const given = files.map((f) => f.path).sort().join("\n");
      if (given !== [...paths].sort().join("\n")) throw new Error(`NodeFiles ${name}: the files' paths differ from \`paths\``);
      checkFileSet(files, args.protectedDirs);
      return renderNodeFilesStdin(files);
    });
    const write = renderNodeFilesWriteScript(name, paths, args.restartUnits);
    new command.remote.Command(`${name}-files`, {
      connection: args.connection,
      create: write,
      update: write,
      delete: renderNodeFilesRemoveScript(name, paths),
      stdin,
      addPreviousOutputInEnv: true,
      logging: "stderr",
    }, { parent: this });
    this.paths = paths;
    this.registerOutputs({ paths });
  }
}
