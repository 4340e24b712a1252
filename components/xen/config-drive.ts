import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderConfigDriveCreateScript, renderConfigDriveDeleteScript } from "./xe-scripts";

export interface ConfigDriveArgs {
  /** SSH connection to the XenServer host. */
  connection: command.types.input.remote.ConnectionArgs;
  /** Node marker, `<stack>/<cluster>/<node>`. */
  nodeMarker: string;
  /** Node name, used in the VDI's name-label. */
  nodeName: string;
  /** name-label of the storage repository that holds the drive. */
  storageRepository: string;
  /** The cloud-config written to `openstack/latest/user_data` (a secret: it holds the discovery token). */
  userData: pulumi.Input<string>;
  /**
   * The same cloud-config with its secrets replaced by placeholders. It identifies the
   * drive's content and is what `pulumi preview` shows when the config changes.
   */
  redactedUserData: pulumi.Input<string>;
  /** Changes whenever a secret inside `userData` changes (e.g. the discovery token's id). */
  secretsVersion: pulumi.Input<string>;
  /** Directory on the host with the XenServer guest agent. Defaults to xscontainer's. */
  guestAgentDir?: string;
}

/** Where XenServer's container management keeps the guest agent it puts on config drives. */
export const DEFAULT_GUEST_AGENT_DIR = "/opt/xensource/packages/files/xscontainer/agent";

/**
 * A node's config-2 drive: an ISO with `openstack/latest/user_data`, imported into a VDI
 * that the VM attaches read-only. CoreOS reads it at every boot, so a new cloud-config
 * reaches the node by a new drive and a reboot (see XenVm). A content change replaces
 * the drive: the new one is made first, the VM switches to it, then the old one goes.
 */
export class ConfigDrive extends pulumi.ComponentResource {
  /** uuid of the config drive VDI. */
  public readonly vdiUuid: pulumi.Output<string>;

  constructor(name: string, args: ConfigDriveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:xen:ConfigDrive", name, {}, opts);
    const guestAgentDir = args.guestAgentDir ?? DEFAULT_GUEST_AGENT_DIR;
    // The marker names this exact content, so deleting an old drive never touches its successor.
    const marker = pulumi
      .all([args.redactedUserData, args.secretsVersion])
      .apply(([text, version]) => `${args.nodeMarker}/${crypto.createHash("sha256").update(text).update(version).digest("hex").slice(0, 12)}`);
    const nameLabel = `${args.nodeName} config-2 (xen-coreos)`;
    const drive = new command.remote.Command(
      `${name}-vdi`,
      {
        connection: args.connection,
        create: marker.apply((m) =>
          renderConfigDriveCreateScript({ marker: m, nameLabel, storageRepository: args.storageRepository, guestAgentDir }),
        ),
        delete: marker.apply((m) => renderConfigDriveDeleteScript({ marker: m, nameLabel })),
        stdin: pulumi.secret(args.userData),
        triggers: [args.redactedUserData, args.secretsVersion],
      },
      { parent: this, replaceOnChanges: ["create", "stdin", "triggers"] },
    );
    this.vdiUuid = drive.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
    this.registerOutputs({ vdiUuid: this.vdiUuid });
  }
}
