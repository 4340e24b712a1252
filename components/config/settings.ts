/**
 * The typed stack settings: one schema for everything a stack sets, parsed and validated
 * before any resource is declared. Pure: plain values in, typed settings out; no Pulumi
 * imports, so the validation is testable on its own and runs the same in every stack.
 *
 * Every error names the setting as the operator types it (`xen-coreos:clusters[0].nodes[1].ip`)
 * and says how to fix it; all errors are collected and reported together.
 */
import * as ipaddr from "ipaddr.js";
import { ServiceSettings, parseServices } from "./services-settings";
import {
  CONFIG_NAMESPACE,
  Obj,
  Problems,
  SettingsError,
  checkKeys,
  readBool,
  readEnum,
  readInt,
  readObj,
  readString,
  readStringList,
  readStringMap,
} from "./readers";
import { VM_SLOTS, XEN_MAX_MEMORY_MIB, XEN_MAX_VCPUS, XEN_MAX_VHD_DISK_GIB, xvdDevice } from "./limits";
import { privateKeyPaths, publicKeyProblem } from "./keys";

export * from "./readers";

/** Sizes at which an etcd cluster tolerates failures: size → tolerated failures (thesis §10.4). */
export const ETCD_FAULT_TOLERANCE: Readonly<Record<number, number>> = {
  1: 0, 2: 0, 3: 1, 4: 1, 5: 2, 6: 2, 7: 3, 8: 3, 9: 4,
};

export const MIN_MEMORY_MIB = 1024;
export const MIN_DISK_GIB = 8;
export const MAX_CLUSTER_SIZE = 9;

// ---------------------------------------------------------------- settings types

/** How to reach the XenServer host and which of its objects the VMs use. */
export interface XenServerSettings {
  /** Address of the XenServer host (e.g. 192.168.2.105). */
  host: string;
  /** SSH port. Defaults to 22. */
  port: number;
  /** SSH user that runs `xe`. Defaults to `root`. */
  user: string;
  /** Expected SSH host key of the XenServer host (`ssh-ed25519 AAAA…`); unset = not checked. */
  hostKey?: string;
  /** name-label of the XenServer network the VMs' VIF joins (e.g. "Pool-wide network associated with eth0"). */
  network: string;
  /** name-label of the storage repository for system disks and config drives. Defaults to "Local storage". */
  storageRepository: string;
  /** The host's version: 6.5 (XenServer 6.5 SP1, the thesis), 8 (XenServer 8) or xcp-ng-8.3. Defaults to 6.5. */
  version: XenServerVersion;
  /** name-label of the VM template the nodes are installed from. Defaults per version: "CoreOS" on 6.5, "Generic Linux BIOS" on 8 and xcp-ng-8.3. */
  template: string;
  /** The ISO library holding the CoreOS install ISO. */
  isoRepository: IsoRepositorySettings;
  /** Seconds to wait for a node to power itself off before an in-place change (vCPUs, memory, disk, config drive). Defaults to 300. */
  haltTimeoutSeconds: number;
  /** When a node has not halted after haltTimeoutSeconds, power its VM off hard instead of failing. Defaults to false. */
  hardPowerOff: boolean;
}

export interface IsoRepositorySettings {
  /** name-label of the ISO storage repository. Defaults to "ISOS" (thesis Annex 1). */
  name: string;
  /** Directory on the XenServer host backing the repository. Defaults to /var/opt/isos. */
  location: string;
  /** File name of the install ISO inside `location`. Defaults to the profile's: coreos_production_iso_image.iso or flatcar_production_iso_image.iso. */
  coreosIso: string;
}

/** The cluster network: static addressing, since XenServer fills in no `$public_ipv4`. */
export interface NetworkSettings {
  /** The cluster network in CIDR form (e.g. 10.50.0.0/24). */
  cidr: string;
  /** Default gateway of the nodes. */
  gateway: string;
  /** DNS servers of the nodes. Defaults to [gateway]. */
  dns: string[];
  /** Name of the node's network interface. Defaults to eth0. */
  interface: string;
  /** Other networks the nodes reach through the gateway (CIDRs); the NAS may live there. Defaults to []. */
  routedNetworks: string[];
}

export interface SshSettings {
  /** Public keys put in every node's `ssh_authorized_keys` (user `core`). At least one. */
  authorizedKeys: string[];
  /** User the program logs in as on the nodes (fleetctl, files). Defaults to core. */
  user: string;
  /** SSH port of the nodes. Defaults to 22. */
  port: number;
  /** Reach the nodes through the XenServer host (the cluster network is behind it). Defaults to true. */
  viaXenServer: boolean;
}

export interface DiscoverySettings {
  /**
   * How each cluster's etcd forms: `token` (a discovery token from `endpoint`, the thesis) or
   * `static` (the initial cluster from the declared node addresses: no public service). Defaults to token.
   */
  mode: DiscoveryMode;
  /** Base URL of the etcd discovery service; `<endpoint>/new?size=N` creates a token. Defaults to https://discovery.etcd.io. */
  endpoint: string;
}

export type DiscoveryMode = "token" | "static";
export type XenServerVersion = "6.5" | "8" | "xcp-ng-8.3";

/** The VM template each host version installs from: XenServer 8 and XCP-ng 8.3 no longer have "CoreOS". */
export const DEFAULT_TEMPLATE: Readonly<Record<XenServerVersion, string>> = {
  "6.5": "CoreOS",
  "8": "Generic Linux BIOS",
  "xcp-ng-8.3": "Generic Linux BIOS",
};

export type OsProfileName = "coreos" | "flatcar";

/** The install boot of Flatcar's ISO needs this much memory (its image is unpacked into RAM). */
export const FLATCAR_MIN_MEMORY_MIB = 2048;

/** The fleet v1.0.0 release tarball (the fleet project's last release); an offline lab serves it from its own mirror. */
export const FLEET_DEFAULT_URL = "https://github.com/coreos/fleet/releases/download/v1.0.0/fleet-v1.0.0-linux-amd64.tar.gz";

export interface FleetDownloadSettings {
  /** Where each flatcar node fetches the fleet v1.0.0 tarball (http, https or file). Defaults to the fleet project's release. */
  url: string;
  /** sha256 of that tarball (64 hex digits). Required for flatcar: a file that differs is refused. */
  sha256: string;
}

export interface OsSettings {
  /** The nodes' OS: `coreos` (CoreOS Container Linux, the thesis) or `flatcar` (Flatcar Container Linux). Defaults to coreos. */
  profile: OsProfileName;
  /** flatcar only: the release `flatcar-install -V` pins (e.g. 4593.1.0); unset = the channel's current one. */
  version?: string;
  /** flatcar only: the fleet v1.0.0 tarball each node runs fleetd and fleetctl from. */
  fleet: FleetDownloadSettings;
}

export type RebootStrategy = "etcd-lock" | "reboot" | "best-effort" | "off";
export type CoreosChannel = "alpha" | "beta" | "stable" | "lts";

export interface CoreosSettings {
  /** Release channel installed on the nodes. Defaults to alpha (etcd2, as in the thesis); lts exists on flatcar only. */
  channel: CoreosChannel;
  /** Update strategy; `etcd-lock` reboots one node at a time through locksmith. Defaults to etcd-lock. */
  rebootStrategy: RebootStrategy;
  /** Disk the installer writes CoreOS to. Defaults to /dev/xvda. */
  installDevice: string;
  /** Optional mirror for `coreos-install -b`; unset = the public release server. */
  installBaseUrl?: string;
}

export interface NasSettings {
  /** NFS server address (e.g. 10.50.0.200). */
  server: string;
  /** Exported path on the server (e.g. /nfs/NFS). */
  export: string;
  /** Where every node mounts the share. Defaults to /mnt/nfs. */
  mountPoint: string;
  /** Mount options. Defaults to [rw, acl] (thesis Annex 4). */
  options: string[];
  /** Manage the export on a Linux NAS over SSH. Defaults to false (an appliance configured by hand). */
  managed: boolean;
  /** SSH user on a managed NAS. Defaults to root. */
  sshUser: string;
  /** SSH port on a managed NAS. Defaults to 22. */
  sshPort: number;
  /** Protect the managed export from `pulumi destroy` (the data is never deleted either way). Defaults to false. */
  protect: boolean;
  /** Expected SSH host key of a managed NAS (`ssh-ed25519 AAAA…`), pinned on every connection. */
  hostKey?: string;
}

export interface SecuritySettings {
  /**
   * Refuse a stack whose XenServer host (and managed NAS) has no pinned `hostKey`. Defaults to
   * true; only a throw-away lab sets it false, and then those connections accept any key.
   */
  requireHostKeys: boolean;
  /** Changing it issues a new CA and new certificates for every node. Defaults to "1". */
  tlsRotation: string;
  /** Changing it gives every node a new SSH host key (pinned again at once). Defaults to "1". */
  hostKeyRotation: string;
  /** Days the deployment's CA is valid. Defaults to 3650. */
  caValidityDays: number;
  /** Days a node or service certificate is valid. Defaults to 825. */
  certValidityDays: number;
  /** Networks (CIDRs) allowed to reach the nodes' SSH port through the host firewall. Defaults to [network.cidr]. */
  sshAllowedFrom: string[];
  /** Load the rendered host firewall on every node at boot. Defaults to true. */
  firewall: boolean;
}

export interface NodeSettings {
  /** Hostname and XenServer name-label (RFC 1123 label, e.g. coreos1). */
  name: string;
  /** Static IPv4 address inside network.cidr. */
  ip: string;
  /** Virtual CPUs. Defaults to the cluster's nodeDefaults.vcpus (1). */
  vcpus: number;
  /** Memory in MiB, at least 1024. Defaults to the cluster's nodeDefaults.memoryMiB (1024). */
  memoryMiB: number;
  /** System disk in GiB, at least 8. Defaults to the cluster's nodeDefaults.diskGiB (8). */
  diskGiB: number;
  /** fleet metadata of the node (e.g. { role: web }); merged over the cluster's. */
  metadata: Record<string, string>;
  /** Address the program uses to reach the node over SSH when it is not `ip` (NAT, a tunnel). */
  sshHost?: string;
  /**
   * The node was added after the cluster's bootstrap: it joins the running etcd cluster
   * (`etcdctl member add`, initial-cluster-state=existing) instead of using discovery.
   * Defaults to false. Joining nodes come after the bootstrap nodes, and are added one at a time.
   */
  join: boolean;
}

export interface ClusterSettings {
  /** Cluster name (RFC 1123 label), e.g. web or db. */
  name: string;
  /** The nodes; the etcd cluster size is their count. */
  nodes: NodeSettings[];
  /** Allow an even size or more than 9 nodes (they add no fault tolerance). Defaults to false. */
  allowUnsafeSize: boolean;
  /**
   * Protect the cluster's resources (VMs, config drives, token): `pulumi destroy` stops at
   * them until an operator runs `pulumi state unprotect`. Defaults to false.
   */
  protect: boolean;
}

export interface StackSettings {
  xenserver: XenServerSettings;
  network: NetworkSettings;
  ssh: SshSettings;
  discovery: DiscoverySettings;
  os: OsSettings;
  coreos: CoreosSettings;
  nas: NasSettings;
  clusters: ClusterSettings[];
  /** The services (web, galera, ftp) and where they run. */
  services: ServiceSettings;
  /** TLS, host keys and the host firewall. */
  security: SecuritySettings;
}

/** Raw config: what `pulumi config` holds for this project, keys without the namespace. */
export type RawSettings = Record<string, unknown>;

/** Secret settings are read separately (as Pulumi secrets) and only checked for presence here. */
export const SECRET_KEYS = ["sshPrivateKey", "xenserverPrivateKey", "nasPrivateKey"] as const;

// ---------------------------------------------------------------- address helpers

/** True when `ip` is a dotted-quad IPv4 address. */
export function isIPv4(ip: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip);
}

/** Parses `a.b.c.d/n`; undefined when malformed. */
export function parseCidr(cidr: string): [ipaddr.IPv4, number] | undefined {
  try {
    const [addr, bits] = ipaddr.IPv4.parseCIDR(cidr);
    return [addr, bits];
  } catch {
    return undefined;
  }
}

/** True when `ip` lies in `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  if (!range || !isIPv4(ip)) return false;
  return ipaddr.IPv4.parse(ip).match(range);
}

/** Prefix length of a CIDR (24 for 10.50.0.0/24). */
export function prefixLength(cidr: string): number {
  const range = parseCidr(cidr);
  if (!range) throw new Error(`not a CIDR: ${cidr}`);
  return range[1];
}

/** Network and broadcast address of a CIDR. */
function networkBounds(cidr: string): { network: string; broadcast: string } | undefined {
  try {
    return {
      network: ipaddr.IPv4.networkAddressFromCIDR(cidr).toString(),
      broadcast: ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString(),
    };
  } catch {
    return undefined;
  }
}

/** RFC 1123 hostname label: what CoreOS, etcd member names and xe name-labels all accept. */
export const HOSTNAME_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

// ---------------------------------------------------------------- the parser

const TOP_KEYS = ["xenserver", "network", "ssh", "discovery", "os", "coreos", "nas", "clusters", "services", "security", ...SECRET_KEYS] as const;

/** What the config reader found beside the raw values, and checks a higher layer adds. */
export interface ParseOptions {
  /**
   * Secret keys (SECRET_KEYS) that are set in plain text, without `--secret`: the Pulumi
   * runtime knows which config keys are secret (load.ts asks it). Each is refused.
   */
  plainSecretKeys?: ReadonlySet<string>;
  /** Problems found while reading the raw config (e.g. a duplicate key in a JSON value), with the setting's path. */
  readProblems?: ReadonlyArray<{ path: string; message: string }>;
  /**
   * Checks over the parsed settings that need a higher layer (the services' rendered fleet
   * units), run only when the settings themselves are sound; their problems are reported
   * with the others, in one SettingsError. The settings never import those layers.
   */
  crossChecks?: ReadonlyArray<(settings: StackSettings) => string[]>;
}

/**
 * Parses and validates raw stack settings. Throws a SettingsError listing every problem.
 * `secretsPresent` tells which secret keys are set (their values are never read here).
 */
export function parseSettings(raw: RawSettings, secretsPresent: ReadonlySet<string> = new Set(), options: ParseOptions = {}): StackSettings {
  const p = new Problems();
  for (const { path, message } of options.readProblems ?? []) p.add(path, message);
  checkKeys(p, "", raw, TOP_KEYS);

  const network = parseNetwork(p, readObj(p, "network", raw.network, true));
  const os = parseOs(p, readObj(p, "os", raw.os, false));
  const xenserver = parseXenServer(p, readObj(p, "xenserver", raw.xenserver, true), os.profile);
  const ssh = parseSsh(p, readObj(p, "ssh", raw.ssh, true));
  const discovery = parseDiscovery(p, readObj(p, "discovery", raw.discovery, false));
  const coreos = parseCoreos(p, readObj(p, "coreos", raw.coreos, false));
  if (coreos.channel === "lts" && os.profile !== "flatcar")
    p.add("coreos.channel", `lts is a Flatcar channel; CoreOS Container Linux had alpha, beta and stable. Fix: set ${CONFIG_NAMESPACE}:coreos.channel to alpha, beta or stable, or ${CONFIG_NAMESPACE}:os.profile to flatcar.`);
  const nas = parseNas(p, readObj(p, "nas", raw.nas, true), network);
  const clusters = parseClusters(p, raw.clusters, network);
  const services = parseServices(p, readObj(p, "services", raw.services, false), clusters, { sshPort: ssh.port });
  checkAddressClashes(p, network, xenserver, nas, clusters);
  const security = parseSecurity(p, readObj(p, "security", raw.security, false), network);
  if (security.requireHostKeys && !xenserver.hostKey)
    p.add(
      "xenserver.hostKey",
      "is required: every connection to the XenServer host (xe, and the jump to the nodes) pins its SSH host key. " +
        `Fix: read the key pulumi-command's SSH client negotiates (it prefers ECDSA, then RSA, then Ed25519) on the host's console: cat /etc/ssh/ssh_host_ecdsa_key.pub (XenServer 8, XCP-ng), or /etc/ssh/ssh_host_rsa_key.pub when there is no ECDSA key (XenServer 6.5); or from a trusted network: ssh-keyscan -t ecdsa,rsa ${xenserver.host || "<host>"}. Set ${CONFIG_NAMESPACE}:xenserver.hostKey to that line; for a throw-away lab only, set ${CONFIG_NAMESPACE}:security.requireHostKeys false.`,
    );
  if (security.requireHostKeys && nas.managed && !nas.hostKey)
    p.add(
      "nas.hostKey",
      "is required for a managed NAS: the program's connection pins the NAS's SSH host key. " +
        `Fix: on the NAS, cat /etc/ssh/ssh_host_ecdsa_key.pub (or ssh_host_rsa_key.pub without an ECDSA key, ed25519 only when it has no other: pulumi-command's SSH client prefers ECDSA, then RSA), and set ${CONFIG_NAMESPACE}:nas.hostKey to that line; for a throw-away lab only, set ${CONFIG_NAMESPACE}:security.requireHostKeys false.`,
    );
  if (os.profile === "flatcar") checkFlatcarMemory(p, clusters);

  for (const key of SECRET_KEYS) {
    if (options.plainSecretKeys?.has(key))
      p.add(
        key,
        "is set in plain text (without --secret), so the private key is written unencrypted in Pulumi.<stack>.yaml. " +
          `Fix: rotate the key, remove it with pulumi config rm ${CONFIG_NAMESPACE}:${key}, then set it with pulumi config set --secret ${CONFIG_NAMESPACE}:${key} < key`,
      );
  }
  // A private key pasted into any plain setting (secret keys are never part of `raw`).
  for (const path of privateKeyPaths(Object.fromEntries(Object.entries(raw).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k))), "")) {
    p.add(
      path,
      "holds a private key in plain text in the stack file. " +
        `Fix: delete it from the stack file and rotate it (it stays in the file's history); a private key is only ever set as a secret: pulumi config set --secret ${CONFIG_NAMESPACE}:sshPrivateKey < key`,
    );
  }

  if (!secretsPresent.has("sshPrivateKey")) {
    p.add(
      "sshPrivateKey",
      "missing SSH private key (used for core@nodes and, unless xenserverPrivateKey is set, root@XenServer). " +
        `Fix: pulumi config set --secret ${CONFIG_NAMESPACE}:sshPrivateKey < ~/.ssh/id_ed25519`,
    );
  }
  if (nas.managed && !secretsPresent.has("nasPrivateKey") && !secretsPresent.has("sshPrivateKey")) {
    p.add("nasPrivateKey", `nas.managed is true but no key reaches the NAS. Fix: pulumi config set --secret ${CONFIG_NAMESPACE}:nasPrivateKey < key`);
  }

  // The services' units and configs name the share's paths under /mnt/nfs (thesis Annex 4).
  if ((services.web || services.galera || services.ftp) && nas.mountPoint !== "/mnt/nfs")
    p.add("nas.mountPoint", `${nas.mountPoint}: the services (web, galera, ftp) expect the share at /mnt/nfs. Fix: set nas.mountPoint to /mnt/nfs, or run no services on this stack.`);
  const settings: StackSettings = { xenserver, network, ssh, discovery, os, coreos, nas, clusters, services, security };
  // Checks of a higher layer (fleet placement on the rendered units), once the settings themselves are sound.
  if (p.list.length === 0) for (const check of options.crossChecks ?? []) p.list.push(...check(settings));
  if (p.list.length > 0) throw new SettingsError(p.list);
  return settings;
}

/** Flatcar's install ISO boots only with 2 GiB: below that the install boot fails before it can write the disk. */
function checkFlatcarMemory(p: Problems, clusters: ClusterSettings[]): void {
  clusters.forEach((c, ci) =>
    c.nodes.forEach((n, ni) => {
      if (n.memoryMiB < FLATCAR_MIN_MEMORY_MIB)
        p.add(`clusters[${ci}].nodes[${ni}].memoryMiB`, `${n.memoryMiB} MiB is below the ${FLATCAR_MIN_MEMORY_MIB} MiB Flatcar's install ISO needs to boot (os.profile is flatcar; the install boot runs from RAM). Fix: set memoryMiB (or clusters[${ci}].nodeDefaults.memoryMiB) to ${FLATCAR_MIN_MEMORY_MIB} or more.`);
    }),
  );
}

/** A node's address must not be another machine's: the NAS, the XenServer host, the gateway; nor the gateway the NAS. */
function checkAddressClashes(p: Problems, network: NetworkSettings, xenserver: XenServerSettings, nas: NasSettings, clusters: ClusterSettings[]): void {
  const others: Array<[string, string | undefined]> = [
    [`the NAS's address (nas.server)`, isIPv4(nas.server) ? nas.server : undefined],
    [`the XenServer host's address (xenserver.host)`, isIPv4(xenserver.host) ? xenserver.host : undefined],
  ];
  clusters.forEach((c, ci) =>
    c.nodes.forEach((n, ni) => {
      for (const [what, address] of others) {
        if (address !== undefined && n.ip === address)
          p.add(`clusters[${ci}].nodes[${ni}].ip`, `${n.ip} is ${what}. Fix: give the node an address no other machine uses.`);
      }
    }),
  );
  if (isIPv4(nas.server) && nas.server === network.gateway)
    p.add("nas.server", `${nas.server} is the gateway's address (network.gateway): the NAS and the nodes' router are different machines. Fix: set nas.server to the NAS's own address, or network.gateway to the router's.`);
}

/** Prefixes a cluster network may have: /31 and /32 leave no host address beside the gateway; below /8 is not one LAN. */
export const NETWORK_PREFIX_RANGE = { min: 8, max: 30 } as const;

/** `network.cidr` when it is a usable cluster network, else undefined (its problem is already reported). */
function clusterCidr(network: NetworkSettings): string | undefined {
  const range = parseCidr(network.cidr);
  return range && range[1] >= NETWORK_PREFIX_RANGE.min && range[1] <= NETWORK_PREFIX_RANGE.max ? network.cidr : undefined;
}

function parseNetwork(p: Problems, o: Obj): NetworkSettings {
  checkKeys(p, "network", o, ["cidr", "gateway", "dns", "interface", "routedNetworks"]);
  const cidr = readString(p, "network.cidr", o.cidr);
  const range = cidr ? parseCidr(cidr) : undefined;
  if (cidr && !range) p.add("network.cidr", `${JSON.stringify(cidr)} is not an IPv4 CIDR. Fix: write it like 10.50.0.0/24.`);
  else if (range && range[1] < NETWORK_PREFIX_RANGE.min)
    p.add("network.cidr", `${cidr}: a /${range[1]} is not a cluster network: every address would count as on-link, and a managed NAS would export the share to all of them. Fix: write the network's real prefix, /${NETWORK_PREFIX_RANGE.min} to /${NETWORK_PREFIX_RANGE.max} (e.g. 10.50.0.0/24).`);
  else if (range && range[1] > NETWORK_PREFIX_RANGE.max)
    p.add("network.cidr", `${cidr}: a /${range[1]} leaves no address for the nodes beside the gateway. Fix: write the network's real prefix, /${NETWORK_PREFIX_RANGE.min} to /${NETWORK_PREFIX_RANGE.max} (e.g. 10.50.0.0/24).`);
  const usable = range && range[1] >= NETWORK_PREFIX_RANGE.min && range[1] <= NETWORK_PREFIX_RANGE.max;
  const gateway = readString(p, "network.gateway", o.gateway);
  if (gateway && !isIPv4(gateway)) p.add("network.gateway", `${JSON.stringify(gateway)} is not an IPv4 address.`);
  else if (gateway && usable && !inCidr(gateway, cidr))
    p.add("network.gateway", `${gateway} is outside network.cidr ${cidr}. Fix: use the router address of ${cidr}.`);
  const dns = readStringList(p, "network.dns", o.dns, gateway ? [gateway] : []);
  if (Array.isArray(o.dns) && o.dns.length === 0)
    p.add("network.dns", "is empty: the nodes could resolve no name (image registries, the discovery service). Fix: list at least one DNS server, or remove network.dns to use the gateway.");
  dns.forEach((d, i) => {
    if (!isIPv4(d)) p.add(`network.dns[${i}]`, `${JSON.stringify(d)} is not an IPv4 address.`);
    else {
      const kind = ipaddr.IPv4.parse(d).range();
      if (kind === "unspecified" || kind === "broadcast" || kind === "multicast")
        p.add(`network.dns[${i}]`, `${d} is ${kind === "unspecified" ? "the unspecified address" : kind === "broadcast" ? "the broadcast address" : "a multicast address"}, not a DNS server. Fix: use your resolver's address (e.g. the gateway${gateway ? ` ${gateway}` : ""}).`);
    }
  });
  const iface = readString(p, "network.interface", o.interface, "eth0");
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(iface)) p.add("network.interface", `${JSON.stringify(iface)} is not a valid interface name.`);
  const routedNetworks = readStringList(p, "network.routedNetworks", o.routedNetworks, []);
  routedNetworks.forEach((r, i) => {
    const routed = parseCidr(r);
    if (!routed) p.add(`network.routedNetworks[${i}]`, `${JSON.stringify(r)} is not an IPv4 CIDR.`);
    else if (routed[1] === 0) p.add(`network.routedNetworks[${i}]`, `${r} is the default route, which the gateway already is. Fix: list only the networks behind the gateway the nodes must reach (e.g. the NAS's, 172.16.0.0/16).`);
  });
  return { cidr, gateway, dns, interface: iface, routedNetworks };
}

function parseXenServer(p: Problems, o: Obj, profile: OsProfileName): XenServerSettings {
  checkKeys(p, "xenserver", o, ["host", "port", "user", "hostKey", "network", "storageRepository", "version", "template", "isoRepository", "haltTimeoutSeconds", "hardPowerOff"]);
  const host = readString(p, "xenserver.host", o.host);
  if (host && !isIPv4(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host))
    p.add("xenserver.host", `${JSON.stringify(host)} is neither an IPv4 address nor a DNS name.`);
  const port = readInt(p, "xenserver.port", o.port, 22);
  if (port < 1 || port > 65535) p.add("xenserver.port", `${port} is not a TCP port (1-65535).`);
  const user = readString(p, "xenserver.user", o.user, "root");
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) p.add("xenserver.user", `${JSON.stringify(user)} is not a valid user name.`);
  const hostKey = o.hostKey === undefined ? undefined : readString(p, "xenserver.hostKey", o.hostKey);
  const keyProblem = hostKey ? publicKeyProblem(hostKey) : undefined;
  if (keyProblem && keyProblem !== "it is a private key") // a private key is reported by the plain-text check
    p.add("xenserver.hostKey", `is not an SSH public key: ${keyProblem}. Fix: set the host's own key line, e.g. from the host: cat /etc/ssh/ssh_host_ed25519_key.pub (or ssh-keyscan -t ed25519 <host> without the host name).`);
  const network = readString(p, "xenserver.network", o.network);
  const storageRepository = readString(p, "xenserver.storageRepository", o.storageRepository, "Local storage");
  const version = readEnum(p, "xenserver.version", o.version, ["6.5", "8", "xcp-ng-8.3"] as const, "6.5");
  const template = readString(p, "xenserver.template", o.template, DEFAULT_TEMPLATE[version]);
  if (version !== "6.5" && template === "CoreOS")
    p.add("xenserver.template", `"CoreOS" is not a template of ${version === "8" ? "XenServer 8" : "XCP-ng 8.3"} (it left with XenServer 7). Fix: remove ${CONFIG_NAMESPACE}:xenserver.template to use "${DEFAULT_TEMPLATE[version]}", or set it to a template the host lists (xe template-list params=name-label).`);
  const iso = readObj(p, "xenserver.isoRepository", o.isoRepository, false);
  checkKeys(p, "xenserver.isoRepository", iso, ["name", "location", "coreosIso"]);
  const isoRepository: IsoRepositorySettings = {
    name: readString(p, "xenserver.isoRepository.name", iso.name, "ISOS"),
    location: readString(p, "xenserver.isoRepository.location", iso.location, "/var/opt/isos"),
    coreosIso: readString(p, "xenserver.isoRepository.coreosIso", iso.coreosIso, profile === "flatcar" ? "flatcar_production_iso_image.iso" : "coreos_production_iso_image.iso"),
  };
  if (!isoRepository.location.startsWith("/"))
    p.add("xenserver.isoRepository.location", `must be an absolute path on the XenServer host, got ${JSON.stringify(isoRepository.location)}.`);
  if (/[/\0]/.test(isoRepository.coreosIso))
    p.add("xenserver.isoRepository.coreosIso", "must be a file name inside isoRepository.location, without '/'.");
  for (const [key, value] of [["network", network], ["storageRepository", storageRepository], ["template", template], ["isoRepository.name", isoRepository.name]] as const) {
    if (/[\n\r\0]/.test(value)) p.add(`xenserver.${key}`, "must be a single line (it is a XenServer name-label).");
  }
  const haltTimeoutSeconds = readInt(p, "xenserver.haltTimeoutSeconds", o.haltTimeoutSeconds, 300);
  if (haltTimeoutSeconds < 10 || haltTimeoutSeconds > 3600) {
    p.add("xenserver.haltTimeoutSeconds", `${haltTimeoutSeconds} is outside 10-3600 seconds (how long to wait for a node to power itself off).`);
  }
  const hardPowerOff = readBool(p, "xenserver.hardPowerOff", o.hardPowerOff, false);
  return { host, port, user, hostKey, network, storageRepository, version, template, isoRepository, haltTimeoutSeconds, hardPowerOff };
}

function parseSsh(p: Problems, o: Obj): SshSettings {
  checkKeys(p, "ssh", o, ["authorizedKeys", "user", "port", "viaXenServer"]);
  const authorizedKeys = readStringList(p, "ssh.authorizedKeys", o.authorizedKeys, []);
  if (authorizedKeys.length === 0 && (o.authorizedKeys === undefined || Array.isArray(o.authorizedKeys)))
    p.add("ssh.authorizedKeys", "missing SSH key: list at least one public key for user core. Fix: add the contents of ~/.ssh/id_ed25519.pub.");
  authorizedKeys.forEach((k, i) => {
    if (!/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\n]*)?$/.test(k))
      p.add(`ssh.authorizedKeys[${i}]`, "is not an OpenSSH public key line (\"ssh-ed25519 AAAA… comment\"). A private key never goes here.");
  });
  const user = readString(p, "ssh.user", o.user, "core");
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) p.add("ssh.user", `${JSON.stringify(user)} is not a valid user name.`);
  const port = readInt(p, "ssh.port", o.port, 22);
  if (port < 1 || port > 65535) p.add("ssh.port", `${port} is not a TCP port (1-65535).`);
  return { authorizedKeys, user, port, viaXenServer: readBool(p, "ssh.viaXenServer", o.viaXenServer, true) };
}

/** The URL, or undefined when `text` is not one. */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** True when a URL carries credentials (`user[:password]@host`), which would then sit in plain text. */
function hasCredentials(text: string): boolean {
  const url = parseUrl(text);
  return url !== undefined && (url.username !== "" || url.password !== "" || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(text));
}

function parseDiscovery(p: Problems, o: Obj): DiscoverySettings {
  checkKeys(p, "discovery", o, ["mode", "endpoint"]);
  const mode = readEnum(p, "discovery.mode", o.mode, ["token", "static"] as const, "token");
  const endpoint = readString(p, "discovery.endpoint", o.endpoint, "https://discovery.etcd.io").replace(/\/+$/, "");
  if (hasCredentials(endpoint)) {
    // Never echo the value: it holds a password.
    p.add("discovery.endpoint", "holds credentials (user:password@host): they would sit in plain text in the stack file, the program's state and every node's cloud-config. Fix: remove them from the URL (protect a self-hosted etcd-discovery by its network, or put it behind a proxy that adds them).");
    return { mode, endpoint: "" };
  }
  const url = parseUrl(endpoint);
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash)
    p.add("discovery.endpoint", `${JSON.stringify(endpoint)} is not an http(s) base URL. Fix: use https://discovery.etcd.io or http://<your etcd-discovery>:8087.`);
  return { mode, endpoint };
}

function parseOs(p: Problems, o: Obj): OsSettings {
  checkKeys(p, "os", o, ["profile", "version", "fleet"]);
  const profile = readEnum(p, "os.profile", o.profile, ["coreos", "flatcar"] as const, "coreos");
  const version = o.version === undefined ? undefined : readString(p, "os.version", o.version);
  if (version !== undefined && profile !== "flatcar")
    p.add("os.version", `pins a Flatcar release, but os.profile is ${profile} (coreos-install always took the channel's current release). Fix: remove ${CONFIG_NAMESPACE}:os.version, or set os.profile to flatcar.`);
  else if (version !== undefined && !/^\d+\.\d+\.\d+$/.test(version))
    p.add("os.version", `${JSON.stringify(version)} is not a Flatcar release number (e.g. 4593.1.0). Fix: write the release as flatcar-install -V takes it, or remove it for the channel's current release.`);
  const f = readObj(p, "os.fleet", o.fleet, false);
  checkKeys(p, "os.fleet", f, ["url", "sha256"]);
  if (profile !== "flatcar" && o.fleet !== undefined)
    p.add("os.fleet", `is for the flatcar profile only: CoreOS Container Linux ships fleet itself. Fix: remove ${CONFIG_NAMESPACE}:os.fleet, or set os.profile to flatcar.`);
  const url = readString(p, "os.fleet.url", f.url, FLEET_DEFAULT_URL);
  if (hasCredentials(url)) {
    p.add("os.fleet.url", "holds credentials (user:password@host): they would sit in plain text in every node's cloud-config. Fix: serve the tarball to the cluster network without a login.");
  } else {
    const parsed = parseUrl(url);
    if (!parsed || !/^(https?|file):$/.test(parsed.protocol) || parsed.search || parsed.hash || /[\s%$'"`\\]/.test(url))
      p.add("os.fleet.url", `${JSON.stringify(url)} must be an http(s) or file URL of fleet-v1.0.0-linux-amd64.tar.gz without spaces, query, fragment, "%", "$", quotes or backslashes (systemd reads them in the fleet unit). Fix: e.g. http://mirror.lab/fleet/fleet-v1.0.0-linux-amd64.tar.gz.`);
  }
  const sha256 = f.sha256 === undefined ? "" : readString(p, "os.fleet.sha256", f.sha256).toLowerCase();
  if (profile === "flatcar" && f.sha256 === undefined)
    p.add("os.fleet.sha256", `is required for os.profile flatcar: each node refuses a fleet tarball whose sha256 differs, and the program does not ship one it could not verify from a public source. Fix: sha256sum fleet-v1.0.0-linux-amd64.tar.gz (from the fleet project's v1.0.0 release, or your mirror of it), then pulumi config set --path ${CONFIG_NAMESPACE}:os.fleet.sha256 <hex>.`);
  else if (f.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
    p.add("os.fleet.sha256", `${JSON.stringify(f.sha256)} is not a sha256 (64 hex digits). Fix: the first word of sha256sum fleet-v1.0.0-linux-amd64.tar.gz.`);
  return { profile, ...(version !== undefined ? { version } : {}), fleet: { url, sha256 } };
}

/**
 * The mirror URL becomes one word of the installer unit's ExecStart (coreos-install -b), so
 * it must hold nothing systemd reads specially there (systemd.service, "Command lines";
 * systemd.unit, "Specifiers"): a trailing backslash continues the line (the INI writer
 * refuses it: a stack trace in the middle of `up` before this check), `%` starts a
 * specifier (an unknown one makes the unit fail to load), `$` expands a variable, quotes
 * and other backslashes are unescaped.
 */
function installBaseUrlProblems(p: Problems, value: string): void {
  const path = "coreos.installBaseUrl";
  if (hasCredentials(value)) {
    p.add(path, "holds credentials (user:password@host): they would sit in plain text in every node's cloud-config. Fix: remove them (serve the mirror to the cluster network without a login).");
    return;
  }
  const url = parseUrl(value);
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || /\s/.test(value)) {
    p.add(path, `${JSON.stringify(value)} must be an http(s) base URL without spaces, query or fragment (e.g. https://mirror.example/coreos/amd64-usr).`);
    return;
  }
  if (value.endsWith("\\"))
    p.add(path, `ends in "\\", which systemd reads as a line continuation in the installer unit. Fix: remove it: the base URL ends in its path (e.g. https://mirror.example/coreos/amd64-usr).`);
  else if (value.includes("\\"))
    p.add(path, `holds "\\", which systemd unescapes in the installer unit's command line. Fix: write the path with "/".`);
  if (value.includes("%"))
    p.add(path, `holds "%", which systemd expands as a specifier (%n, %i, ...) in the installer unit; an unknown one makes the unit fail to load. Fix: write the URL without percent-escapes (rename the mirror folder if it needs them).`);
  if (/[$'"`]/.test(value))
    p.add(path, `holds ${JSON.stringify(value.match(/[$'"`]/)![0])}, which systemd expands or unquotes in the installer unit's command line. Fix: remove it from the URL.`);
}

function parseCoreos(p: Problems, o: Obj): CoreosSettings {
  checkKeys(p, "coreos", o, ["channel", "rebootStrategy", "installDevice", "installBaseUrl"]);
  const installDevice = readString(p, "coreos.installDevice", o.installDevice, "/dev/xvda");
  const systemDisk = xvdDevice(VM_SLOTS.systemDisk);
  if (!/^\/dev\/[a-z0-9]+$/.test(installDevice)) p.add("coreos.installDevice", `${JSON.stringify(installDevice)} is not a whole-disk device such as /dev/xvda.`);
  else if (installDevice === xvdDevice(VM_SLOTS.configDrive))
    p.add("coreos.installDevice", `${installDevice} is the config drive's slot (userdevice ${VM_SLOTS.configDrive}): the installer would overwrite the node's cloud-config. Fix: install to the system disk, ${systemDisk} (the default).`);
  else if (installDevice === xvdDevice(VM_SLOTS.cd))
    p.add("coreos.installDevice", `${installDevice} is the install CD's slot (userdevice ${VM_SLOTS.cd}). Fix: install to the system disk, ${systemDisk} (the default).`);
  const installBaseUrl = o.installBaseUrl === undefined ? undefined : readString(p, "coreos.installBaseUrl", o.installBaseUrl);
  if (installBaseUrl !== undefined) installBaseUrlProblems(p, installBaseUrl);
  return {
    channel: readEnum(p, "coreos.channel", o.channel, ["alpha", "beta", "stable", "lts"] as const, "alpha"),
    rebootStrategy: readEnum(p, "coreos.rebootStrategy", o.rebootStrategy, ["etcd-lock", "reboot", "best-effort", "off"] as const, "etcd-lock"),
    installDevice,
    installBaseUrl,
  };
}

/** Folders of a Linux system (FHS) that a managed export must not open: these and everything in them. */
const SYSTEM_TREES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/usr"];
/** Folders that hold other things: exporting one of them whole is refused, a folder inside is fine (/srv/nfs). */
const SYSTEM_PARENTS = ["/home", "/media", "/mnt", "/opt", "/srv", "/tmp", "/var"];

function systemFolderOf(path: string): string | undefined {
  return SYSTEM_TREES.find((t) => path === t || path.startsWith(`${t}/`)) ?? SYSTEM_PARENTS.find((t) => path === t);
}

function parseNas(p: Problems, o: Obj, network: NetworkSettings): NasSettings {
  checkKeys(p, "nas", o, ["hostKey", "server", "export", "mountPoint", "options", "managed", "sshUser", "sshPort", "protect"]);
  const server = readString(p, "nas.server", o.server);
  if (server && !isIPv4(server)) {
    p.add("nas.server", `${JSON.stringify(server)} is not an IPv4 address (the mount unit runs before DNS is guaranteed).`);
  } else if (server && clusterCidr(network)) {
    const reachable = [network.cidr, ...network.routedNetworks].filter((c) => parseCidr(c));
    if (!reachable.some((c) => inCidr(server, c)))
      p.add("nas.server", `${server} is not reachable from the nodes: it is outside network.cidr ${network.cidr} and every network.routedNetworks entry. Fix: correct the address or add its network to ${CONFIG_NAMESPACE}:network.routedNetworks.`);
  }
  const exportPath = readString(p, "nas.export", o.export);
  const managed = readBool(p, "nas.managed", o.managed, false);
  if (exportPath && !/^\/[A-Za-z0-9._/-]*$/.test(exportPath)) p.add("nas.export", `${JSON.stringify(exportPath)} must be an absolute path of letters, digits, '.', '_', '-' and '/'.`);
  else if (exportPath && exportPath !== "/" && (exportPath.endsWith("/") || exportPath.includes("//") || /(^|\/)\.\.?(\/|$)/.test(exportPath)))
    p.add("nas.export", `${JSON.stringify(exportPath)} must be a normalised absolute path: no "." or ".." segments, no "//", no trailing "/" (e.g. /nfs/NFS).`);
  else if (exportPath && managed) {
    const system = systemFolderOf(exportPath);
    if (exportPath === "/")
      p.add("nas.export", `"/" would export the NAS's whole file system read-write to the cluster network (and the program creates www/, nginx/ and services/ in it). Fix: export a folder of its own, e.g. /nfs/NFS.`);
    else if (system)
      p.add("nas.export", `${exportPath} is ${system === exportPath ? "" : `inside `}the NAS's system folder ${system}: a managed export would open it read-write to the cluster network. Fix: export a folder of its own, e.g. /nfs/NFS.`);
  }
  const mountPoint = readString(p, "nas.mountPoint", o.mountPoint, "/mnt/nfs");
  if (!/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(mountPoint) || mountPoint.includes("//") || /(^|\/)\.\.?(\/|$)/.test(mountPoint))
    p.add("nas.mountPoint", `${JSON.stringify(mountPoint)} must be a normalised absolute path such as /mnt/nfs.`);
  const options = readStringList(p, "nas.options", o.options, ["rw", "acl"]);
  options.forEach((opt, i) => {
    if (!/^[A-Za-z0-9_.=-]+$/.test(opt)) p.add(`nas.options[${i}]`, `${JSON.stringify(opt)} is not a mount option.`);
  });
  const sshPort = readInt(p, "nas.sshPort", o.sshPort, 22);
  if (sshPort < 1 || sshPort > 65535) p.add("nas.sshPort", `${sshPort} is not a TCP port (1-65535).`);
  const sshUser = readString(p, "nas.sshUser", o.sshUser, "root");
  if (!/^[a-z_][a-z0-9_-]*$/.test(sshUser)) p.add("nas.sshUser", `${JSON.stringify(sshUser)} is not a valid user name.`);
  const hostKey = o.hostKey === undefined ? undefined : readString(p, "nas.hostKey", o.hostKey);
  const keyProblem = hostKey ? publicKeyProblem(hostKey) : undefined;
  if (keyProblem)
    p.add("nas.hostKey", `is not an SSH public key: ${keyProblem}. Fix: set the NAS's own key line, e.g. from the NAS: cat /etc/ssh/ssh_host_ed25519_key.pub.`);
  return { server, export: exportPath, mountPoint, options, managed, sshUser, sshPort, protect: readBool(p, "nas.protect", o.protect, false), hostKey };
}

function parseSecurity(p: Problems, o: Obj, network: NetworkSettings): SecuritySettings {
  checkKeys(p, "security", o, ["requireHostKeys", "tlsRotation", "hostKeyRotation", "caValidityDays", "certValidityDays", "sshAllowedFrom", "firewall"]);
  const rotation = (key: string) => {
    const value = readString(p, `security.${key}`, o[key], "1");
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) p.add(`security.${key}`, `${JSON.stringify(value)} must be a short word of [A-Za-z0-9._-] (e.g. a date: 2026-11).`);
    return value;
  };
  const caValidityDays = readInt(p, "security.caValidityDays", o.caValidityDays, 3650);
  const certValidityDays = readInt(p, "security.certValidityDays", o.certValidityDays, 825);
  if (caValidityDays < 30 || caValidityDays > 36500) p.add("security.caValidityDays", `${caValidityDays} must be between 30 and 36500 days.`);
  if (certValidityDays < 1 || certValidityDays > caValidityDays)
    p.add("security.certValidityDays", `${certValidityDays} must be between 1 and security.caValidityDays (${caValidityDays}): a certificate cannot outlive its CA.`);
  const sshAllowedFrom = readStringList(p, "security.sshAllowedFrom", o.sshAllowedFrom, network.cidr ? [network.cidr] : []);
  sshAllowedFrom.forEach((cidr, i) => {
    if (!parseCidr(cidr)) p.add(`security.sshAllowedFrom[${i}]`, `${JSON.stringify(cidr)} is not an IPv4 network (a.b.c.d/n; one address is a.b.c.d/32).`);
  });
  if (o.sshAllowedFrom !== undefined && sshAllowedFrom.length === 0)
    p.add("security.sshAllowedFrom", "is empty: the firewall would lock the program itself out of the nodes. Fix: list at least the network the program connects from (the XenServer host's, with ssh.viaXenServer).");
  return {
    requireHostKeys: readBool(p, "security.requireHostKeys", o.requireHostKeys, true),
    tlsRotation: rotation("tlsRotation"),
    hostKeyRotation: rotation("hostKeyRotation"),
    caValidityDays,
    certValidityDays,
    sshAllowedFrom,
    firewall: readBool(p, "security.firewall", o.firewall, true),
  };
}

function parseClusters(p: Problems, value: unknown, network: NetworkSettings): ClusterSettings[] {
  if (value === undefined) {
    p.add("clusters", "is required: list at least one cluster with its nodes.");
    return [];
  }
  if (!Array.isArray(value) || value.length === 0) {
    p.add("clusters", "must be a non-empty list of clusters.");
    return [];
  }
  const clusters = value.map((c, i) => parseCluster(p, `clusters[${i}]`, c, network));

  // Names and addresses are unique across the whole stack: every node is a VM on one host.
  const seenCluster = new Map<string, string>();
  clusters.forEach((c, i) => {
    if (seenCluster.has(c.name)) p.add(`clusters[${i}].name`, `duplicate cluster name ${JSON.stringify(c.name)} (also ${seenCluster.get(c.name)}). Fix: give each cluster its own name.`);
    else seenCluster.set(c.name, `clusters[${i}]`);
  });
  const seenName = new Map<string, string>();
  const seenIp = new Map<string, string>();
  clusters.forEach((c, ci) =>
    c.nodes.forEach((n, ni) => {
      const path = `clusters[${ci}].nodes[${ni}]`;
      if (n.name && seenName.has(n.name)) p.add(`${path}.name`, `duplicate node name ${JSON.stringify(n.name)} (also ${seenName.get(n.name)}). Fix: node names are hostnames and must be unique in the stack.`);
      else seenName.set(n.name, path);
      if (n.ip && seenIp.has(n.ip)) p.add(`${path}.ip`, `duplicate node IP ${n.ip} (also ${seenIp.get(n.ip)}). Fix: give every node its own address.`);
      else seenIp.set(n.ip, path);
    }),
  );
  return clusters;
}

function parseCluster(p: Problems, path: string, value: unknown, network: NetworkSettings): ClusterSettings {
  const o = readObj(p, path, value, true);
  checkKeys(p, path, o, ["name", "nodes", "nodeDefaults", "metadata", "allowUnsafeSize", "protect"]);
  const name = readString(p, `${path}.name`, o.name);
  if (name && !HOSTNAME_LABEL.test(name))
    p.add(`${path}.name`, `${JSON.stringify(name)} is not a valid name: use lower-case letters, digits and '-' (RFC 1123 label).`);
  const defaults = readObj(p, `${path}.nodeDefaults`, o.nodeDefaults, false);
  checkKeys(p, `${path}.nodeDefaults`, defaults, ["vcpus", "memoryMiB", "diskGiB"]);
  const nodeDefaults: NodeDefaults = {
    vcpus: readInt(p, `${path}.nodeDefaults.vcpus`, defaults.vcpus, 1),
    memoryMiB: readInt(p, `${path}.nodeDefaults.memoryMiB`, defaults.memoryMiB, MIN_MEMORY_MIB),
    diskGiB: readInt(p, `${path}.nodeDefaults.diskGiB`, defaults.diskGiB, MIN_DISK_GIB),
  };
  const clusterMetadata = readStringMap(p, `${path}.metadata`, o.metadata);
  const allowUnsafeSize = readBool(p, `${path}.allowUnsafeSize`, o.allowUnsafeSize, false);

  const rawNodes = o.nodes;
  let nodes: NodeSettings[] = [];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) {
    p.add(`${path}.nodes`, "must be a non-empty list of nodes ({ name, ip }).");
  } else {
    // Every node carries cluster=<name>, so units can be placed by cluster too.
    const metadata = { ...(name ? { cluster: name } : {}), ...clusterMetadata };
    nodes = rawNodes.map((n, i) => parseNode(p, `${path}.nodes[${i}]`, n, nodeDefaults, metadata, network));
    const size = nodes.length;
    const firstJoin = nodes.findIndex((n) => n.join);
    if (firstJoin === 0) {
      p.add(`${path}.nodes[0].join`, "the first node cannot join: a cluster is bootstrapped by its leading nodes through discovery. Fix: remove join from the bootstrap nodes.");
    } else if (firstJoin > 0) {
      const late = nodes.findIndex((n, i) => i > firstJoin && !n.join);
      if (late > 0)
        p.add(`${path}.nodes[${late}].join`, `node ${nodes[late].name} comes after a joining node but does not join. Fix: list the bootstrap nodes first, then the nodes added later with join: true, in the order they were added.`);
    }
    if (!allowUnsafeSize && size > MAX_CLUSTER_SIZE) {
      p.add(`${path}.nodes`, `${size} nodes: etcd clusters above ${MAX_CLUSTER_SIZE} members slow every write and add little safety. Fix: use at most ${MAX_CLUSTER_SIZE}, or set ${path}.allowUnsafeSize: true.`);
    } else if (!allowUnsafeSize && size % 2 === 0) {
      const tolerated = ETCD_FAULT_TOLERANCE[size];
      p.add(`${path}.nodes`, `${size} nodes is an even etcd cluster size: it tolerates ${tolerated} failure${tolerated === 1 ? "" : "s"}, no more than ${size - 1} nodes. Fix: use ${size - 1} or ${size + 1} nodes, or set ${path}.allowUnsafeSize: true (e.g. while growing one node at a time).`);
    }
  }
  return { name, nodes, allowUnsafeSize, protect: readBool(p, `${path}.protect`, o.protect, false) };
}

type NodeDefaults = Pick<NodeSettings, "vcpus" | "memoryMiB" | "diskGiB">;

function parseNode(p: Problems, path: string, value: unknown, defaults: NodeDefaults, clusterMetadata: Record<string, string>, network: NetworkSettings): NodeSettings {
  const o = readObj(p, path, value, true);
  checkKeys(p, path, o, ["name", "ip", "vcpus", "memoryMiB", "diskGiB", "metadata", "sshHost", "join"]);
  const name = readString(p, `${path}.name`, o.name);
  if (name && !HOSTNAME_LABEL.test(name))
    p.add(`${path}.name`, `${JSON.stringify(name)} is not a valid hostname: use 1-63 lower-case letters, digits and '-', not starting or ending with '-' (RFC 1123).`);
  const ip = readString(p, `${path}.ip`, o.ip);
  if (ip && !isIPv4(ip)) {
    p.add(`${path}.ip`, `${JSON.stringify(ip)} is not an IPv4 address.`);
  } else if (ip && clusterCidr(network)) {
    const bounds = networkBounds(network.cidr);
    if (!inCidr(ip, network.cidr))
      p.add(`${path}.ip`, `${ip} is outside network.cidr ${network.cidr}. Fix: choose an address in ${network.cidr} or change ${CONFIG_NAMESPACE}:network.cidr.`);
    else if (bounds && (ip === bounds.network || ip === bounds.broadcast))
      p.add(`${path}.ip`, `${ip} is the network or broadcast address of ${network.cidr}. Fix: choose a host address.`);
    else if (ip === network.gateway) p.add(`${path}.ip`, `${ip} is the gateway's address. Fix: choose another address.`);
  }
  const vcpus = readInt(p, `${path}.vcpus`, o.vcpus, defaults.vcpus);
  if (vcpus < 1 || vcpus > XEN_MAX_VCPUS)
    p.add(`${path}.vcpus`, `${vcpus} vCPUs is out of range: XenServer gives a VM 1 to ${XEN_MAX_VCPUS}. Fix: set vcpus between 1 and ${XEN_MAX_VCPUS}.`);
  const memoryMiB = readInt(p, `${path}.memoryMiB`, o.memoryMiB, defaults.memoryMiB);
  if (memoryMiB < MIN_MEMORY_MIB)
    p.add(`${path}.memoryMiB`, `${memoryMiB} MiB is below the ${MIN_MEMORY_MIB} MiB CoreOS needs to run etcd, fleet and containers. Fix: set memoryMiB to ${MIN_MEMORY_MIB} or more.`);
  else if (memoryMiB > XEN_MAX_MEMORY_MIB)
    p.add(`${path}.memoryMiB`, `${memoryMiB} MiB is past the most memory XenServer gives a VM (${XEN_MAX_MEMORY_MIB} MiB, 1.5 TiB). Fix: set memoryMiB to at most ${XEN_MAX_MEMORY_MIB}.`);
  const diskGiB = readInt(p, `${path}.diskGiB`, o.diskGiB, defaults.diskGiB);
  if (diskGiB < MIN_DISK_GIB)
    p.add(`${path}.diskGiB`, `${diskGiB} GiB is below the ${MIN_DISK_GIB} GiB the CoreOS image needs (thesis Annex 2). Fix: set diskGiB to ${MIN_DISK_GIB} or more.`);
  else if (diskGiB > XEN_MAX_VHD_DISK_GIB)
    p.add(`${path}.diskGiB`, `${diskGiB} GiB is past XenServer's largest virtual disk (${XEN_MAX_VHD_DISK_GIB} GiB on NFS, LVM and EXT storage). Fix: set diskGiB to at most ${XEN_MAX_VHD_DISK_GIB}.`);
  const metadata = { ...clusterMetadata, ...readStringMap(p, `${path}.metadata`, o.metadata) };
  const sshHost = o.sshHost === undefined ? undefined : readString(p, `${path}.sshHost`, o.sshHost);
  if (sshHost !== undefined && !isIPv4(sshHost) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(sshHost))
    p.add(`${path}.sshHost`, `${JSON.stringify(sshHost)} is neither an IPv4 address nor a DNS name.`);
  const join = readBool(p, `${path}.join`, o.join, false);
  return { name, ip, vcpus, memoryMiB, diskGiB, metadata, join, ...(sshHost !== undefined ? { sshHost } : {}) };
}
