import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { WebServiceSettings } from "../config/services-settings";
import { FleetUnit } from "../fleet/fleet-unit";
import { ClusterSettings } from "../config/settings";
import { NodeFiles } from "../node/node-files";
import { renderWebBundle } from "./bundles";
import { apacheUnitName } from "./web-render";

export interface WebClusterArgs {
  settings: WebServiceSettings;
  /** SSH connection to the node that runs fleetctl. */
  fleetConnection: command.types.input.remote.ConnectionArgs;
  /** The web cluster: every node gets the tier's files (any may run an apache and its announce sidecar, or the proxy). */
  cluster: ClusterSettings;
  /** SSH connection to each node of the cluster, by node name. */
  nodeConnections: Record<string, command.types.input.remote.ConnectionArgs>;
  /** Customer data on the share, which no file may touch (e.g. /mnt/nfs/www). */
  protectedDirs: string[];
}

/**
 * The web tier (thesis §10.5.1, fixed): N apache instances on their own host ports, an
 * announce sidecar per instance (MachineOf it) publishing ip:port in etcd with a TTL, the
 * nginx proxy on port 80 (the only exposed port), and an upstream renderer MachineOf the
 * proxy that rewrites the upstream file atomically and reloads nginx locally. The nginx
 * config and the scripts root runs are node-local (`/etc/xen-coreos/web/`, one NodeFiles
 * per node: fleet may start the proxy or an announce sidecar on any of them), written
 * before the units that read them; only the customer sites (`www/`) are on the share. The
 * apache instances are replaced one at a time (a rolling image change).
 */
export class WebCluster extends pulumi.ComponentResource {
  /** The units, by name, with their text. */
  public readonly units: Record<string, string>;
  /** Host ports of the apache instances. */
  public readonly backendPorts: number[];

  constructor(name: string, args: WebClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:services:WebCluster", name, {}, opts);
    const bundle = renderWebBundle(args.settings);
    const specs = bundle.files.map((f) => ({ path: f.path, content: f.content, mode: f.mode }));
    const files = args.cluster.nodes.map((node) => {
      const connection = args.nodeConnections[node.name];
      if (!connection) throw new pulumi.ResourceError(`WebCluster: no SSH connection for node ${node.name}`, this);
      return new NodeFiles(`${name}-files-${node.name}`, { connection, files: specs, protectedDirs: args.protectedDirs }, { parent: this });
    });
    this.units = {};
    // Each apache instance waits for the one before it. A change of image or mount then
    // replaces them one at a time (destroy, submit, active, next): the proxy always has
    // the others. The edge is dependsOn only, so Pulumi does not replace an instance just
    // because the one before it was replaced.
    const apacheUnits = new Set(Array.from({ length: args.settings.instances }, (_, i) => apacheUnitName(i + 1)));
    let previousApache: FleetUnit | undefined;
    for (const unit of bundle.units) {
      const isApache = apacheUnits.has(unit.name);
      const dependsOn = isApache && previousApache ? [...files, previousApache] : files;
      const fleetUnit = new FleetUnit(`${name}-${unit.name.replace(/\.service$/, "")}`, { connection: args.fleetConnection, unit }, { parent: this, dependsOn });
      if (isApache) previousApache = fleetUnit;
      this.units[unit.name] = unit.text;
    }
    this.backendPorts = Array.from({ length: args.settings.instances }, (_, i) => args.settings.basePort + i + 1);
    this.registerOutputs({ units: Object.keys(this.units), backendPorts: this.backendPorts });
  }
}
