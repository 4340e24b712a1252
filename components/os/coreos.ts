/**
 * The `coreos` OS profile: CoreOS Container Linux as the thesis ran it (Annex 2): installed
 * by `coreos-install -o xen`, etcd2 and fleet configured by the cloud-config's own
 * `coreos.etcd2` and `coreos.fleet` sections (coreos-cloudinit writes their drop-ins).
 * Pure: plain values in, plain values out.
 */
import { CloudConfigUnit, DropIn, EtcdBootstrap, OsProfile, ProfileNode } from "./profile";

/** etcd ports: 2379/2380 official, 4001/7001 legacy (thesis Annex 2). */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const ETCD_LEGACY_CLIENT_PORT = 4001;
export const ETCD_LEGACY_PEER_PORT = 7001;

/** fleet's metadata string: `key=value` pairs, comma-separated, keys sorted. */
export function fleetMetadataString(metadata: Record<string, string>): string {
  return Object.keys(metadata)
    .sort()
    .map((k) => `${k}=${metadata[k]}`)
    .join(",");
}

/** `name=http://ip:2380,…` in the order given. */
export function peerList(peers: ReadonlyArray<{ name: string; ip: string }>): string {
  return peers.map((m) => `${m.name}=http://${m.ip}:${ETCD_PEER_PORT}`).join(",");
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
    return {
      etcd2: {
        name: node.hostname,
        ...etcd2Bootstrap(node.etcd),
        "advertise-client-urls": `http://${ip}:${ETCD_CLIENT_PORT},http://${ip}:${ETCD_LEGACY_CLIENT_PORT}`,
        "initial-advertise-peer-urls": `http://${ip}:${ETCD_PEER_PORT}`,
        "listen-client-urls": `http://0.0.0.0:${ETCD_CLIENT_PORT},http://0.0.0.0:${ETCD_LEGACY_CLIENT_PORT}`,
        "listen-peer-urls": `http://${ip}:${ETCD_PEER_PORT},http://${ip}:${ETCD_LEGACY_PEER_PORT}`,
      },
      fleet: {
        "public-ip": ip,
        metadata: fleetMetadataString(node.fleetMetadata),
        "etcd-servers": `http://${ip}:${ETCD_CLIENT_PORT}`,
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
