/**
 * The `flatcar` OS profile: Flatcar Container Linux, the successor of CoreOS Container Linux
 * that still reads a cloud-config from a config-2 drive. Pure: plain values in, text out.
 *
 * Flatcar parses `coreos.etcd2` and `coreos.fleet` but ships neither etcd2.service nor
 * fleet.service, so those sections would silently do nothing: this profile runs etcd v3.5
 * through Flatcar's own `etcd-member.service` (etcd-wrapper, configured by environment in a
 * drop-in) and fleet v1.0.0 as a unit of its own.
 */
import * as fs from "fs";
import * as path from "path";
import { renderIni } from "../systemd/ini";
import { ETCD_TLS, ETCD_TLS_DIR, etcdTlsPaths } from "../etcd/etcd-tls";
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, etcdTlsFlags, etcdUrls, fleetMetadataString } from "./coreos";
import { CloudConfigFile, CloudConfigUnit, DropIn, OsProfile, ProfileNode } from "./profile";

/** etcd ports (the same as the coreos profile): 2379 clients, 2380 peers, both https only. */
export { ETCD_CLIENT_PORT, ETCD_PEER_PORT };

/**
 * Where etcd-wrapper mounts the node's `ETCD_SSL_DIR` inside etcd's container:
 * `-v ${ETCD_SSL_DIR}:/etc/ssl/certs:ro` (flatcar/scripts
 * app-admin/etcd-wrapper/files/etcd-wrapper). etcd reads its TLS files there.
 */
export const ETCD_CONTAINER_SSL_DIR = "/etc/ssl/certs";

/**
 * The public CA bundle inside etcd's container. Mounting the node's TLS directory over
 * /etc/ssl/certs hides the system roots there, and a discovery URL over https must still be
 * verified: Flatcar's ca-certificates installs the bundle as
 * /usr/share/ca-certificates/ca-certificates.crt (coreos-overlay app-misc/ca-certificates
 * ebuild) and etcd-wrapper mounts /usr/share/ca-certificates read-only; Go's crypto/x509
 * reads SSL_CERT_FILE.
 */
export const CONTAINER_CA_BUNDLE = "/usr/share/ca-certificates/ca-certificates.crt";

/**
 * The drop-in variables of etcd's TLS, common to both bootstrap modes: the wrapper's
 * ETCD_SSL_DIR (the node's TLS directory), then etcd's flags with the paths inside the
 * container, https URLs on the node's address only.
 */
function tlsEnvironment(ip: string): Array<[string, string]> {
  const urls = etcdUrls(ip);
  const inContainer = etcdTlsPaths(ETCD_CONTAINER_SSL_DIR);
  return [
    ["ETCD_SSL_DIR", ETCD_TLS_DIR],
    ["ETCD_LISTEN_CLIENT_URLS", urls.listenClient],
    ["ETCD_ADVERTISE_CLIENT_URLS", urls.advertiseClient],
    ["ETCD_LISTEN_PEER_URLS", urls.peer],
    ["ETCD_INITIAL_ADVERTISE_PEER_URLS", urls.peer],
    ...etcdTlsFlags(inContainer).map(([flag, v]): [string, string] => [`ETCD_${flag.toUpperCase().replace(/-/g, "_")}`, v]),
  ];
}

/** The etcd image tag etcd-wrapper runs: 3.5 is the last etcd that serves the v2 API fleet speaks. */
export const ETCD_IMAGE_TAG = "v3.5.17";

/** Where etcd keeps its data: on the node's disk (the installed root), never in /run. */
export const ETCD_DATA_DIR = "/var/lib/etcd";

export interface EtcdMemberDropInInput {
  /** Member name (the node's hostname). */
  name: string;
  /** The member's static IPv4 address (peer and client URLs). */
  ip: string;
  /** Every member of the initial cluster, this one included. */
  initialCluster: Array<{ name: string; ip: string }>;
  /** `new` for a member of the bootstrap, `existing` for a node that joins a running cluster. */
  clusterState: "new" | "existing";
  /** The cluster's token (etcd's initial-cluster-token): two clusters never share one. */
  token: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `name=https://ip:2380,…` in the order given. */
export function initialClusterString(members: ReadonlyArray<{ name: string; ip: string }>): string {
  return members.map((m) => `${m.name}=${etcdUrls(m.ip).peer}`).join(",");
}

/**
 * The drop-in for `etcd-member.service`: a `[Service]` section of `Environment="ETCD_…=…"`
 * lines only (etcd reads every flag from its ETCD_ variable; etcd-wrapper reads ETCD_IMAGE_TAG
 * and ETCD_SSL_DIR).
 * Static bootstrap: the initial cluster is the declared members, no discovery.
 */
export function renderEtcdMemberDropIn(m: EtcdMemberDropInInput): string {
  if (!NAME.test(m.name)) throw new Error(`etcd member name ${JSON.stringify(m.name)} is not a hostname`);
  if (!IPV4.test(m.ip)) throw new Error(`etcd member ${m.name}: ${JSON.stringify(m.ip)} is not an IPv4 address`);
  if (m.clusterState !== "new" && m.clusterState !== "existing") {
    throw new Error(`etcd member ${m.name}: cluster state must be "new" or "existing", got ${JSON.stringify(m.clusterState)}`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(m.token)) throw new Error(`etcd member ${m.name}: token ${JSON.stringify(m.token)} must be letters, digits, ".", "_" or "-"`);
  const names = new Set<string>();
  for (const peer of m.initialCluster) {
    if (!NAME.test(peer.name) || !IPV4.test(peer.ip)) throw new Error(`etcd member ${m.name}: initial cluster entry ${JSON.stringify(peer)} needs a hostname and an IPv4 address`);
    if (names.has(peer.name)) throw new Error(`etcd member ${m.name}: initial cluster names ${peer.name} twice`);
    names.add(peer.name);
  }
  const self = m.initialCluster.find((p) => p.name === m.name);
  if (!self || self.ip !== m.ip) throw new Error(`etcd member ${m.name}: the initial cluster must list this member with its own address ${m.ip}`);
  const env: Array<[string, string]> = [
    ["ETCD_IMAGE_TAG", ETCD_IMAGE_TAG],
    ["ETCD_NAME", m.name],
    ["ETCD_DATA_DIR", ETCD_DATA_DIR],
    ...tlsEnvironment(m.ip),
    ["ETCD_INITIAL_CLUSTER", initialClusterString(m.initialCluster)],
    ["ETCD_INITIAL_CLUSTER_STATE", m.clusterState],
    ["ETCD_INITIAL_CLUSTER_TOKEN", m.token],
    // fleet v1.0.0 speaks only the v2 API; etcd 3.5 serves it only when asked.
    ["ETCD_ENABLE_V2", "true"],
  ];
  return renderIni([["Service", env.map(([k, v]) => ["Environment", `"${k}=${v}"`] as const)]]);
}

/** The etcd-member drop-in of a cluster bootstrapped through a discovery URL (self-hosted etcd-discovery): ETCD_DISCOVERY instead of a member list. */
export function renderEtcdMemberDiscoveryDropIn(m: { name: string; ip: string; discoveryUrl: string }): string {
  if (!NAME.test(m.name)) throw new Error(`etcd member name ${JSON.stringify(m.name)} is not a hostname`);
  if (!IPV4.test(m.ip)) throw new Error(`etcd member ${m.name}: ${JSON.stringify(m.ip)} is not an IPv4 address`);
  if (/["\\%$\r\n]/.test(m.discoveryUrl)) throw new Error(`etcd member ${m.name}: discovery URL ${JSON.stringify(m.discoveryUrl)} holds a character systemd would read specially`);
  const env: Array<[string, string]> = [
    ["ETCD_IMAGE_TAG", ETCD_IMAGE_TAG],
    ["ETCD_NAME", m.name],
    ["ETCD_DATA_DIR", ETCD_DATA_DIR],
    ...tlsEnvironment(m.ip),
    ["ETCD_DISCOVERY", m.discoveryUrl],
    // Verifies an https discovery service with the public roots (see CONTAINER_CA_BUNDLE).
    ["SSL_CERT_FILE", CONTAINER_CA_BUNDLE],
    ["ETCD_ENABLE_V2", "true"],
  ];
  return renderIni([["Service", env.map(([k, v]) => ["Environment", `"${k}=${v}"`] as const)]]);
}

/** Where the fetch script lives on the node, and where fleetd and fleetctl go (in the PATH of user core). */
export const FLEET_FETCH_SCRIPT = "/opt/xen-coreos/fleet-fetch.sh";
export const FLEET_BIN_DIR = "/opt/bin";
/** fleet's API socket, where fleetctl looks by default (as CoreOS's own fleet.socket). */
export const FLEET_SOCKET = "/var/run/fleet.sock";
export const ETCD_DROP_IN = "20-xen-coreos-etcd.conf";

/** The fetch script's text (scripts/fleet-fetch.sh): fetch once, verify the sha256, install. */
export function fleetFetchScript(): string {
  return fs.readFileSync(path.join(__dirname, "scripts", "fleet-fetch.sh"), "utf8");
}

function fleetSocketUnit(): string {
  return renderIni([
    ["Unit", [["Description", "fleet API socket"], ["PartOf", "fleet.service"]]],
    ["Socket", [["ListenStream", FLEET_SOCKET], ["SocketMode", "0660"]]],
  ]);
}

/** fleetd v1.0.0, configured by its FLEET_ environment (as the coreos profile's `coreos.fleet` section did for CoreOS's fleet). */
export function fleetServiceUnit(node: ProfileNode): string {
  const fleet = node.os.fleet;
  if (!fleet) throw new Error(`node ${node.hostname}: the flatcar profile needs the fleet download (xen-coreos:os.fleet.url and os.fleet.sha256)`);
  // Words of ExecStartPre: nothing systemd splits, expands or unquotes (settings refuse these first).
  if (!/^(https?|file):\/\/[^\s"'`$%\\]+$/.test(fleet.url)) throw new Error(`node ${node.hostname}: fleet URL ${JSON.stringify(fleet.url)} must be an http(s) or file URL without spaces, quotes, "$", "%" or "\\" (xen-coreos:os.fleet.url)`);
  if (!/^[0-9a-f]{64}$/.test(fleet.sha256)) throw new Error(`node ${node.hostname}: fleet sha256 ${JSON.stringify(fleet.sha256)} is not 64 lower-case hex digits (xen-coreos:os.fleet.sha256)`);
  return renderIni([
    ["Unit", [
      ["Description", "fleet daemon v1.0.0 (fetched once, verified by sha256)"],
      ["Wants", "network-online.target etcd-member.service fleet.socket"],
      ["After", "network-online.target etcd-member.service fleet.socket"],
    ]],
    ["Service", [
      ["Environment", `"FLEET_PUBLIC_IP=${node.ip}"`],
      ["Environment", `"FLEET_METADATA=${fleetMetadataString(node.fleetMetadata)}"`],
      ["Environment", `"FLEET_ETCD_SERVERS=${etcdUrls(node.ip).advertiseClient}"`],
      ["Environment", `"FLEET_ETCD_CAFILE=${ETCD_TLS.caFile}"`],
      ["Environment", `"FLEET_ETCD_CERTFILE=${ETCD_TLS.certFile}"`],
      ["Environment", `"FLEET_ETCD_KEYFILE=${ETCD_TLS.keyFile}"`],
      ["ExecStartPre", `${FLEET_FETCH_SCRIPT} ${fleet.url} ${fleet.sha256} ${FLEET_BIN_DIR}`],
      ["ExecStart", `${FLEET_BIN_DIR}/fleetd`],
      ["Restart", "always"],
      ["RestartSec", "10s"],
      // The first start downloads the tarball.
      ["TimeoutStartSec", "900"],
    ]],
  ]);
}

function etcdDropIn(node: ProfileNode): DropIn {
  const etcd = node.etcd;
  const content =
    etcd.mode === "discovery"
      ? renderEtcdMemberDiscoveryDropIn({ name: node.hostname, ip: node.ip, discoveryUrl: etcd.discoveryUrl })
      : renderEtcdMemberDropIn({ name: node.hostname, ip: node.ip, initialCluster: etcd.initialCluster, clusterState: etcd.state, token: etcd.token ?? node.hostname });
  return { name: ETCD_DROP_IN, content };
}

export const flatcarProfile: OsProfile = {
  name: "flatcar",
  displayName: "Flatcar",
  // No `-o xen`: Flatcar has no xen OEM image (the flag asks for a file that does not exist).
  installCommand(node: ProfileNode): string[] {
    const args = ["/usr/bin/flatcar-install", "-d", node.install.device, "-C", node.install.channel];
    if (node.os.version) args.push("-V", node.os.version);
    if (node.install.baseUrl) args.push("-b", node.install.baseUrl);
    return args;
  },
  clusterUnitNames: ["etcd-member.service", "fleet.service"],
  // Flatcar ships neither etcd2.service nor fleet.service: those sections would do nothing.
  sections: () => ({}),
  clusterUnits(node: ProfileNode, skipOnInstallBoot: DropIn): CloudConfigUnit[] {
    return [
      { name: "etcd-member.service", command: "start", "drop-ins": [skipOnInstallBoot, etcdDropIn(node)] },
      { name: "fleet.socket", content: fleetSocketUnit() },
      { name: "fleet.service", command: "start", content: fleetServiceUnit(node), "drop-ins": [skipOnInstallBoot] },
    ];
  },
  files(): CloudConfigFile[] {
    return [{ path: FLEET_FETCH_SCRIPT, permissions: "0755", owner: "root", content: fleetFetchScript() }];
  },
  // The services' scripts speak etcdctl's v2 commands; fleetctl lives in /opt/bin.
  environment: () => ["ETCDCTL_API=2", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin"],
};
