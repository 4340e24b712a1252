/**
 * The lab cluster bootstraps for real through etcd discovery, from the program's own
 * artifacts: the DiscoveryToken's create script asks a real `etcd-discovery` for a token,
 * the program renders each node's cloud-config with it, and three real etcd members start
 * with the environment coreos-cloudinit derives from each `coreos.etcd2` section.
 *
 * Topology (nothing of 10.50.0.0/24 exists in the root namespace):
 *
 *   namespace xr<pid>-c-hub:  br0 10.50.0.1/24 (the lab gateway), no route out
 *       etcd (discovery backend, v2 API) on the hub's own 127.0.0.1:2379
 *       etcd-discovery (discovery.etcd.io) on 10.50.0.1:8087, --host http://10.50.0.1:8087
 *       the token script (sh) and every etcdctl of the test run here
 *   namespaces xr<pid>-c-coreos1..3:  eth0 = veth into br0, 10.50.0.101..103/24 (from the
 *       rendered 10-static.network), default route via 10.50.0.1
 *       etcd with ETCD_* from the cloud-config + ETCD_DATA_DIR (a temp dir; CoreOS's
 *       etcd2.service sets /var/lib/etcd2) + ETCD_ENABLE_V2=true (the v2 API of the era)
 *
 * TLS with the program's own material: each node's CA, certificate and key are the files its
 * cloud-config writes (write_files under /etc/xen-coreos/tls, issued by the deployment's PKI
 * in the mocked run: real keys from components/pki/x509.ts), copied to a temp dir per node;
 * the etcd2 section's paths are moved to that dir, nothing else changes. Clients in the hub
 * use coreos1's files, as etcdctl on coreos1 does through /etc/environment.
 */
import * as fs from "fs";
import * as path from "path";
import { labRaw } from "../../fixtures/settings";
import { describeWith } from "../../support/prereq";
import { cleanupAll, Daemon, bridgedNetwork, Netns, startDaemon, tempDir, waitFor, waitForPort } from "../../support/real";
import * as yaml from "js-yaml";
import { etcd2Environment, staticNetwork } from "./etcd2-env";
import { RenderedStack, renderStack } from "./rendered";
import { ETCD_TLS, ETCD_TLS_DIR, EtcdTlsPaths, etcdTlsPaths } from "../../../components/etcd/etcd-tls";
import { memberTls, relocate, testCa, writeTls } from "../../support/etcd-tls";

const GATEWAY = "10.50.0.1";
const DISCOVERY = `http://${GATEWAY}:8087`;

describeWith(["etcd", "etcdctl", "discovery.etcd.io", "ip", "curl", "sh", "isoinfo"], "real etcd members bootstrapping through a real etcd-discovery")(
  "the lab cluster forms through discovery from the rendered cloud-configs",
  () => {
    let hub: Netns;
    let members: Record<string, Netns>;
    let rendered: RenderedStack;
    const etcds: Record<string, Daemon> = {};
    const envs: Record<string, Record<string, string>> = {};
    let formedMs = 0;
    let discovery: Daemon;
    let nodes: string[] = [];
    let ips: Record<string, string> = {};

    /** Each node's TLS files (from its cloud-config) in the test's dir; a client of another CA. */
    const tlsDirs: Record<string, string> = {};
    let clientTls: EtcdTlsPaths;
    let foreignTls: EtcdTlsPaths;
    /** etcdctl (v3 API unless api=2) against a member, run in the hub, with coreos1's certificate. */
    const etcdctl = (api: "2" | "3", endpoints: string[], args: string[], tls: EtcdTlsPaths = clientTls) => {
      const tlsArgs = api === "2" ? ["--ca-file", tls.caFile, "--cert-file", tls.certFile, "--key-file", tls.keyFile] : ["--cacert", tls.caFile, "--cert", tls.certFile, "--key", tls.keyFile];
      return hub.exec("etcdctl", ["--endpoints", endpoints.join(","), ...tlsArgs, ...args], { env: { ETCDCTL_API: api }, timeoutMs: 15000 });
    };
    const client = (node: string) => `https://${ips[node]}:2379`;
    /** Writes the node's TLS files as its cloud-config gives them (paths, modes) under `dir`. */
    const writeNodeTls = (cloudConfig: string, dir: string): void => {
      const files = (yaml.load(cloudConfig) as { write_files: Array<{ path: string; content: string; permissions: string }> }).write_files;
      fs.mkdirSync(dir, { recursive: true });
      for (const f of files.filter((x) => x.path.startsWith(`${ETCD_TLS_DIR}/`))) {
        fs.writeFileSync(path.join(dir, path.basename(f.path)), f.content, { mode: parseInt(f.permissions, 8) });
      }
    };

    const dataDirs: Record<string, string> = {};
    const startMember = (node: string, dataDir: string): Daemon => {
      fs.mkdirSync(path.dirname(dataDir), { recursive: true });
      return startDaemon({
        name: `etcd-${node}`,
        command: "etcd",
        netns: members[node].name,
        env: { ...relocate(envs[node], ETCD_TLS_DIR, tlsDirs[node]), ETCD_DATA_DIR: dataDir, ETCD_ENABLE_V2: "true" },
        logFile: path.join(path.dirname(dataDir), `${node}.log`),
      });
    };

    beforeAll(async () => {
      const lab = labRaw();
      const cluster = lab.clusters[0];
      nodes = cluster.nodes.map((n: any) => n.name);
      ips = Object.fromEntries(cluster.nodes.map((n: any) => [n.name, n.ip]));
      const prefixLength = Number(String(lab.network.cidr).split("/")[1]);
      expect(lab.network.gateway).toBe(GATEWAY);
      ({ hub, members } = bridgedNetwork({ label: "c", gateway: GATEWAY, prefixLength, members: cluster.nodes.map((n: any) => ({ label: n.name, ip: n.ip })) }));

      const dir = tempDir("cluster");
      startDaemon({
        name: "discovery-backend",
        command: "etcd",
        netns: hub.name,
        args: [
          "--name", "discovery-backend", "--data-dir", path.join(dir, "backend"), "--enable-v2",
          "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
          "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
          "--initial-cluster", "discovery-backend=http://127.0.0.1:2380",
        ],
        logFile: path.join(dir, "backend.log"),
      });
      await waitForPort("127.0.0.1", 2379, { netns: hub.name });
      discovery = startDaemon({
        name: "etcd-discovery",
        command: "discovery.etcd.io",
        netns: hub.name,
        args: ["--addr", `${GATEWAY}:8087`, "--etcd", "http://127.0.0.1:2379", "--host", DISCOVERY],
        logFile: path.join(dir, "discovery.log"),
      });
      await waitForPort(GATEWAY, 8087, { netns: hub.name });

      // The program, with the lab's discovery endpoint pointed at the local service; its
      // token request (command:local:Command) runs for real, with sh, in the hub.
      rendered = await renderStack("lab", {
        override: (raw) => (raw.discovery = { endpoint: DISCOVERY }),
        runLocalCommand: (script) => hub.execOk("sh", ["-c", script], { timeoutMs: 60000 }),
      });

      for (const n of rendered.nodes) {
        envs[n.node] = etcd2Environment(n.cloudConfig);
        tlsDirs[n.node] = path.join(dir, n.node, "tls");
        writeNodeTls(n.cloudConfig, tlsDirs[n.node]);
      }
      clientTls = etcdTlsPaths(tlsDirs[nodes[0]]);
      foreignTls = writeTls(path.join(dir, "foreign"), memberTls(testCa("another deployment"), nodes[0], ips[nodes[0]]));
      const start = Date.now();
      for (const node of nodes) dataDirs[node] = path.join(dir, node, "data");
      for (const node of nodes) etcds[node] = startMember(node, dataDirs[node]);
      await waitFor(
        () => {
          const r = etcdctl("3", [client(nodes[0])], ["member", "list", "-w", "json"]);
          if (r.status !== 0) return false;
          const list = JSON.parse(r.stdout).members ?? [];
          return list.length === 3 && list.every((m: any) => m.name && (m.clientURLs ?? []).length > 0);
        },
        { what: "3 started members in `etcdctl member list`", timeoutMs: 60000, intervalMs: 200 },
      ).catch((e) => {
        throw new Error(`${e.message}\n${nodes.map((n) => `--- ${n}\n${etcds[n].log().slice(-3000)}`).join("\n")}`);
      });
      await waitFor(() => etcdctl("3", nodes.map(client), ["endpoint", "health"]).status === 0, { what: "all 3 endpoints healthy", timeoutMs: 30000, intervalMs: 200 });
      formedMs = Date.now() - start;
      // eslint-disable-next-line no-console
      console.log(`etcd cluster of 3 formed through discovery in ${formedMs} ms (members started → all 3 listed and healthy)`);
    }, 180000);

    afterAll(async () => {
      await cleanupAll();
    }, 60000);

    it("the token came from the program's DiscoveryToken script, asked of the local etcd-discovery", () => {
      expect(rendered.discoveryScripts.lab).toContain(`endpoint=${DISCOVERY}\nsize=3\n`);
      expect(rendered.discoveryUrls.lab).toMatch(new RegExp(`^${DISCOVERY}/[0-9a-f]{32}$`));
      for (const n of rendered.nodes) expect(n.cloudConfig).toContain(`    discovery: ${rendered.discoveryUrls.lab}\n`);
    });

    it("each node's namespace carries the address of its rendered static network", () => {
      for (const n of rendered.nodes) {
        const net = staticNetwork(n.cloudConfig);
        expect(net).toEqual({ name: "eth0", address: ips[n.node], prefixLength: 24, gateway: GATEWAY });
        expect(members[n.node].execOk("ip", ["-4", "-o", "addr", "show", "dev", "eth0"])).toContain(`inet ${ips[n.node]}/24`);
      }
    });

    it("each member runs with exactly the environment of its cloud-config's etcd2 section: https only, certificates required", () => {
      expect(envs.coreos2).toEqual({
        ETCD_NAME: "coreos2",
        ETCD_DISCOVERY: rendered.discoveryUrls.lab,
        ETCD_ADVERTISE_CLIENT_URLS: "https://10.50.0.102:2379",
        ETCD_INITIAL_ADVERTISE_PEER_URLS: "https://10.50.0.102:2380",
        ETCD_LISTEN_CLIENT_URLS: "https://10.50.0.102:2379,https://127.0.0.1:2379",
        ETCD_LISTEN_PEER_URLS: "https://10.50.0.102:2380",
        ETCD_CERT_FILE: ETCD_TLS.certFile,
        ETCD_KEY_FILE: ETCD_TLS.keyFile,
        ETCD_TRUSTED_CA_FILE: ETCD_TLS.caFile,
        ETCD_CLIENT_CERT_AUTH: "true",
        ETCD_PEER_CERT_FILE: ETCD_TLS.certFile,
        ETCD_PEER_KEY_FILE: ETCD_TLS.keyFile,
        ETCD_PEER_TRUSTED_CA_FILE: ETCD_TLS.caFile,
        ETCD_PEER_CLIENT_CERT_AUTH: "true",
      });
    });

    it("forms one cluster of 3 members through discovery over TLS, with the rendered URLs and the program's certificates", () => {
      const list = JSON.parse(etcdctl("3", [client("coreos3")], ["member", "list", "-w", "json"]).stdout).members;
      const view = list.map((m: any) => ({ name: m.name, peerURLs: m.peerURLs, clientURLs: [...m.clientURLs].sort() })).sort((a: any, b: any) => a.name.localeCompare(b.name));
      expect(view).toEqual(nodes.map((n) => ({ name: n, peerURLs: [`https://${ips[n]}:2380`], clientURLs: [`https://${ips[n]}:2379`] })));
      // The discovery registry holds the 3 members (etcd-discovery proxies the v2 keys API).
      const registry = JSON.parse(hub.execOk("curl", ["-fsS", rendered.discoveryUrls.lab]));
      expect(registry.node.nodes).toHaveLength(3);
      // Each member serves the certificate its cloud-config carries (the deployment's PKI issued it for its address).
      for (const n of nodes) {
        const served = hub.execOk("sh", ["-c", 'openssl s_client -connect "$1" -CAfile "$2" -cert "$3" -key "$4" -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256', "sh", `${ips[n]}:2379`, clientTls.caFile, clientTls.certFile, clientTls.keyFile]);
        const written = hub.execOk("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", etcdTlsPaths(tlsDirs[n]).certFile]);
        expect(served.trim()).toBe(written.trim());
      }
      // No legacy port any more.
      for (const n of nodes) expect(members[n].execOk("ss", ["-Hltn"])).not.toMatch(/:(4001|7001)\b/);
      expect(formedMs).toBeGreaterThan(0);
    });

    it("refuses a client without a certificate, with another CA's certificate, and plain http", () => {
      const probes: string[] = [];
      for (const n of nodes) {
        const noCert = hub.exec("etcdctl", ["--endpoints", client(n), "--ca-file", clientTls.caFile, "get", "/xen-coreos"], { env: { ETCDCTL_API: "2" }, timeoutMs: 15000 });
        const foreign = etcdctl("2", [client(n)], ["set", "/xen-coreos/foreign", "x"], { ...foreignTls, caFile: clientTls.caFile });
        const plain = hub.exec("curl", ["-sS", "--max-time", "10", `http://${ips[n]}:2379/v2/keys/`], { timeoutMs: 15000 });
        expect([noCert.status !== 0, /certificate required|bad certificate/.test(noCert.stderr)]).toEqual([true, true]);
        expect([foreign.status !== 0, /unknown certificate authority|bad certificate/.test(foreign.stderr)]).toEqual([true, true]);
        expect([plain.status !== 0, plain.stdout]).toEqual([true, ""]);
        probes.push(`${n}: no certificate: ${noCert.stderr.trim().split("\n").pop()}; another CA: ${foreign.stderr.trim().split("\n").pop()}; http: ${plain.stderr.trim()}`);
      }
      // eslint-disable-next-line no-console
      console.log(`etcd (Debian) over TLS, refused probes:\n  ${probes.join("\n  ")}`);
    });

    it("stays available with one of 3 members stopped: writes (v2 API) succeed and are read from the other member", async () => {
      await etcds.coreos3.stop();
      const health = etcdctl("2", [client("coreos1")], ["cluster-health"]);
      expect(health.stdout).toMatch(/cluster is (healthy|degraded)/);
      expect(health.stdout).toMatch(/member \w+ is unreachable/);
      for (let i = 0; i < 5; i++) {
        const w = etcdctl("2", [client("coreos1")], ["set", `/xen-coreos/test/key${i}`, `value${i}`]);
        expect(w.stderr).toBe("");
        expect(w.status).toBe(0);
      }
      const r = etcdctl("2", [client("coreos2")], ["get", "--quorum", "/xen-coreos/test/key4"]);
      expect(r.stdout.trim()).toBe("value4");
      expect(etcdctl("3", [client("coreos1"), client("coreos2")], ["endpoint", "health"]).status).toBe(0);
    });

    it("the stopped member rejoins from its data dir (the spent token is not asked again) and sees the writes", async () => {
      const token = rendered.discoveryUrls.lab.split("/").pop()!;
      const asked = () => discovery.log().split("\n").filter((l) => l.includes(token)).length;
      const before = asked();
      expect(before).toBeGreaterThanOrEqual(3);
      etcds.coreos3 = startMember("coreos3", dataDirs.coreos3);
      await waitForPort(ips.coreos3, 2379, { netns: members.coreos3.name, timeoutMs: 30000 });
      await waitFor(() => etcdctl("2", [client("coreos3")], ["get", "/xen-coreos/test/key4"]).stdout.trim() === "value4", { what: "coreos3 to catch up", timeoutMs: 30000, intervalMs: 200 });
      expect(etcdctl("2", [client("coreos1")], ["cluster-health"]).stdout).toContain("cluster is healthy");
      expect(asked()).toBe(before);
    });
  },
);
