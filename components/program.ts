/**
 * The whole program as one function, so `index.ts` and the Automation API tests run the
 * very same code. Order: settings (validated before anything is declared) → host-level
 * objects (ISO library, NAS share) → clusters (token → cloud-configs → config drives → VMs,
 * then members that join later) → services (fleet units and their files on each cluster that
 * runs one, once fleet lists every node).
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { loadStackSettings } from "./config/load";
import { CoreosCluster } from "./cluster/coreos-cluster";
import { NfsShare } from "./nas/nfs-share";
import { GuestAgent } from "./xen/guest-agent";
import { IsoRepository } from "./xen/iso-repository";
import { DeploymentPki } from "./pki/deployment-pki";
import { ClusterSettings } from "./config/settings";
import { FleetReady } from "./fleet/fleet-ready";
import { FtpService } from "./services/ftp-service";
import { GaleraCluster } from "./services/galera-cluster";
import { WebCluster } from "./services/web-cluster";
import { ftpNodes, servicePlacementProblems } from "./services/bundles";

/** Builds the platform. `opts` lets a caller (a test) parent everything under one resource. */
export function xenCoreosProgram(opts: pulumi.ComponentResourceOptions = {}) {
  const stack = pulumi.getStack();
  // fleet's placement rules, checked on the rendered units (a services-layer check, so passed down).
  const { settings, secrets } = loadStackSettings([(s) => servicePlacementProblems(s.services, s.clusters)]);
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

  // This deployment's identity, kept in the stack's state: every marker the program leaves on
  // the XenServer host and the NAS carries it, so a delete only ever removes what this
  // deployment made, whatever another project, backend or stack of the same name does. It is
  // new after a teardown (`destroy` removes it), like everything else.
  const deployment = new random.RandomId("deployment", { byteLength: 8 }, opts);

  // The deployment's CA, certificates and node host keys, generated once and kept in state as secrets.
  const pki = new DeploymentPki("pki", {
    deploymentId: deployment.hex,
    stack,
    tlsRotation: settings.security.tlsRotation,
    hostKeyRotation: settings.security.hostKeyRotation,
    caValidityDays: settings.security.caValidityDays,
    certValidityDays: settings.security.certValidityDays,
  }, opts);

  const isoRepository = new IsoRepository("iso-library", {
    connection: xenConnection,
    name: xenserver.isoRepository.name,
    location: xenserver.isoRepository.location,
    coreosIso: xenserver.isoRepository.coreosIso,
  }, opts);

  // The Linux guest agent from the host's tools ISO goes onto every config drive (xscontainer's way).
  const guestAgent = new GuestAgent("guest-agent", { connection: xenConnection }, opts);

  const share = new NfsShare("share", {
    server: nas.server,
    exportPath: nas.export,
    mountPoint: nas.mountPoint,
    options: nas.options,
    // Exported to the nodes alone (every node of every cluster mounts it), not the whole network.
    clients: settings.clusters.flatMap((c) => c.nodes.map((n) => n.ip)),
    deploymentId: deployment.hex,
    stack,
    managedConnection: nas.managed
      ? { host: nas.server, port: nas.sshPort, user: nas.sshUser, privateKey: secrets.nasPrivateKey, hostKey: nas.hostKey, dialErrorLimit: 5 }
      : undefined,
  }, { ...opts, protect: nas.protect });

  // Every connection to a node pins the host key the program generated for it (written into its cloud-config).
  const nodeConnection = (node: ClusterSettings["nodes"][number]): command.types.input.remote.ConnectionArgs => ({
    host: node.sshHost ?? node.ip,
    port: settings.ssh.port,
    user: settings.ssh.user,
    hostKey: pki.hostKey(node.name).publicKey,
    privateKey: secrets.sshPrivateKey,
    dialErrorLimit: 20,
    perDialTimeout: 15,
    // The cluster network sits behind the XenServer host (thesis: ssh to the host, then to the node).
    proxy: settings.ssh.viaXenServer
      ? { host: xenserver.host, port: xenserver.port, user: xenserver.user, privateKey: secrets.xenserverPrivateKey, hostKey: xenserver.hostKey }
      : undefined,
  });
  const clusters = settings.clusters.map(
    (cluster) =>
      new CoreosCluster(cluster.name, {
        stack,
        deploymentId: deployment.hex,
        cluster,
        network,
        coreos: settings.coreos,
        xenserver,
        xenConnection,
        isoRepository,
        driveFiles: guestAgent.files,
        share,
        sshAuthorizedKeys: settings.ssh.authorizedKeys,
        sshUser: settings.ssh.user,
        hostKeys: (nodeName) => pki.hostKey(nodeName),
        hostKeyRotation: settings.security.hostKeyRotation,
        discoveryEndpoint: settings.discovery.endpoint,
        discoveryMode: settings.discovery.mode,
        os: settings.os,
        firewall: settings,
        nodeConnection,
        // Each node's own etcd certificate: its address and 127.0.0.1 (the node's own clients), server and client.
        etcdCertificate: (node) =>
          pki.certificate(`etcd-${node.name}`, { commonName: node.name, ipAddresses: [node.ip, "127.0.0.1"], usages: ["server", "client"] }),
      }, { ...opts, protect: cluster.protect }),
  );

  // ---- services: on each cluster that runs one, fleetctl on its first node once fleet lists every node.
  const { web, galera, ftp } = settings.services;
  const protectedDirs = [`${nas.mountPoint}/www`];
  const ready = new Map<string, FleetReady>();
  const fleetFor = (clusterName: string) => {
    const index = settings.clusters.findIndex((c) => c.name === clusterName);
    const cluster = settings.clusters[index];
    if (!ready.has(clusterName)) {
      ready.set(clusterName, new FleetReady(`${clusterName}-fleet`, {
        connection: nodeConnection(cluster.nodes[0]),
        machines: cluster.nodes.length,
      }, { ...opts, dependsOn: [clusters[index]] }));
    }
    return { cluster, connection: nodeConnection(cluster.nodes[0]), ready: ready.get(clusterName)! };
  };
  const webCluster = web
    ? (() => {
        const f = fleetFor(web.cluster);
        const nodeConnections = Object.fromEntries(f.cluster.nodes.map((n) => [n.name, nodeConnection(n)]));
        return new WebCluster("web", { settings: web, cluster: f.cluster, fleetConnection: f.connection, nodeConnections, protectedDirs }, { ...opts, dependsOn: [f.ready, share] });
      })()
    : undefined;
  const galeraCluster = galera
    ? (() => {
        const f = fleetFor(galera.cluster);
        const nodeConnections = Object.fromEntries(f.cluster.nodes.map((n) => [n.name, nodeConnection(n)]));
        return new GaleraCluster("galera", { settings: galera, cluster: f.cluster, fleetConnection: f.connection, nodeConnections, pki, protectedDirs }, { ...opts, dependsOn: [f.ready, share] });
      })()
    : undefined;
  const ftpService = ftp
    ? (() => {
        const f = fleetFor(ftp.cluster);
        const nodes = ftpNodes(ftp, f.cluster);
        // One certificate for every node vsftpd may run on: clients verify it by the node's address.
        const certificate = ftp.tls ? pki.certificate("ftp", { commonName: "ftp", ipAddresses: nodes.map((n) => n.address), usages: ["server"] }) : undefined;
        const connections = nodes.map((n) => ({ name: n.name, connection: nodeConnection(f.cluster.nodes.find((c) => c.name === n.name)!) }));
        return new FtpService("ftp", { settings: ftp, fleetConnection: f.connection, nodes: connections, certificate, protectedDirs }, { ...opts, dependsOn: [f.ready, share] });
      })()
    : undefined;

  return {
    /** The id every marker of this deployment carries (VM and config drive other-config, NAS export line). */
    deploymentId: deployment.hex,
    /** The deployment's CA certificate: clients of etcd, Galera and FTPS verify the platform with it. */
    caCertificate: pki.caPem,
    clusters: Object.fromEntries(
      clusters.map((c) => [
        c.name,
        {
          // sshHostKey: the node's pinned host key, for an operator's known_hosts (`<ip> <key>`).
          nodes: c.nodes.map((n) => ({ name: n.name, ip: n.ip, vmUuid: n.vmUuid, metadata: n.metadata, sshHostKey: pki.hostKey(n.name).publicKey })),
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
    services: {
      web: webCluster && { units: Object.keys(webCluster.units), backendPorts: webCluster.backendPorts, entry: `http://<any node running nginx.service>:80/` },
      database: galeraCluster && { endpoint: galeraCluster.endpoint, appPassword: galeraCluster.appPassword, rootPassword: galeraCluster.rootPassword },
      ftp: ftpService && { passwords: ftpService.passwords },
    },
  };
}
