/**
 * The `coreos` OS profile: CoreOS Container Linux as the thesis ran it (Annex 2): installed
 * by `coreos-install -o xen`, etcd2 and fleet configured by the cloud-config's own
 * `coreos.etcd2` and `coreos.fleet` sections (coreos-cloudinit writes their drop-ins).
 * etcd serves clients and peers over https only, on the node's address (and 127.0.0.1 for
 * the node's own clients), and asks every client and peer for a certificate of the
 * deployment's CA; fleet connects with the node's certificate.
 * Pure: plain values in, plain values out.
 */
import { ETCD_TLS, EtcdTlsPaths } from "../etcd/etcd-tls";
import { CloudConfigUnit, DropIn, EtcdBootstrap, OsProfile, ProfileNode } from "./profile";

/**
 * etcd ports: 2379 clients, 2380 peers. The thesis also listened on the legacy 4001/7001
 * (etcd 0.4's ports); nothing of the platform uses them, so they are no longer opened: one
 * TLS listener per role, nothing in plain http.
 */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

/** etcd's client and peer URLs of a node: https only, on its own address. */
export function etcdUrls(ip: string): { advertiseClient: string; listenClient: string; peer: string } {
  return {
    advertiseClient: `https://${ip}:${ETCD_CLIENT_PORT}`,
    listenClient: `https://${ip}:${ETCD_CLIENT_PORT},https://127.0.0.1:${ETCD_CLIENT_PORT}`,
    peer: `https://${ip}:${ETCD_PEER_PORT}`,
  };
}

/** etcd's TLS settings by flag name (without `--`): the same files for clients and peers, both authenticated. */
export function etcdTlsFlags(tls: EtcdTlsPaths): Array<[string, string]> {
  return [
    ["cert-file", tls.certFile],
    ["key-file", tls.keyFile],
    ["trusted-ca-file", tls.caFile],
    ["client-cert-auth", "true"],
    ["peer-cert-file", tls.certFile],
    ["peer-key-file", tls.keyFile],
    ["peer-trusted-ca-file", tls.caFile],
    ["peer-client-cert-auth", "true"],
  ];
}

/** fleet's metadata string: `key=value` pairs, comma-separated, keys sorted. */
export function fleetMetadataString(metadata: Record<string, string>): string {
  return Object.keys(metadata)
    .sort()
    .map((k) => `${k}=${metadata[k]}`)
    .join(",");
}

/** `name=https://ip:2380,…` in the order given. */
export function peerList(peers: ReadonlyArray<{ name: string; ip: string }>): string {
  return peers.map((m) => `${m.name}=${etcdUrls(m.ip).peer}`).join(",");
}

function etcd2Bootstrap(etcd: EtcdBootstrap): Record<string, string> {
  if (etcd.mode === "discovery") return { discovery: etcd.discoveryUrl };
  return {
    "initial-cluster": peerList(etcd.initialCluster),
    "initial-cluster-state": etcd.state,
    ...(etcd.state === "new" && etcd.token ? { "initial-cluster-token": etcd.token } : {}),
  };
}

export const coreosProfile: OsProfile = {
  name: "coreos",
  displayName: "CoreOS",
  installCommand(node: ProfileNode): string[] {
    const args = ["/usr/bin/coreos-install", "-d", node.install.device, "-C", node.install.channel, "-o", "xen"];
    if (node.install.baseUrl) args.push("-b", node.install.baseUrl);
    return args;
  },
  clusterUnitNames: ["etcd2.service", "fleet.service"],
  sections(node: ProfileNode): Record<string, unknown> {
    const ip = node.ip;
    const urls = etcdUrls(ip);
    // The boolean flags as YAML booleans: coreos-cloudinit's config.Etcd2 types them bool.
    const tls = Object.fromEntries(etcdTlsFlags(ETCD_TLS).map(([k, v]) => [k, v === "true" ? true : v]));
    return {
      etcd2: {
        name: node.hostname,
        ...etcd2Bootstrap(node.etcd),
        "advertise-client-urls": urls.advertiseClient,
        "initial-advertise-peer-urls": urls.peer,
        "listen-client-urls": urls.listenClient,
        "listen-peer-urls": urls.peer,
        ...tls,
      },
      fleet: {
        "public-ip": ip,
        metadata: fleetMetadataString(node.fleetMetadata),
        "etcd-servers": urls.advertiseClient,
        "etcd-cafile": ETCD_TLS.caFile,
        "etcd-certfile": ETCD_TLS.certFile,
        "etcd-keyfile": ETCD_TLS.keyFile,
      },
    };
  },
  clusterUnits(_node: ProfileNode, skipOnInstallBoot: DropIn): CloudConfigUnit[] {
    return [
      { name: "etcd2.service", command: "start", "drop-ins": [skipOnInstallBoot] },
      { name: "fleet.service", command: "start", "drop-ins": [skipOnInstallBoot] },
    ];
  },
  files: () => [],
  environment: () => [],
};
