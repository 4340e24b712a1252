import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterSettings, CoreosSettings, NetworkSettings, XenServerSettings, prefixLength } from "../config/settings";
import { CloudConfig } from "../coreos/cloud-config";
import { DiscoveryToken } from "../etcd/discovery-token";
import { NfsShare } from "../nas/nfs-share";
import { ConfigDrive } from "../xen/config-drive";
import { IsoRepository } from "../xen/iso-repository";
import { XenVm } from "../xen/xen-vm";

export interface CoreosClusterArgs {
  /** Stack name: part of every VM's marker, so two stacks on one host never collide. */
  stack: string;
  /** The cluster and its nodes (validated settings). */
  cluster: ClusterSettings;
  network: NetworkSettings;
  coreos: CoreosSettings;
  xenserver: XenServerSettings;
  /** SSH connection to the XenServer host. */
  xenConnection: command.types.input.remote.ConnectionArgs;
  /** The host's ISO library (holds the install ISO). */
  isoRepository: IsoRepository;
  /** The NAS share every node mounts. */
  share: NfsShare;
  /** Public keys for user core. */
  sshAuthorizedKeys: string[];
  /** Discovery service base URL. */
  discoveryEndpoint: string;
}

/** A node as the stack outputs show it. */
export interface ClusterNodeOutput {
  name: string;
  ip: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  metadata: Record<string, string>;
  vmUuid: pulumi.Output<string>;
}

/**
 * One CoreOS cluster: its discovery token, and per node a cloud-config, a config drive
 * and a VM. Nodes do not depend on each other, so their VMs are created in parallel.
 */
export class CoreosCluster extends pulumi.ComponentResource {
  public readonly name: string;
  public readonly nodes: ClusterNodeOutput[];
  /** The discovery URL (secret). */
  public readonly discoveryUrl: pulumi.Output<string>;
  /** The cloud-configs with secrets redacted, by node name: what each node boots with. */
  public readonly cloudConfigs: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: CoreosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:cluster:CoreosCluster", name, {}, opts);
    const { cluster, network, coreos, xenserver } = args;
    this.name = cluster.name;

    const token = new DiscoveryToken(
      `${name}-discovery`,
      { endpoint: args.discoveryEndpoint, size: cluster.nodes.length, cluster: `${args.stack}/${cluster.name}` },
      { parent: this },
    );
    this.discoveryUrl = token.url;
    this.cloudConfigs = {};

    this.nodes = cluster.nodes.map((node) => {
      const marker = `${args.stack}/${cluster.name}/${node.name}`;
      const cloudConfig = new CloudConfig(
        `${name}-${node.name}-cloud-config`,
        {
          discoveryUrl: token.url,
          node: {
            hostname: node.name,
            ip: node.ip,
            prefixLength: prefixLength(network.cidr),
            gateway: network.gateway,
            dns: network.dns,
            interface: network.interface,
            sshAuthorizedKeys: args.sshAuthorizedKeys,
            fleetMetadata: node.metadata,
            nfs: {
              server: args.share.server,
              export: args.share.exportPath,
              mountPoint: args.share.mountPoint,
              options: args.share.options,
            },
            install: { device: coreos.installDevice, channel: coreos.channel, baseUrl: coreos.installBaseUrl },
            rebootStrategy: coreos.rebootStrategy,
          },
        },
        { parent: this, dependsOn: [token] },
      );
      this.cloudConfigs[node.name] = cloudConfig.redacted;
      const drive = new ConfigDrive(
        `${name}-${node.name}-config-drive`,
        {
          connection: args.xenConnection,
          nodeMarker: marker,
          nodeName: node.name,
          storageRepository: xenserver.storageRepository,
          userData: cloudConfig.userData,
          redactedUserData: cloudConfig.redacted,
          secretsVersion: token.id,
        },
        { parent: this },
      );
      const vm = new XenVm(
        `${name}-${node.name}`,
        {
          connection: args.xenConnection,
          marker,
          nodeName: node.name,
          template: xenserver.template,
          storageRepository: xenserver.storageRepository,
          network: xenserver.network,
          isoName: pulumi.all([args.isoRepository.srUuid]).apply(() => args.isoRepository.isoName),
          configDriveVdi: drive.vdiUuid,
          vcpus: node.vcpus,
          memoryMiB: node.memoryMiB,
          diskGiB: node.diskGiB,
        },
        { parent: this, dependsOn: [drive, args.isoRepository] },
      );
      return { ...node, vmUuid: vm.uuid };
    });

    this.registerOutputs({
      name: this.name,
      nodes: this.nodes,
      discoveryUrl: this.discoveryUrl,
      cloudConfigs: this.cloudConfigs,
    });
  }
}
