/**
 * Renders one node's cloud-config (thesis Annex 2, fixed); what differs by OS (installer,
 * etcd, fleet) comes from the node's OS profile (components/os/). Pure: plain values in,
 * YAML text out, serialised by js-yaml with sorted keys so the same settings always give
 * the same bytes (a stable `pulumi preview`).
 *
 * The file is both the install-time and the run-time config: the node boots the install
 * ISO with its config drive attached, the first unit installs CoreOS to the disk and
 * reboots, and the installed system reads the same config drive at every boot. See
 * `installerUnit` for how the two boots are told apart.
 */
import * as yaml from "js-yaml";
import { Directive, pathToUnitName, renderIni } from "../systemd/ini";
import { ETCD_CLIENT_PORT, coreosProfile } from "../os/coreos";
import { flatcarProfile } from "../os/flatcar";
import { EtcdBootstrap, EtcdPeer, NodeOs, OsProfile, OsProfileName, ProfileNode } from "../os/profile";
import { FirewallRules, firewallCloudConfig } from "../firewall/firewall-render";

export { ETCD_CLIENT_PORT, ETCD_PEER_PORT, ETCD_LEGACY_CLIENT_PORT, ETCD_LEGACY_PEER_PORT, fleetMetadataString } from "../os/coreos";

/** The profile modules, by name. */
export const OS_PROFILES: Readonly<Record<OsProfileName, OsProfile>> = { coreos: coreosProfile, flatcar: flatcarProfile };

export interface CloudConfigInput {
  /** Hostname and etcd member name. */
  hostname: string;
  /** The node's static IPv4 address. */
  ip: string;
  /** Prefix length of the cluster network (24 for a /24). */
  prefixLength: number;
  gateway: string;
  dns: string[];
  /** Network interface the static address goes on (eth0 on XenServer). */
  interface: string;
  sshAuthorizedKeys: string[];
  /** Discovery URL of the cluster; for the redacted preview copy, a placeholder. Unused with `staticBootstrap`. */
  discoveryUrl: string;
  /**
   * Static bootstrap (no discovery): the cluster's bootstrap members, this node included,
   * and etcd's initial-cluster-token. Unset = discovery through `discoveryUrl`.
   */
  staticBootstrap?: { initialCluster: EtcdPeer[]; token: string };
  /**
   * For a node added after bootstrap: the members it joins (every node before it and
   * itself). etcd then starts with initial-cluster-state=existing, no discovery.
   */
  joinExisting?: { initialCluster: EtcdPeer[] };
  /** The nodes' OS. Defaults to { profile: "coreos" } (the thesis). */
  os?: NodeOs;
  /** fleet metadata, e.g. { role: "web" }. */
  fleetMetadata: Record<string, string>;
  nfs: { server: string; export: string; mountPoint: string; options: string[] };
  install: { device: string; channel: string; baseUrl?: string };
  rebootStrategy: string;
  /** The node's host firewall (components/firewall/), loaded at every boot before docker and etcd. Unset = none. */
  firewall?: FirewallRules;
}

/** Flag file the installer creates on the install boot; etcd2 and fleet do not start while it exists. */
export const INSTALLING_FLAG = "/run/xen-coreos-installing";
export const INSTALLER_UNIT = "xen-coreos-install.service";

/** Partition 9 (ROOT) of the install disk: present only once CoreOS is installed. */
export function rootPartition(device: string): string {
  return /\d$/.test(device) ? `${device}p9` : `${device}9`;
}

function unitText(sections: Array<[string, Directive[]]>): string {
  return renderIni(sections);
}

/**
 * The installer: runs only on the install boot (the disk has no ROOT partition yet),
 * marks the boot as an install boot so etcd and fleet stay down (they would otherwise
 * register this node with the discovery token before the real boot), installs, reboots.
 */
function installerUnit(profile: OsProfile, node: ProfileNode): string {
  const args = profile.installCommand(node);
  return unitText([
    ["Unit", [
      ["Description", `Install ${profile.displayName} ${node.install.channel} to ${node.install.device} (install boot only)`],
      ["ConditionPathExists", `!${rootPartition(node.install.device)}`],
      ["Wants", "network-online.target"],
      ["After", "network-online.target"],
      ["Before", profile.clusterUnitNames.join(" ")],
    ]],
    ["Service", [
      ["Type", "oneshot"],
      ["ExecStartPre", `/usr/bin/touch ${INSTALLING_FLAG}`],
      ["ExecStart", args.join(" ")],
      ["ExecStartPost", "/usr/bin/systemctl --no-block reboot"],
    ]],
  ]);
}

const skipOnInstallBoot = {
  name: "10-xen-coreos-installed-only.conf",
  content: unitText([["Unit", [["ConditionPathExists", `!${INSTALLING_FLAG}`]]]]),
};

/**
 * Connections the node's sshd accepts at once. Container Linux runs sshd socket-activated
 * (`sshd.socket`, Accept=yes), where systemd's default MaxConnections is 64 (and
 * MaxConnectionsPerSource the same, from systemd 232; an older systemd ignores that key with a
 * warning). Every remote command of a `pulumi up` holds its connection until the provider
 * exits (pulumi-command v1.2.1), and all of them come from one source, the XenServer host (the
 * SSH jump). A production `up` held 40 on the node that runs every fleetctl; replacing most
 * units at once holds about twice that.
 */
export const NODE_SSH_MAX_CONNECTIONS = 128;

const sshdConnections = {
  name: "10-xen-coreos-connections.conf",
  content: unitText([["Socket", [["MaxConnections", String(NODE_SSH_MAX_CONNECTIONS)], ["MaxConnectionsPerSource", String(NODE_SSH_MAX_CONNECTIONS)]]]]),
};

/** The NFS mount: named after its path, ordered after the network (the thesis put it before local-fs.target). */
function nfsMountUnit(nfs: CloudConfigInput["nfs"]): string {
  return unitText([
    ["Unit", [
      ["Description", `NFS share ${nfs.server}:${nfs.export} (customer sites, proxy config, services)`],
      ["Wants", "network-online.target rpc-statd.service"],
      ["After", "network-online.target rpc-statd.service"],
      ["Before", "remote-fs.target"],
    ]],
    ["Mount", [
      ["What", `${nfs.server}:${nfs.export}`],
      ["Where", nfs.mountPoint],
      ["Type", "nfs"],
      ["Options", nfs.options.join(",")],
      ["TimeoutSec", "90"],
    ]],
    ["Install", [["WantedBy", "remote-fs.target"]]],
  ]);
}

function staticNetworkUnit(input: CloudConfigInput): string {
  return unitText([
    ["Match", [["Name", input.interface]]],
    ["Network", [
      ["Address", `${input.ip}/${input.prefixLength}`],
      ["Gateway", input.gateway],
      ...input.dns.map((d): Directive => ["DNS", d]),
    ]],
  ]);
}

/** XenServer guest agent from the config drive's agent/ folder, so the host reports the VM's IP (thesis Annex 2). */
function guestAgentUnit(): string {
  return unitText([
    ["Unit", [
      ["Description", "XenServer Linux Guest Agent"],
      ["ConditionPathExists", "/media/configdrive/agent/xe-daemon"],
      ["After", "media-configdrive.mount"],
    ]],
    ["Service", [
      ["ExecStartPre", "/media/configdrive/agent/xe-linux-distribution /var/cache/xe-linux-distribution"],
      ["Environment", "XE_UPDATE_GUEST_ATTRS=/media/configdrive/agent/xe-update-guest-attrs"],
      ["ExecStart", "/media/configdrive/agent/xe-daemon"],
      ["Restart", "always"],
    ]],
  ]);
}

/** Key order: an entry's `name`/`path` first (what a reader scans for), then alphabetical. */
function byNameFirst(a: string, b: string): number {
  const rank = (k: string) => (k === "name" || k === "path" ? 0 : 1);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** How the node's etcd member starts: joining, from the static list, or through discovery. */
function etcdBootstrap(input: CloudConfigInput): EtcdBootstrap {
  if (input.joinExisting) return { mode: "static", initialCluster: input.joinExisting.initialCluster, state: "existing" };
  if (input.staticBootstrap) return { mode: "static", initialCluster: input.staticBootstrap.initialCluster, state: "new", token: input.staticBootstrap.token };
  return { mode: "discovery", discoveryUrl: input.discoveryUrl };
}

/** Renders the node's cloud-config: `#cloud-config` header, then YAML with sorted keys. */
export function renderCloudConfig(input: CloudConfigInput): string {
  const ip = input.ip;
  const mountUnit = pathToUnitName(input.nfs.mountPoint);
  const os: NodeOs = input.os ?? { profile: "coreos" };
  const profile = OS_PROFILES[os.profile];
  if (!profile) throw new Error(`unknown OS profile ${JSON.stringify(os.profile)}`);
  const node: ProfileNode = { hostname: input.hostname, ip, fleetMetadata: input.fleetMetadata, install: input.install, os, etcd: etcdBootstrap(input) };
  const firewall = input.firewall ? firewallCloudConfig(input.firewall, profile.clusterUnitNames) : { files: [], units: [] };
  const doc = {
    hostname: input.hostname,
    ssh_authorized_keys: input.sshAuthorizedKeys,
    coreos: {
      ...profile.sections(node),
      update: { "reboot-strategy": input.rebootStrategy, group: input.install.channel },
      // Order matters: coreos-cloudinit starts units in this order, the installer first.
      units: [
        { name: INSTALLER_UNIT, command: "start", content: installerUnit(profile, node) },
        { name: "10-static.network", content: staticNetworkUnit(input) },
        { name: "sshd.socket", command: "restart", "drop-ins": [sshdConnections] },
        ...firewall.units,
        ...profile.clusterUnits(node, skipOnInstallBoot),
        { name: "rpc-statd.service", command: "start", enable: true },
        { name: mountUnit, command: "start", enable: true, content: nfsMountUnit(input.nfs) },
        { name: "xe-linux-distribution.service", command: "start", content: guestAgentUnit() },
      ],
    },
    write_files: [
      {
        // Smooth network recovery after a migration between hosts (XenServer's own template).
        path: "/etc/sysctl.d/10-enable-arp-notify.conf",
        permissions: "0644",
        owner: "root",
        content: "net.ipv4.conf.all.arp_notify = 1\n",
      },
      {
        // XenServer fills in no $public_ipv4, so the service units read the address from here.
        path: "/etc/environment",
        permissions: "0644",
        owner: "root",
        content:
          `COREOS_PUBLIC_IPV4=${ip}\n` +
          `COREOS_PRIVATE_IPV4=${ip}\n` +
          `ETCDCTL_ENDPOINT=http://${ip}:${ETCD_CLIENT_PORT}\n` +
          profile.environment(node).map((l) => `${l}\n`).join(""),
      },
      ...profile.files(node),
      ...firewall.files,
    ],
  };
  return "#cloud-config\n" + yaml.dump(doc, { sortKeys: byNameFirst, lineWidth: -1, noRefs: true, quotingType: '"' });
}
