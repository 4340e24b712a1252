import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { FtpServiceSettings } from "../config/services-settings";
import { FleetUnit } from "../fleet/fleet-unit";
import { NodeFile } from "../node/node-file";
import { shq } from "../shell";
import { renderFtpBundle } from "./bundles";
import { FTP_DEFAULTS } from "./ftp-render";

export interface FtpServiceArgs {
  settings: FtpServiceSettings;
  fleetConnection: command.types.input.remote.ConnectionArgs;
  protectedDirs: string[];
}

/**
 * vsftpd with virtual users (thesis §10.5.3, Annex 5, fixed): the users file is rendered
 * whole from the declared list every time (adding a user never drops another), each
 * password comes from `@pulumi/random` and is exported per user as a secret, the passive
 * range is published, and each user's home is its `www/<user>` folder on the share.
 */
export class FtpService extends pulumi.ComponentResource {
  /** Password per user (secret). */
  public readonly passwords: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: FtpServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:services:FtpService", name, {}, opts);
    const s = args.settings;
    this.passwords = {};
    for (const user of s.users) {
      // Keyed by the user: adding or removing another user never changes this one's password.
      this.passwords[user] = pulumi.secret(new random.RandomPassword(`${name}-${user}-password`, { length: 24, special: false, keepers: { user } }, { parent: this }).result);
    }
    const saltKey = new random.RandomPassword(`${name}-salt-key`, { length: 32, special: false }, { parent: this }).result;

    // Homes: created when missing and given to the guest account, never removed (they hold the customers' sites).
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
    const bundle = pulumi
      .all([saltKey, ...usernames.map((u) => this.passwords[u])])
      .apply(([key, ...passwords]) => renderFtpBundle(s, usernames.map((name, i) => ({ name, password: passwords[i] })), key));
    // Placement and unit text do not depend on passwords: render them once, plainly.
    const plain = renderFtpBundle(s, usernames.map((name) => ({ name, password: "placeholder" })));
    const files = plain.files.map(
      (file, i) =>
        new NodeFile(`${name}-file-${file.path.split("/").pop()}`, {
          connection: args.fleetConnection,
          path: file.path,
          // The users file holds hashes derived from secrets: it stays secret.
          content: file.path.endsWith(FTP_DEFAULTS.usersFile) ? pulumi.secret(bundle.apply((b) => b.files[i].content)) : file.content,
          mode: file.mode,
          protectedDirs: args.protectedDirs,
        }, { parent: this, dependsOn: [homes] }),
    );
    for (const unit of plain.units) {
      new FleetUnit(`${name}-${unit.name.replace(/\.service$/, "")}`, { connection: args.fleetConnection, unit }, { parent: this, dependsOn: files });
    }
    this.registerOutputs({ passwords: this.passwords, users: s.users });
  }
}
