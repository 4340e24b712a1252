/**
 * The whole program as one function, so `index.ts` and the Automation API tests run the
 * very same code. Order: settings (validated before anything is declared) → host-level
 * objects (ISO library, NAS share) → clusters (token → cloud-configs → config drives → VMs).
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { loadStackSettings } from "./config/load";
import { CoreosCluster } from "./cluster/coreos-cluster";
import { NfsShare } from "./nas/nfs-share";
import { IsoRepository } from "./xen/iso-repository";

/** Builds the platform. `opts` lets a caller (a test) parent everything under one resource. */
export function xenCoreosProgram(opts: pulumi.ComponentResourceOptions = {}) {
  const stack = pulumi.getStack();
  const { settings, secrets } = loadStackSettings();
  const { xenserver, network, nas } = settings;

  const xenConnection: command.types.input.remote.ConnectionArgs = {
    host: xenserver.host,
    port: xenserver.port,
    user: xenserver.user,
    privateKey: secrets.xenserverPrivateKey,
    hostKey: xenserver.hostKey,
    dialErrorLimit: 5,
    perDialTimeout: 15,
  };

  const isoRepository = new IsoRepository("iso-library", {
    connection: xenConnection,
    name: xenserver.isoRepository.name,
    location: xenserver.isoRepository.location,
    coreosIso: xenserver.isoRepository.coreosIso,
  }, opts);

  const share = new NfsShare("share", {
    server: nas.server,
    exportPath: nas.export,
    mountPoint: nas.mountPoint,
    options: nas.options,
    clients: network.cidr,
    stack,
    managedConnection: nas.managed
      ? { host: nas.server, port: nas.sshPort, user: nas.sshUser, privateKey: secrets.nasPrivateKey, dialErrorLimit: 5 }
      : undefined,
  }, opts);

  const clusters = settings.clusters.map(
    (cluster) =>
      new CoreosCluster(cluster.name, {
        stack,
        cluster,
        network,
        coreos: settings.coreos,
        xenserver,
        xenConnection,
        isoRepository,
        share,
        sshAuthorizedKeys: settings.ssh.authorizedKeys,
        discoveryEndpoint: settings.discovery.endpoint,
      }, opts),
  );

  return {
    clusters: Object.fromEntries(
      clusters.map((c) => [
        c.name,
        {
          nodes: c.nodes.map((n) => ({ name: n.name, ip: n.ip, vmUuid: n.vmUuid, metadata: n.metadata })),
          discoveryUrl: c.discoveryUrl,
          // fleetctl talks to the cluster through any node over SSH (user core).
          fleet: {
            tunnel: `${c.nodes[0].ip}`,
            example: `fleetctl --tunnel ${c.nodes[0].ip} list-machines`,
          },
        },
      ]),
    ),
    share: {
      server: share.server,
      export: share.exportPath,
      mountPoint: share.mountPoint,
      options: share.options,
      mountUnit: share.mountUnit,
      managed: share.managed,
    },
    isoRepository: isoRepository.srUuid,
  };
}
