import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { FtpServiceSettings } from "../config/services-settings";
import { FleetUnit } from "../fleet/fleet-unit";
import { NodeFiles } from "../node/node-files";
import { TlsMaterial } from "../pki/x509";
import { shq } from "../shell";
import { renderFtpBundle } from "./bundles";
import { FTP_DEFAULTS, ftpFilePaths } from "./ftp-render";

export interface FtpServiceArgs {
  settings: FtpServiceSettings;
  /** SSH connection to the node that runs fleetctl and creates the users' homes on the share. */
  fleetConnection: command.types.input.remote.ConnectionArgs;
  /**
   * Every node the unit's placement allows (fleet may start vsftpd on any of them), with its SSH
   * connection: each receives the whole file set under `/etc/xen-coreos/ftp/`.
   */
  nodes: Array<{ name: string; connection: command.types.input.remote.ConnectionArgs }>;
  /**
   * The FTPS certificate (secret) for the addresses of `nodes`, from the deployment PKI.
   * Required when `settings.tls` is true (the default), refused when it is false.
   */
  certificate?: pulumi.Input<TlsMaterial>;
  /** Paths the program never writes (customer data, e.g. /mnt/nfs/www). */
  protectedDirs: string[];
}

/**
 * vsftpd with virtual users (thesis §10.5.3, Annex 5, fixed): the users file is rendered
 * whole from the declared list every time (adding a user never drops another), each
 * password comes from `@pulumi/random` and is exported per user as a secret, the passive
 * range is published, and each user's site is its `www/<user>` folder on the share.
 * Secure by default (issue 12): FTPS required, a chroot root the user cannot write, and the
 * conf, PAM file, users file (0600) and certificate (key 0600) written node-local by one
 * `NodeFiles` per eligible node, never on the share.
 */
export class FtpService extends pulumi.ComponentResource {
  /** Password per user (secret). */
  public readonly passwords: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: FtpServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:services:FtpService", name, {}, opts);
    const s = args.settings;
    if (args.nodes.length === 0)
      throw new pulumi.ResourceError(`xen-coreos:services.ftp.placement (${s.placement.join(",")}) matches no node of cluster ${s.cluster}: vsftpd's files would go nowhere. Fix: use metadata the nodes carry.`, this);
    if (s.tls && args.certificate === undefined)
      throw new pulumi.ResourceError("xen-coreos:services.ftp.tls is on but FtpService got no certificate. Fix: pass the deployment PKI's certificate for the ftp nodes (components/program.ts).", this);
    if (!s.tls && args.certificate !== undefined)
      throw new pulumi.ResourceError("xen-coreos:services.ftp.tls is false, yet a certificate was given: it would be written to the nodes and never used. Fix: give none.", this);

    this.passwords = {};
    for (const user of s.users) {
      // Keyed by the user: adding or removing another user never changes this one's password.
      this.passwords[user] = pulumi.secret(new random.RandomPassword(`${name}-${user}-password`, { length: 24, special: false, keepers: { user } }, { parent: this }).result);
    }
    const saltKey = new random.RandomPassword(`${name}-salt-key`, { length: 32, special: false }, { parent: this }).result;

    // Sites: created when missing and given to the guest account, never removed (they hold the customers' data).
    const homes = new command.remote.Command(`${name}-homes`, {
      connection: args.fleetConnection,
      create: [
        "set -eu",
        'if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root=sudo; fi',
        // Owned by the image's guest account, which vsftpd writes as (virtual_use_local_privs).
        ...s.users.flatMap((u) => [
          `$as_root mkdir -p ${shq(`${FTP_DEFAULTS.wwwDir}/${u}`)}`,
          `$as_root chown ${shq(s.homeOwner)} ${shq(`${FTP_DEFAULTS.wwwDir}/${u}`)}`,
        ]),
        "",
      ].join("\n"),
      triggers: [s.homeOwner, ...s.users],
    }, { parent: this, replaceOnChanges: ["triggers"] });

    const usernames = s.users;
    const certificate = args.certificate === undefined ? pulumi.output(undefined) : pulumi.output(args.certificate);
    // Hashes of secret passwords and a private key: the whole set stays secret.
    const files = pulumi.secret(
      pulumi
        .all([saltKey, certificate, ...usernames.map((u) => this.passwords[u])])
        .apply(([key, cert, ...passwords]) =>
          renderFtpBundle(s, usernames.map((user, i) => ({ name: user, password: passwords[i] as string })), key as string, cert as TlsMaterial | undefined).files,
        ),
    );
    const paths = ftpFilePaths(s.tls);
    const nodeFiles = args.nodes.map(
      (node) => new NodeFiles(`${name}-files-${node.name}`, { connection: node.connection, files, paths, protectedDirs: args.protectedDirs }, { parent: this }),
    );
    // Placement and unit text do not depend on passwords: render them once, plainly.
    const plain = renderFtpBundle(s, usernames.map((user) => ({ name: user, password: "placeholder" })));
    for (const unit of plain.units) {
      new FleetUnit(`${name}-${unit.name.replace(/\.service$/, "")}`, { connection: args.fleetConnection, unit }, { parent: this, dependsOn: [homes, ...nodeFiles] });
    }
    this.registerOutputs({ passwords: this.passwords, users: s.users });
  }
}
