import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterSettings, CoreosSettings, DiscoveryMode, NetworkSettings, NodeSettings, OsSettings, XenServerSettings, prefixLength } from "../config/settings";
import { EtcdMember } from "../etcd/etcd-member";
import { CloudConfig } from "../coreos/cloud-config";
import { DiscoveryToken } from "../etcd/discovery-token";
import { NfsShare } from "../nas/nfs-share";
import { ConfigDrive } from "../xen/config-drive";
import { EncodedDriveFile, missingTemplateFix } from "../xen/xe-scripts";
import { IsoRepository } from "../xen/iso-repository";
import { XenVm } from "../xen/xen-vm";
import type { TlsMaterial } from "../pki/x509";
import { FirewallPlanSettings, nodeFirewall } from "../firewall/firewall-plan";
import { FIREWALL_RULES_PATHS, FIREWALL_UNITS, renderFirewall } from "../firewall/firewall-render";
import { NodeFiles } from "../node/node-files";

export interface CoreosClusterArgs {
  /** Stack name: part of the markers older versions wrote (taken over once by an update). */
  stack: string;
  /** The deployment's random id: part of every VM's and drive's marker, so two deployments on one host never collide. */
  deploymentId: pulumi.Input<string>;
  /** The cluster and its nodes (validated settings). */
  cluster: ClusterSettings;
  network: NetworkSettings;
  coreos: CoreosSettings;
  xenserver: XenServerSettings;
  /** SSH connection to the XenServer host. */
  xenConnection: command.types.input.remote.ConnectionArgs;
  /** The host's ISO library (holds the install ISO). */
  isoRepository: IsoRepository;
  /** Files every config drive carries besides the cloud-config (the guest agent). */
  driveFiles?: pulumi.Input<EncodedDriveFile[]>;
  /** The NAS share every node mounts. */
  share: NfsShare;
  /** Public keys for user core. */
  sshAuthorizedKeys: string[];
  /** The user the nodes' sshd allows (`ssh.user`). Defaults to core. */
  sshUser?: string;
  /**
   * Each node's SSH host key (from the deployment's PKI), written into its cloud-config and
   * pinned by `nodeConnection`. Unset: the nodes keep the keys they generate at first boot.
   */
  hostKeys?: (nodeName: string) => { privateKey: pulumi.Input<string>; publicKey: pulumi.Input<string> };
  /** `security.hostKeyRotation`: a new value rebuilds the nodes with new host keys (see XenVm). */
  hostKeyRotation?: string;
  /** Discovery service base URL (token mode). */
  discoveryEndpoint: string;
  /** `token`: a discovery token per cluster; `static`: the initial cluster from the nodes' addresses, no token. Defaults to token. */
  discoveryMode?: DiscoveryMode;
  /** The nodes' OS profile and its settings. Defaults to coreos. */
  os?: OsSettings;
  /**
   * The settings each node's host firewall is planned from (components/firewall/): rendered
   * per node into its cloud-config and loaded at every boot. Unset = no firewall rules at all.
   */
  firewall?: FirewallPlanSettings;
  /** How the program reaches a node over SSH (for etcd membership changes). */
  nodeConnection: (node: NodeSettings) => command.types.input.remote.ConnectionArgs;
  /**
   * The node's etcd TLS material (secret): the deployment CA, the node's certificate for its
   * address and 127.0.0.1 (server and client) and its key. Its cloud-config carries it.
   */
  etcdCertificate: (node: NodeSettings) => pulumi.Input<TlsMaterial>;
}

/** A node as the stack outputs show it: its settings and its VM's uuid. */
export type ClusterNodeOutput = Pick<NodeSettings, "name" | "ip" | "vcpus" | "memoryMiB" | "diskGiB" | "metadata"> & { vmUuid: pulumi.Output<string> };

/** etcd's initial-cluster-token of a statically bootstrapped cluster: two clusters never share one. */
export function staticClusterToken(stack: string, cluster: string): string {
  return `xen-coreos-${stack}-${cluster}`;
}

/**
 * One CoreOS cluster: its discovery token (token mode), and per node a cloud-config, a config
 * drive and a VM. Nodes do not depend on each other, so their VMs are created in parallel.
 */
export class CoreosCluster extends pulumi.ComponentResource {
  public readonly name: string;
  public readonly nodes: ClusterNodeOutput[];
  /** The discovery URL (secret); undefined for a cluster bootstrapped from its static member list. */
  public readonly discoveryUrl: pulumi.Output<string> | undefined;
  /** The cloud-configs with secrets redacted, by node name: what each node boots with. */
  public readonly cloudConfigs: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: CoreosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:cluster:CoreosCluster", name, {}, opts);
    const { cluster, network, coreos, xenserver } = args;
    this.name = cluster.name;

    // The token is sized for the bootstrap nodes; nodes added later join without it, so
    // growing the cluster never changes the token (nor the bootstrap nodes' configs).
    const bootstrapNodes = cluster.nodes.filter((n) => !n.join);
    const peer = (n: NodeSettings) => ({ name: n.name, ip: n.ip });
    // Static mode: every bootstrap node starts from the same list, the declared addresses; no token resource.
    const staticBootstrap = args.discoveryMode === "static"
      ? { initialCluster: bootstrapNodes.map(peer), token: staticClusterToken(args.stack, cluster.name) }
      : undefined;
    const token = staticBootstrap
      ? undefined
      : new DiscoveryToken(
          `${name}-discovery`,
          { endpoint: args.discoveryEndpoint, size: bootstrapNodes.length, cluster: `${args.stack}/${cluster.name}` },
          { parent: this },
        );
    this.discoveryUrl = token?.url;
    const os = args.os ?? { profile: "coreos" as const, fleet: { url: "", sha256: "" } };
    this.cloudConfigs = {};

    let previousMember: EtcdMember | undefined;
    const firewalls: NodeFiles[] = [];
    // The VM of the bootstrap node that membership changes go through (bootstrap nodes come first).
    let membershipVm: XenVm | undefined;
    this.nodes = cluster.nodes.map((node, index) => {
      const legacyMarker = `${args.stack}/${cluster.name}/${node.name}`;
      // A joining node's initial cluster: every node before it, and itself.
      const joinExisting = node.join ? { initialCluster: cluster.nodes.slice(0, index + 1).map(peer) } : undefined;
      const cloudConfig = new CloudConfig(
        `${name}-${node.name}-cloud-config`,
        {
          discoveryUrl: token?.url,
          sshHostKey: args.hostKeys?.(node.name),
          tls: args.etcdCertificate(node),
          node: {
            hostname: node.name,
            ip: node.ip,
            prefixLength: prefixLength(network.cidr),
            gateway: network.gateway,
            dns: network.dns,
            interface: network.interface,
            sshAuthorizedKeys: args.sshAuthorizedKeys,
            sshUser: args.sshUser,
            fleetMetadata: node.metadata,
            nfs: {
              server: args.share.server,
              export: args.share.exportPath,
              mountPoint: args.share.mountPoint,
              options: args.share.options,
            },
            install: { device: coreos.installDevice, channel: coreos.channel, baseUrl: coreos.installBaseUrl },
            rebootStrategy: coreos.rebootStrategy,
            joinExisting,
            staticBootstrap,
            os: os.profile === "flatcar" ? { profile: "flatcar", version: os.version, fleet: os.fleet } : { profile: os.profile },
            // The boot rules: node-to-node ports open to the cluster network until the exact rules below land.
            firewall: args.firewall ? renderFirewall(nodeFirewall(args.firewall, cluster.name, node.name, { boot: true })) : undefined,
          },
        },
        { parent: this, dependsOn: token ? [token] : [] },
      );
      this.cloudConfigs[node.name] = cloudConfig.redacted;
      const drive = new ConfigDrive(
        `${name}-${node.name}-config-drive`,
        {
          connection: args.xenConnection,
          deploymentId: args.deploymentId,
          clusterName: cluster.name,
          nodeName: node.name,
          storageRepository: xenserver.storageRepository,
          userData: cloudConfig.userData,
          redactedUserData: cloudConfig.redacted,
          // A joining node's config holds no token: a new token must not rebuild its drive.
          // Every node's holds its certificate: a new one (rotation) rebuilds the drive.
          secretsVersion: pulumi
            .all([node.join || !token ? "" : token.id, cloudConfig.tlsVersion])
            .apply(([tokenId, tls]) => (tokenId ? `${tokenId} tls:${tls.slice(0, 16)}` : `tls:${tls.slice(0, 16)}`)),
          extraFiles: args.driveFiles,
        },
        { parent: this },
      );
      const vm = new XenVm(
        `${name}-${node.name}`,
        {
          connection: args.xenConnection,
          nodeConnection: args.nodeConnection(node),
          deploymentId: args.deploymentId,
          clusterName: cluster.name,
          legacyMarker,
          nodeName: node.name,
          template: xenserver.template,
          templateFix: missingTemplateFix(xenserver.version),
          storageRepository: xenserver.storageRepository,
          network: xenserver.network,
          hostKeyRotation: args.hostKeyRotation,
          // Known at preview: the ISO library's existence is ensured by the dependsOn below.
          isoName: args.isoRepository.isoName,
          configDriveVdi: drive.vdiUuid,
          vcpus: node.vcpus,
          memoryMiB: node.memoryMiB,
          diskGiB: node.diskGiB,
          haltTimeoutSeconds: xenserver.haltTimeoutSeconds,
          hardPowerOff: xenserver.hardPowerOff,
        },
        { parent: this, dependsOn: [drive, args.isoRepository] },
      );
      if (node.name === bootstrapNodes[0].name) membershipVm = vm;
      // The exact rules (node-to-node ports from the nodes' addresses only), written over SSH once
      // the node runs and reloaded at once; kept on its disk for every later boot. Adding a node
      // rewrites these files on the others, never their config drives.
      if (args.firewall) {
        const rules = renderFirewall(nodeFirewall(args.firewall, cluster.name, node.name));
        firewalls.push(new NodeFiles(`${name}-${node.name}-firewall`, {
          connection: args.nodeConnection(node),
          files: (["v4", "v6"] as const).map((f) => ({ path: FIREWALL_RULES_PATHS[f], content: rules[f], mode: 0o644 })),
          restartUnits: [FIREWALL_UNITS.v4, FIREWALL_UNITS.v6],
        }, { parent: this, dependsOn: [vm] }));
      }
      if (node.join) {
        // Added through a bootstrap node, after this node's VM and after the previous joiner has
        // started. It also depends on that bootstrap node's VM: a destroy removes the member
        // while the node it goes through still runs, never after it.
        previousMember = new EtcdMember(
          `${name}-${node.name}-etcd-member`,
          { connection: args.nodeConnection(bootstrapNodes[0]), name: node.name, ip: node.ip },
          // After every earlier node's exact firewall admits this node (its etcd peers with them).
          { parent: this, dependsOn: [vm, ...(membershipVm ? [membershipVm] : []), ...(previousMember ? [previousMember] : []), ...firewalls.slice(0, -1)] },
        );
      }
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
