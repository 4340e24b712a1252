import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { buildUserDataImage, encodeForStdin, imageSha256, paddedSize } from "./config-drive-image";
import { EncodedDriveFile, renderConfigDriveCreateScript, renderConfigDriveDeleteScript } from "./xe-scripts";

export interface ConfigDriveArgs {
  /** SSH connection to the XenServer host. */
  connection: command.types.input.remote.ConnectionArgs;
  /** The deployment's id (random, kept in the stack's state): part of the drive's marker. */
  deploymentId: pulumi.Input<string>;
  /** Cluster name (e.g. lab). */
  clusterName: string;
  /** Node name, used in the VDI's name-label and marker. */
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
  /** More files for the drive, e.g. the guest agent under `agent/` (see GuestAgent). Defaults to none. */
  extraFiles?: pulumi.Input<EncodedDriveFile[]>;
}

/** Names, modes and a hash of the extra files: what a preview shows when the guest agent changes. */
function filesDigest(files: EncodedDriveFile[]): string[] {
  return files.map((f) => `${f.path} ${f.mode.toString(8)} sha256:${crypto.createHash("sha256").update(Buffer.from(f.base64, "base64")).digest("hex").slice(0, 12)}`);
}

/**
 * A node's config-2 drive: an ISO 9660 image (label `config-2`) with
 * `openstack/latest/user_data`, built here by the program (deterministic bytes: the same
 * cloud-config gives the same image), streamed to the XenServer host on standard input and
 * imported into a VDI that the VM attaches read-only. A stock dom0 has no ISO tool, so
 * nothing is built there. CoreOS reads the drive at every boot, so a new cloud-config
 * reaches the node by a new drive and a reboot (see XenVm). A content change replaces the
 * drive: the new one is made first, the VM switches to it, then the old one goes.
 */
export class ConfigDrive extends pulumi.ComponentResource {
  /** uuid of the config drive VDI. */
  public readonly vdiUuid: pulumi.Output<string>;

  constructor(name: string, args: ConfigDriveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:xen:ConfigDrive", name, {}, opts);
    // The marker names this deployment, node and exact content, so deleting an old drive
    // never touches its successor, nor another deployment's drives.
    const marker = pulumi
      .all([args.deploymentId, args.redactedUserData, args.secretsVersion])
      .apply(([deployment, text, version]) => {
        const content = crypto.createHash("sha256").update(text).update(version).digest("hex").slice(0, 12);
        return `${deployment}/${args.clusterName}/${args.nodeName}/${content}`;
      });
    const image = pulumi
      .all([args.userData, args.extraFiles ?? []])
      .apply(([userData, extra]) =>
        buildUserDataImage(userData, (extra as EncodedDriveFile[]).map((f) => ({ path: f.path, mode: f.mode, content: Buffer.from(f.base64, "base64") }))),
      );
    // Size and hash of the image: not secret (a hash of content that holds a random token), and
    // in the script so the host checks what arrived and the preview shows a new image.
    const imageInfo = pulumi.unsecret(
      image.apply((img) => ({ bytes: img.length, sha256: imageSha256(img) })),
    );
    const nameLabel = `${args.nodeName} config-2 (xen-coreos)`;
    const drive = new command.remote.Command(
      `${name}-vdi`,
      {
        connection: args.connection,
        create: pulumi.all([marker, imageInfo]).apply(([m, info]) =>
          renderConfigDriveCreateScript({
            marker: m,
            nameLabel,
            storageRepository: args.storageRepository,
            imageBytes: info.bytes,
            imageSha256: info.sha256,
            vdiBytes: paddedSize(info.bytes),
          }),
        ),
        delete: marker.apply((m) => renderConfigDriveDeleteScript({ marker: m, nameLabel })),
        stdin: pulumi.secret(image.apply(encodeForStdin)),
        triggers: [args.redactedUserData, args.secretsVersion, pulumi.output(args.extraFiles ?? []).apply(filesDigest)],
      },
      { parent: this, replaceOnChanges: ["create", "stdin", "triggers"] },
    );
    this.vdiUuid = drive.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
    this.registerOutputs({ vdiUuid: this.vdiUuid });
  }
}
