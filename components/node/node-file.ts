import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderNodeFileRemoveScript, renderNodeFileWriteScript } from "../fleet/fleetctl-scripts";

export interface NodeFileArgs {
  /** SSH connection to the node that writes the file (user core; sudo for root-owned paths). */
  connection: command.types.input.remote.ConnectionArgs;
  /** Absolute path on the node, e.g. /mnt/nfs/nginx/nginx.conf or /etc/xen-coreos/galera.env. */
  path: string;
  /** The content; a secret stays a secret (the preview then shows no text). */
  content: pulumi.Input<string>;
  /** Octal mode. Defaults to 0o644. */
  mode?: number;
  /** Paths under these folders are refused: they hold customer data (e.g. /mnt/nfs/www). */
  protectedDirs?: string[];
}

/**
 * A program-owned file on a node: config on the NAS share (written through a node, as
 * every node mounts it) or a node-local file. A content change rewrites it in place
 * (temp file + rename) and the preview shows the changed lines; delete removes it.
 */
export class NodeFile extends pulumi.ComponentResource {
  public readonly path: string;

  constructor(name: string, args: NodeFileArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:node:NodeFile", name, {}, opts);
    if (!args.path.startsWith("/") || args.path.includes("/../") || args.path.endsWith("/")) {
      throw new pulumi.ResourceError(`file path must be an absolute file path, got ${JSON.stringify(args.path)}`, this);
    }
    for (const dir of args.protectedDirs ?? []) {
      if (args.path === dir || args.path.startsWith(dir.replace(/\/+$/, "") + "/")) {
        throw new pulumi.ResourceError(`${args.path} is under ${dir}, which holds customer data: the program never writes or deletes there`, this);
      }
    }
    const script = renderNodeFileWriteScript({ path: args.path, mode: args.mode ?? 0o644 });
    new command.remote.Command(
      `${name}-file`,
      {
        connection: args.connection,
        create: script,
        update: script,
        delete: renderNodeFileRemoveScript({ path: args.path }),
        stdin: args.content,
        logging: "stderr",
      },
      { parent: this },
    );
    this.path = args.path;
    this.registerOutputs({ path: this.path });
  }
}
