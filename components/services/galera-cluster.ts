import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { ClusterSettings } from "../config/settings";
import { GaleraServiceSettings } from "../config/services-settings";
import { FleetUnit } from "../fleet/fleet-unit";
import { NodeFiles } from "../node/node-files";
import { DeploymentPki } from "../pki/deployment-pki";
import { galeraNodes, renderGaleraBundle } from "./bundles";
import { GALERA_DEFAULTS, GALERA_SECRET_FILES, GALERA_TLS_FILES, renderGaleraSecretFiles, renderGaleraTlsFiles } from "./galera-render";

export interface GaleraClusterArgs {
  settings: GaleraServiceSettings;
  /** The cluster the members run on. */
  cluster: ClusterSettings;
  /** SSH connection to the node that runs fleetctl. */
  fleetConnection: command.types.input.remote.ConnectionArgs;
  /** SSH connection to each node, by node name: every Galera file is node-local. */
  nodeConnections: Record<string, command.types.input.remote.ConnectionArgs>;
  /** The deployment's PKI: one certificate per db node (`galera-<node>`, server and client). */
  pki: DeploymentPki;
  protectedDirs: string[];
}

/**
 * The MySQL Galera cluster (thesis §10.5.2, fixed; secure by default since issue 12): members
 * that conflict with each other, a discovery sidecar per member, HAProxy on every db node
 * giving clients one port. Replication, IST, SST and clients speak TLS with a certificate per
 * db node from the deployment's CA. Passwords come from `@pulumi/random` and stay Pulumi
 * secrets. Every file a member's root runs or reads is node-local, on every db node fleet may
 * start a member on: one NodeFiles per node for the config and scripts (a readable diff in a
 * preview) and one for its secrets (passwords, key and certificate).
 */
export class GaleraCluster extends pulumi.ComponentResource {
  /** Where clients connect: any of these hosts on `port`, with TLS (the app user requires it). */
  public readonly endpoint: { hosts: string[]; port: number; database: string; user: string };
  /** The application user's password (secret). */
  public readonly appPassword: pulumi.Output<string>;
  /** The root password (secret); root logs in from a db node's own container only. */
  public readonly rootPassword: pulumi.Output<string>;

  constructor(name: string, args: GaleraClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:services:GaleraCluster", name, {}, opts);
    const s = args.settings;
    const password = (role: string) =>
      new random.RandomPassword(`${name}-${role}-password`, { length: 32, special: false, keepers: { cluster: args.cluster.name, role } }, { parent: this });
    const root = password("root");
    const sst = password("sst");
    const app = password("app");
    this.rootPassword = pulumi.secret(root.result);
    this.appPassword = pulumi.secret(app.result);

    const bundle = renderGaleraBundle(s, args.cluster);
    const nodes = galeraNodes(s, args.cluster);
    const secretPaths = [
      ...Object.values(GALERA_SECRET_FILES).map((f) => `${GALERA_DEFAULTS.secretsDir}/${f}`),
      ...Object.values(GALERA_TLS_FILES).map((f) => `${GALERA_DEFAULTS.tlsDir}/${f}`),
    ];
    const nodeFiles: NodeFiles[] = [];
    for (const node of nodes) {
      const connection = args.nodeConnections[node.name];
      if (!connection) throw new pulumi.ResourceError(`GaleraCluster: no SSH connection for db node ${node.name}`, this);
      nodeFiles.push(new NodeFiles(`${name}-files-${node.name}`, { connection, files: bundle.nodeFiles[node.name], protectedDirs: args.protectedDirs }, { parent: this }));
      const tls = args.pki.certificate(`galera-${node.name}`, { commonName: node.name, ipAddresses: [node.address], usages: ["server", "client"] });
      const secretFiles = pulumi.secret(
        pulumi.all([root.result, sst.result, app.result, tls]).apply(([rootPassword, sstPassword, appPassword, material]) => [
          ...renderGaleraSecretFiles({ rootPassword, sstPassword, appPassword }),
          ...renderGaleraTlsFiles(material),
        ]),
      );
      nodeFiles.push(new NodeFiles(`${name}-secrets-${node.name}`, { connection, files: secretFiles, paths: secretPaths, protectedDirs: args.protectedDirs }, { parent: this }));
    }

    for (const unit of bundle.units) {
      new FleetUnit(`${name}-${unit.name.replace(/@?\.service$/, "")}`, { connection: args.fleetConnection, unit, activeTimeoutSeconds: 600 }, {
        parent: this,
        dependsOn: nodeFiles,
      });
    }
    this.endpoint = { hosts: nodes.map((n) => n.address), port: s.proxyPort, database: s.database, user: s.user };
    this.registerOutputs({ endpoint: this.endpoint, appPassword: this.appPassword, rootPassword: this.rootPassword });
  }
}
