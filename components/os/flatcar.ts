/**
 * The `flatcar` OS profile: Flatcar Container Linux, the successor of CoreOS Container Linux
 * that still reads a cloud-config from a config-2 drive. Pure: plain values in, text out.
 *
 * Flatcar parses `coreos.etcd2` and `coreos.fleet` but ships neither etcd2.service nor
 * fleet.service, so those sections would silently do nothing: this profile runs etcd v3.5
 * through Flatcar's own `etcd-member.service` (etcd-wrapper, configured by environment in a
 * drop-in) and fleet v1.0.0 as a unit of its own.
 */
import { renderIni } from "../systemd/ini";

/** etcd ports (the same as the coreos profile): 2379/2380 official, 4001 legacy client. */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_LEGACY_CLIENT_PORT = 4001;

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

/** `name=http://ip:2380,…` in the order given. */
export function initialClusterString(members: ReadonlyArray<{ name: string; ip: string }>): string {
  return members.map((m) => `${m.name}=http://${m.ip}:${ETCD_PEER_PORT}`).join(",");
}

/**
 * The drop-in for `etcd-member.service`: a `[Service]` section of `Environment="ETCD_…=…"`
 * lines only (etcd reads every flag from its ETCD_ variable; etcd-wrapper reads ETCD_IMAGE_TAG).
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
    ["ETCD_LISTEN_CLIENT_URLS", `http://0.0.0.0:${ETCD_CLIENT_PORT},http://0.0.0.0:${ETCD_LEGACY_CLIENT_PORT}`],
    ["ETCD_ADVERTISE_CLIENT_URLS", `http://${m.ip}:${ETCD_CLIENT_PORT},http://${m.ip}:${ETCD_LEGACY_CLIENT_PORT}`],
    ["ETCD_LISTEN_PEER_URLS", `http://${m.ip}:${ETCD_PEER_PORT}`],
    ["ETCD_INITIAL_ADVERTISE_PEER_URLS", `http://${m.ip}:${ETCD_PEER_PORT}`],
    ["ETCD_INITIAL_CLUSTER", initialClusterString(m.initialCluster)],
    ["ETCD_INITIAL_CLUSTER_STATE", m.clusterState],
    ["ETCD_INITIAL_CLUSTER_TOKEN", m.token],
    // fleet v1.0.0 speaks only the v2 API; etcd 3.5 serves it only when asked.
    ["ETCD_ENABLE_V2", "true"],
  ];
  return renderIni([["Service", env.map(([k, v]) => ["Environment", `"${k}=${v}"`] as const)]]);
}
