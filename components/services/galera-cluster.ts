import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { ClusterSettings } from "../config/settings";
import { GaleraServiceSettings } from "../config/services-settings";
import { FleetUnit } from "../fleet/fleet-unit";
import { NodeFile } from "../node/node-file";
import { galeraNodes, renderGaleraBundle } from "./bundles";
import { GALERA_DEFAULTS, renderGaleraEnvFile } from "./galera-render";

export interface GaleraClusterArgs {
  settings: GaleraServiceSettings;
  /** The cluster the members run on. */
  cluster: ClusterSettings;
  /** SSH connection to the node that runs fleetctl and writes the share's files. */
  fleetConnection: command.types.input.remote.ConnectionArgs;
  /** SSH connection to each node, by node name: the credentials file is node-local. */
  nodeConnections: Record<string, command.types.input.remote.ConnectionArgs>;
  protectedDirs: string[];
}

/**
 * The MySQL Galera cluster (thesis §10.5.2, fixed): members that conflict with each other,
 * a discovery sidecar per member, HAProxy on every db node giving clients one port.
 * Passwords come from `@pulumi/random`, stay Pulumi secrets, and reach the nodes only in
 * a root-only environment file; no unit text holds one.
 */
export class GaleraCluster extends pulumi.ComponentResource {
  /** Where clients connect: any of these hosts on `port`. */
  public readonly endpoint: { hosts: string[]; port: number; database: string; user: string };
  /** The application user's password (secret). */
  public readonly appPassword: pulumi.Output<string>;
  /** The root password (secret). */
  public readonly rootPassword: pulumi.Output<string>;

  constructor(name: string, args: GaleraClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:services:GaleraCluster", name, {}, opts);
    const s = args.settings;
    // No special characters: the env file is read by systemd and sh alike (see renderGaleraEnvFile).
    const password = (role: string) =>
      new random.RandomPassword(`${name}-${role}-password`, { length: 32, special: false, keepers: { cluster: args.cluster.name, role } }, { parent: this });
    const root = password("root");
    const sst = password("sst");
    const app = password("app");
    this.rootPassword = pulumi.secret(root.result);
    this.appPassword = pulumi.secret(app.result);

    const envFile = pulumi.secret(
      pulumi.all([root.result, sst.result, app.result]).apply(([rootPassword, sstPassword, appPassword]) =>
        renderGaleraEnvFile({ rootPassword, sstPassword, appPassword, appUser: s.user, appDatabase: s.database }).content,
      ),
    );
    const nodes = galeraNodes(s, args.cluster);
    const envFiles = nodes.map(
      (node) =>
        new NodeFile(`${name}-env-${node.name}`, {
          connection: args.nodeConnections[node.name],
          path: GALERA_DEFAULTS.envFile,
          content: envFile,
          mode: 0o600,
        }, { parent: this }),
    );

    const bundle = renderGaleraBundle(s, args.cluster);
    const files = bundle.files.map(
      (file) =>
        new NodeFile(`${name}-file-${file.path.split("/").slice(-2).join("-")}`, {
          connection: args.fleetConnection,
          path: file.path,
          content: file.content,
          mode: file.mode,
          protectedDirs: args.protectedDirs,
        }, { parent: this }),
    );
    for (const unit of bundle.units) {
      new FleetUnit(`${name}-${unit.name.replace(/@?\.service$/, "")}`, { connection: args.fleetConnection, unit, activeTimeoutSeconds: 600 }, {
        parent: this,
        dependsOn: [...files, ...envFiles],
      });
    }
    this.endpoint = { hosts: nodes.map((n) => n.address), port: s.proxyPort, database: s.database, user: s.user };
    this.registerOutputs({ endpoint: this.endpoint, appPassword: this.appPassword, rootPassword: this.rootPassword });
  }
}
