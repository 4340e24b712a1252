/**
 * What each node's host firewall lets in, from the stack settings: the openings that
 * firewall-render.ts turns into rules. Pure: settings in, plain values out.
 *
 * Per node of a cluster:
 * - SSH (port 22, where sshd.socket listens, and `ssh.port` when it differs) from
 *   `security.sshAllowedFrom`, plus the XenServer host's address when the program reaches
 *   the nodes through it (`ssh.viaXenServer`, the default): the host's connections to the
 *   nodes may come from its own network, and a firewall that locks the program out of its
 *   nodes cannot be corrected by the program. (A node reached through `sshHost`, e.g. a NAT,
 *   sees the NAT's address: list it in sshAllowedFrom.)
 * - etcd (client, peer and the legacy ports etcd2 still serves) from the addresses of the
 *   node's own cluster only. fleet has no port of its own (it talks through etcd).
 * - web, on the web cluster: the apache backends (basePort + i, on every node: the apache
 *   units carry no placement) only from the nodes the nginx proxy may run on; port 80 on
 *   those proxy nodes from `services.web.allowFrom`.
 * - galera, on the nodes its placement matches: 3306, 4444, 4567 and 4568 only from those
 *   nodes (members and the HAProxy health checks); `proxyPort` from `services.galera.allowFrom`.
 * - ftp, on the nodes its placement matches: `listenPort` and the passive range from
 *   `services.ftp.allowFrom`.
 * Every `allowFrom` defaults to anywhere; an operator narrows it.
 *
 * Not opened: NFS callbacks from the NAS (NFSv4 delegations are then not granted, and an
 * NFSv3 blocking lock waits by polling instead of the server's callback); nothing else
 * listens for the outside.
 */
import { ETCD_PORTS, GALERA_PORTS, NODE_SSHD_PORT, WEB_PROXY_PORT } from "../config/limits";
import { ClusterSettings, NetworkSettings, SecuritySettings, SshSettings, XenServerSettings, inCidr, isIPv4 } from "../config/settings";
import { ServiceSettings } from "../config/services-settings";
import { matchingMachines } from "../fleet/placement";
import { FirewallInput, FirewallOpening } from "./firewall-render";

export interface FirewallPlanSettings {
  network: NetworkSettings;
  ssh: SshSettings;
  xenserver: Pick<XenServerSettings, "host">;
  security: Pick<SecuritySettings, "sshAllowedFrom" | "firewall">;
  services: ServiceSettings;
  clusters: ClusterSettings[];
}

const host = (ip: string) => `${ip}/32`;

function nodesMatching(cluster: ClusterSettings, placement: string[]): ClusterSettings["nodes"] {
  const names = new Set(matchingMachines(placement, cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata }))).map((m) => m.name));
  return cluster.nodes.filter((n) => names.has(n.name));
}

/**
 * The firewall of node `nodeName` of cluster `clusterName`.
 *
 * `boot: true` gives the rules the node's cloud-config carries, loaded at its first boot until
 * the program writes the exact ones: only what that boot needs, from settings that do not move
 * with the cluster's size or services — SSH as declared (the program's way in) and etcd from
 * the whole cluster network (`network.cidr`; TLS with client certificates still in front of
 * it). Service ports stay closed until the exact rules arrive (the services start after them).
 * Everything else changes with a node added or a service resized; were it in the
 * cloud-config, such a change would rebuild every node's config drive and restart the nodes.
 */
export function nodeFirewall(settings: FirewallPlanSettings, clusterName: string, nodeName: string, opts: { boot?: boolean } = {}): FirewallInput {
  const cluster = settings.clusters.find((c) => c.name === clusterName);
  if (!cluster) throw new Error(`firewall: no cluster ${JSON.stringify(clusterName)}`);
  const node = cluster.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`firewall: cluster ${clusterName} has no node ${JSON.stringify(nodeName)}`);
  const on = (nodes: ClusterSettings["nodes"]) => nodes.some((n) => n.name === node.name);
  const addresses = (nodes: ClusterSettings["nodes"]) => (opts.boot ? [settings.network.cidr] : nodes.map((n) => host(n.ip)));

  const sshFrom = [...settings.security.sshAllowedFrom];
  const jump = settings.xenserver.host;
  if (settings.ssh.viaXenServer && isIPv4(jump) && !sshFrom.some((c) => inCidr(jump, c))) sshFrom.push(host(jump));
  const openings: FirewallOpening[] = [
    { purpose: "ssh from security.sshAllowedFrom and the program", ports: [...new Set([NODE_SSHD_PORT, settings.ssh.port])], from: sshFrom },
    { purpose: "etcd from the cluster nodes", ports: [...ETCD_PORTS], from: addresses(cluster.nodes) },
  ];
  if (opts.boot) return { node: node.name, enabled: settings.security.firewall, openings };

  const { web, galera, ftp } = settings.services;
  if (web && web.cluster === cluster.name) {
    const proxies = nodesMatching(cluster, web.placement);
    openings.push({
      purpose: "apache backends from the web proxy nodes",
      ports: [{ min: web.basePort + 1, max: web.basePort + web.instances }],
      from: addresses(proxies),
    });
    if (on(proxies)) openings.push({ purpose: "web proxy from services.web.allowFrom", ports: [WEB_PROXY_PORT], from: web.allowFrom });
  }
  if (galera && galera.cluster === cluster.name) {
    const members = nodesMatching(cluster, galera.placement);
    if (on(members)) {
      openings.push({ purpose: "galera members from the db nodes", ports: [...GALERA_PORTS], from: addresses(members) });
      openings.push({ purpose: "galera proxy from services.galera.allowFrom", ports: [galera.proxyPort], from: galera.allowFrom });
    }
  }
  if (ftp && ftp.cluster === cluster.name && on(nodesMatching(cluster, ftp.placement))) {
    openings.push({
      purpose: "ftp and passive ports from services.ftp.allowFrom",
      ports: [ftp.listenPort, { min: ftp.passivePorts.min, max: ftp.passivePorts.max }],
      from: ftp.allowFrom,
    });
  }
  return { node: node.name, enabled: settings.security.firewall, openings };
}
