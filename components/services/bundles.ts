/**
 * From the services' settings to their rendered units and files (pure). The components
 * call these inside `apply` when secrets are involved; the settings check calls them
 * with placeholder passwords to validate fleet placement before anything is declared.
 */
import { ClusterSettings } from "../config/settings";
import { FtpServiceSettings, GaleraServiceSettings, ServiceSettings, WebServiceSettings } from "../config/services-settings";
import { matchingMachines, placementUnits, validatePlacement } from "../fleet/placement";
import { ServiceBundle } from "../fleet/unit-file";
import { FtpUser, renderFtp } from "./ftp-render";
import { GaleraBundle, renderGalera } from "./galera-render";
import { renderWebTier } from "./web-render";

export function renderWebBundle(web: WebServiceSettings): ServiceBundle {
  return renderWebTier({
    instances: web.instances,
    basePort: web.basePort,
    apacheImage: web.apacheImage,
    nginxImage: web.nginxImage,
    announceInterval: web.announceIntervalSeconds,
    announceTtl: web.announceTtlSeconds,
    proxyMachineMetadata: web.placement,
    nginx: { workerProcesses: web.workerProcesses, workerConnections: 1024 },
  });
}

/** The nodes the Galera members may run on: the cluster's nodes matching its placement. */
export function galeraNodes(galera: GaleraServiceSettings, cluster: ClusterSettings): Array<{ name: string; address: string }> {
  const eligible = new Set(matchingMachines(galera.placement, cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata }))).map((m) => m.name));
  return cluster.nodes.filter((n) => eligible.has(n.name)).map((n) => ({ name: n.name, address: n.ip }));
}

/** `tls: false` only to measure what TLS costs (the real tier); the program always renders TLS. */
export function renderGaleraBundle(galera: GaleraServiceSettings, cluster: ClusterSettings, opts: { tls?: boolean } = {}): GaleraBundle {
  return renderGalera({
    tls: opts.tls,
    clusterName: `xen-coreos-${cluster.name}`,
    nodes: galeraNodes(galera, cluster),
    members: galera.members,
    machineMetadata: galera.placement,
    image: galera.image,
    sstMethod: galera.sstMethod,
    appUser: galera.user,
    appDatabase: galera.database,
    // On every db node, so any db node's address is an endpoint.
    proxy: { listenPort: galera.proxyPort, machineMetadata: galera.placement, global: true },
  });
}

/** The nodes the ftp unit may run on (fleet places it on any of them): each needs its files. */
export function ftpNodes(ftp: FtpServiceSettings, cluster: ClusterSettings): Array<{ name: string; address: string }> {
  const eligible = new Set(matchingMachines(ftp.placement, cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata }))).map((m) => m.name));
  return cluster.nodes.filter((n) => eligible.has(n.name)).map((n) => ({ name: n.name, address: n.ip }));
}

/** `certificate`: the FTPS pair (with `ftp.tls`); without it the bundle has no certificate files. */
export function renderFtpBundle(ftp: FtpServiceSettings, users: FtpUser[], saltKey?: string, certificate?: { certPem: string; keyPem: string }): ServiceBundle {
  return renderFtp({
    image: ftp.image,
    users,
    saltKey,
    tls: ftp.tls,
    certificate,
    listenPort: ftp.listenPort,
    pasvMinPort: ftp.passivePorts.min,
    pasvMaxPort: ftp.passivePorts.max,
    machineMetadata: ftp.placement,
  });
}

/**
 * Renders every service with placeholder passwords and checks fleet's placement rules
 * against each cluster's nodes. Returns problems naming the setting and the unit.
 */
export function servicePlacementProblems(services: ServiceSettings, clusters: ClusterSettings[]): string[] {
  const problems: string[] = [];
  const byCluster = new Map<string, ServiceBundle["units"]>();
  const add = (service: string, cluster: string, render: () => ServiceBundle) => {
    try {
      byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), ...render().units]);
    } catch (e) {
      problems.push(`xen-coreos:services.${service}: ${(e as Error).message}`);
    }
  };
  const cluster = (name: string) => clusters.find((c) => c.name === name);
  if (services.web && cluster(services.web.cluster)) add("web", services.web.cluster, () => renderWebBundle(services.web!));
  if (services.galera && cluster(services.galera.cluster)) add("galera", services.galera.cluster, () => renderGaleraBundle(services.galera!, cluster(services.galera!.cluster)!));
  if (services.ftp && cluster(services.ftp.cluster) && services.ftp.image)
    add("ftp", services.ftp.cluster, () => renderFtpBundle(services.ftp!, services.ftp!.users.map((name) => ({ name, password: "placeholder" }))));
  for (const [name, units] of byCluster) {
    const machines = cluster(name)!.nodes.map((n) => ({ name: n.name, metadata: n.metadata }));
    for (const problem of validatePlacement(placementUnits(units), machines)) problems.push(`xen-coreos:services (cluster ${name}): ${problem}`);
  }
  return problems;
}
