/**
 * The flatcar profile's etcd, proven with the real etcd 3.5 (built by .ci/etcd.sh from the
 * Go module proxy): three members started from the rendered `etcd-member.service` drop-ins,
 * static bootstrap (no discovery), in network namespaces carrying the production example's
 * node addresses.
 *
 * Topology (nothing of 10.60.0.0/24 exists in the root namespace):
 *
 *   namespace xr<pid>-e-hub:  br0 = the stack's gateway (10.60.0.1/24), no route out;
 *       every etcdctl and curl of the test runs here
 *   namespaces xr<pid>-e-<node>:  eth0 = veth into br0, the node's declared address,
 *       default route via the gateway; etcd with the drop-in's environment
 *
 * What etcd gets: every `Environment=` assignment of the drop-in's [Service] section, as
 * systemd would set it (dropin-env.ts), except
 *   - ETCD_IMAGE_TAG, read by Flatcar's etcd-wrapper (it picks the container image) and
 *     not by etcd: the test runs the etcd the tag names (asserted below), not a container;
 *   - ETCD_DATA_DIR, moved to a temp dir (the rendered value, on the node's disk, is
 *     asserted).
 * etcd 3.5 warns "unrecognized environment variable" for an ETCD_ name it does not know
 * (and starts anyway; seen for ETCD_IMAGE_TAG when it is passed); the test fails on that
 * warning, so a misspelt variable cannot pass silently.
 *
 * TLS as on the node: each member has its own certificate of one CA (components/pki/x509.ts,
 * as the deployment's PKI issues it: its address and 127.0.0.1, server and client), in a
 * directory that stands for the node's ETCD_SSL_DIR; etcd-wrapper bind-mounts that directory
 * at /etc/ssl/certs in etcd's container (`-v ${ETCD_SSL_DIR}:/etc/ssl/certs:ro`,
 * flatcar/scripts app-admin/etcd-wrapper/files/etcd-wrapper), and the test does the same
 * bind mount in the member's own mount namespace (`ip netns exec` makes one), so etcd reads
 * the drop-in's paths unchanged. ETCD_SSL_DIR itself is the wrapper's, not etcd's.
 * Clients (etcdctl, curl) run in the hub with coreos-style client material: the first
 * member's files, as the node's own etcdctl uses them through /etc/environment.
 */
import * as fs from "fs";
import * as path from "path";
import { stackRawSettings } from "../../fixtures/settings";
import { describeIf, toolchainDir } from "../../support/engine";
import { which } from "../../support/prereq";
import { cleanupAll, Daemon, bridgedNetwork, Netns, startDaemon, tempDir, waitFor, waitForPort } from "../../support/real";
import { dropInEnvironment } from "./dropin-env";
import { ETCD_CONTAINER_SSL_DIR, ETCD_DATA_DIR, ETCD_IMAGE_TAG, renderEtcdMemberDropIn } from "../../../components/os/flatcar";
import { ETCD_TLS_DIR, EtcdTlsPaths, etcdctlEnvironment } from "../../../components/etcd/etcd-tls";
import { ETCD_SH } from "../../../components/services/scripts/common";
import { KeyPairPem } from "../../../components/pki/x509";
import { memberTls, relocate, testCa, writeTls } from "../../support/etcd-tls";

/** The version .ci/etcd.sh builds (its ETCD_VERSION); the drop-in's image tag must name it. */
const ETCD_VERSION = "v3.5.17";
const BIN = process.env.XENCOREOS_ETCD_BIN_DIR ?? path.join(toolchainDir(), `etcd-${ETCD_VERSION}`);
const ETCD = path.join(BIN, "etcd");
const ETCDCTL = path.join(BIN, "etcdctl");
/** Variables of the drop-in that etcd-wrapper consumes rather than etcd. */
const WRAPPER_ONLY = new Set(["ETCD_IMAGE_TAG", "ETCD_SSL_DIR"]);

const missing = [
  fs.existsSync(ETCD) && fs.existsSync(ETCDCTL) ? "" : `etcd ${ETCD_VERSION} at ${BIN} (build it with .ci/etcd.sh)`,
  ...["ip", "curl", "sh", "mount", "ss"].filter((p) => !which(p)),
].filter(Boolean);

/** The production example's first cluster of exactly 3 nodes, and its network. */
function productionCluster(): { name: string; nodes: Array<{ name: string; ip: string }>; gateway: string; prefixLength: number } {
  const raw = stackRawSettings("production") as any;
  const cluster = (raw.clusters as any[]).find((c) => c.nodes.length === 3);
  if (!cluster) throw new Error("Pulumi.production.yaml has no cluster of 3 nodes");
  return {
    name: cluster.name,
    nodes: cluster.nodes.map((n: any) => ({ name: n.name, ip: n.ip })),
    gateway: raw.network.gateway,
    prefixLength: Number(String(raw.network.cidr).split("/")[1]),
  };
}

describeIf(missing.length ? `needs ${missing.join(", ")}` : undefined)(
  "flatcar etcd-member: real etcd 3.5 members from the rendered drop-ins (static bootstrap)",
  () => {
    const prod = productionCluster();
    const nodes = prod.nodes.map((n) => n.name);
    const ips = Object.fromEntries(prod.nodes.map((n) => [n.name, n.ip]));
    const token = `production-${prod.name}`;
    const dropIns: Record<string, string> = {};
    const envs: Record<string, Record<string, string>> = {};
    const etcds: Record<string, Daemon> = {};
    const dataDirs: Record<string, string> = {};
    let hub: Netns;
    let members: Record<string, Netns>;
    let formedMs = 0;
    /** Each node's TLS directory (its ETCD_SSL_DIR), and a CA that is not the deployment's. */
    const sslDirs: Record<string, string> = {};
    let clientTls: EtcdTlsPaths;
    let foreignTls: EtcdTlsPaths;
    let ca: KeyPairPem;

    const client = (node: string) => `https://${ips[node]}:2379`;
    /** etcdctl in the hub with a client certificate of the CA (v2 flags as the scripts' `etcd()` helper, v3 its own). */
    const etcdctl = (api: "2" | "3", endpoints: string[], args: string[], tls: EtcdTlsPaths | null = clientTls) => {
      const tlsArgs = !tls ? [] : api === "2" ? ["--ca-file", tls.caFile, "--cert-file", tls.certFile, "--key-file", tls.keyFile] : ["--cacert", tls.caFile, "--cert", tls.certFile, "--key", tls.keyFile];
      return hub.exec(ETCDCTL, [api === "2" ? "--endpoint" : "--endpoints", endpoints.join(","), ...tlsArgs, ...args], { env: { ETCDCTL_API: api }, timeoutMs: 15000 });
    };
    const curl = (args: string[], timeoutMs = 15000, tls: EtcdTlsPaths | null = clientTls) =>
      hub.exec("curl", ["-sS", "--max-time", String(Math.ceil(timeoutMs / 1000)), ...(tls ? ["--cacert", tls.caFile, "--cert", tls.certFile, "--key", tls.keyFile] : []), ...args], { timeoutMs: timeoutMs + 5000 });
    const startMember = (node: string): Daemon => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(envs[node])) if (!WRAPPER_ONLY.has(k)) env[k] = v;
      return startDaemon({
        name: `etcd-${node}`,
        // etcd-wrapper's `-v ${ETCD_SSL_DIR}:/etc/ssl/certs:ro`, in the member's mount namespace.
        command: "sh",
        args: ["-c", 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && exec "$3"', "sh", sslDirs[node], ETCD_CONTAINER_SSL_DIR, ETCD],
        netns: members[node].name,
        // Only the drop-in's variables: none of the test runner's ETCD_/ETCDCTL_ settings leak in.
        env: { ...Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith("ETCD")).map((k) => [k, undefined])), ...env, ETCD_DATA_DIR: dataDirs[node] },
        logFile: path.join(path.dirname(dataDirs[node]), `${node}.log`),
      });
    };
    const logs = () => nodes.map((n) => `--- ${n}\n${etcds[n]?.log().slice(-3000) ?? ""}`).join("\n");

    beforeAll(async () => {
      for (const n of prod.nodes) {
        dropIns[n.name] = renderEtcdMemberDropIn({ name: n.name, ip: n.ip, initialCluster: prod.nodes, clusterState: "new", token });
        envs[n.name] = dropInEnvironment(dropIns[n.name]);
      }
      ({ hub, members } = bridgedNetwork({
        label: "e",
        gateway: prod.gateway,
        prefixLength: prod.prefixLength,
        members: prod.nodes.map((n) => ({ label: n.name, ip: n.ip })),
      }));
      const dir = tempDir("etcd35");
      ca = testCa("flatcar");
      for (const node of nodes) {
        dataDirs[node] = path.join(dir, node, "data");
        fs.mkdirSync(path.dirname(dataDirs[node]), { recursive: true });
        sslDirs[node] = path.join(dir, node, "tls");
        writeTls(sslDirs[node], memberTls(ca, node, ips[node]));
      }
      clientTls = writeTls(path.join(dir, "client"), memberTls(ca, nodes[0], ips[nodes[0]]));
      // The same kind of certificate, from a CA of another deployment.
      foreignTls = writeTls(path.join(dir, "foreign"), memberTls(testCa("another deployment"), nodes[0], ips[nodes[0]]));
      const start = Date.now();
      for (const node of nodes) etcds[node] = startMember(node);
      await waitFor(() => etcdctl("3", nodes.map(client), ["endpoint", "health"]).status === 0, {
        what: "all 3 members healthy",
        timeoutMs: 60000,
        intervalMs: 100,
      }).catch((e) => {
        throw new Error(`${e.message}\n${logs()}`);
      });
      formedMs = Date.now() - start;
      // eslint-disable-next-line no-console
      console.log(`etcd ${ETCD_VERSION}: 3 members formed from the static list in ${formedMs} ms (all started → all 3 endpoints healthy)`);
    }, 120000);

    afterAll(async () => {
      await cleanupAll();
    }, 60000);

    it("runs the etcd the drop-in's image tag names, with the drop-in's data dir on the node's disk", () => {
      expect(hub.execOk(ETCD, ["--version"])).toContain(`etcd Version: ${ETCD_VERSION.slice(1)}`);
      for (const node of nodes) {
        expect(envs[node].ETCD_IMAGE_TAG).toBe(ETCD_VERSION);
        expect(envs[node].ETCD_DATA_DIR).toBe(ETCD_DATA_DIR);
      }
      expect(ETCD_IMAGE_TAG).toBe(ETCD_VERSION);
    });

    it("every variable given to etcd is one etcd knows, and the v2 API is on", () => {
      for (const node of nodes) {
        const log = etcds[node].log();
        // etcd 3.5 pkg/flags/flag.go: an ETCD_ name that is no flag is only warned about.
        expect(log).not.toMatch(/unrecognized environment variable/);
        // embed/etcd.go logs this only when EnableV2 is set, when it mounts the v2 handler.
        expect(log).toContain("Flag `enable-v2` is deprecated");
        for (const k of Object.keys(envs[node])) expect(k.startsWith("ETCD_")).toBe(true);
      }
    });

    it("forms one cluster of 3 from the static list, with each node's declared URLs", () => {
      const list = JSON.parse(etcdctl("3", [client(nodes[2])], ["member", "list", "-w", "json"]).stdout).members;
      const view = list
        .map((m: any) => ({ name: m.name, peerURLs: m.peerURLs, clientURLs: [...m.clientURLs].sort() }))
        .sort((a: any, b: any) => a.name.localeCompare(b.name));
      expect(view).toEqual(
        [...nodes].sort().map((n) => ({
          name: n,
          peerURLs: [`https://${ips[n]}:2380`],
          clientURLs: envs[n].ETCD_ADVERTISE_CLIENT_URLS.split(",").sort(),
        })),
      );
      for (const node of nodes) expect(members[node].execOk("ip", ["-4", "-o", "addr", "show", "dev", "eth0"])).toContain(`inet ${ips[node]}/${prod.prefixLength}`);
      // No discovery: the members were told the whole cluster and its token.
      for (const node of nodes) {
        expect(envs[node].ETCD_DISCOVERY).toBeUndefined();
        expect(envs[node].ETCD_INITIAL_CLUSTER_TOKEN).toBe(token);
      }
      expect(formedMs).toBeGreaterThan(0);
    });

    it("serves the v2 API on every advertised client URL (fleet speaks only v2)", () => {
      for (const node of nodes) {
        for (const url of envs[node].ETCD_ADVERTISE_CLIENT_URLS.split(",")) {
          const r = curl(["-f", `${url}/v2/keys/`]);
          expect(r.stderr).toBe("");
          expect(JSON.parse(r.stdout).node.dir).toBe(true);
        }
      }
      expect(etcdctl("2", [client(nodes[0])], ["cluster-health"]).stdout).toContain("cluster is healthy");
    });

    it("v2 TTL keys (the announce scripts' `etcdctl set --ttl`) are served, then expire, and a watcher sees the expiry", () => {
      const key = "/xen-coreos/test/announce/web@1";
      const set = etcdctl("2", [client(nodes[0])], ["set", "--ttl", "3", key, "10.60.0.21:8080"]);
      expect(set.stderr).toBe("");
      expect(etcdctl("2", [client(nodes[1])], ["get", key]).stdout.trim()).toBe("10.60.0.21:8080");
      const node = JSON.parse(curl(["-f", `${client(nodes[2])}/v2/keys${key}`]).stdout).node;
      expect(node.ttl).toBeGreaterThan(0);
      expect(node.ttl).toBeLessThanOrEqual(3);
      // A v2 watch (fleet's and the sidekicks' way to see a change) from the next index.
      const started = Date.now();
      const watch = curl(["-f", `${client(nodes[1])}/v2/keys${key}?wait=true&waitIndex=${node.modifiedIndex + 1}`], 20000);
      expect(watch.stderr).toBe("");
      const event = JSON.parse(watch.stdout);
      expect(event.action).toBe("expire");
      expect(event.node.key).toBe(key);
      expect(Date.now() - started).toBeLessThan(15000);
      const gone = etcdctl("2", [client(nodes[0])], ["get", key]);
      expect(gone.status).not.toBe(0);
      expect(gone.stderr).toMatch(/Key not found/);
    }, 40000);

    it("v2 directories: create, fill, list (etcdctl mkdir/ls, and the HTTP listing fleet reads)", () => {
      const dir = "/xen-coreos/test/services/web";
      expect(etcdctl("2", [client(nodes[0])], ["mkdir", dir]).status).toBe(0);
      for (let i = 1; i <= 3; i++) expect(etcdctl("2", [client(nodes[i % 3])], ["set", `${dir}/web@${i}`, `10.60.0.2${i}:808${i}`]).status).toBe(0);
      expect(etcdctl("2", [client(nodes[2])], ["mkdir", `${dir}/sub`]).status).toBe(0);
      const ls = etcdctl("2", [client(nodes[1])], ["ls", dir]).stdout.trim().split("\n").sort();
      expect(ls).toEqual([`${dir}/sub`, `${dir}/web@1`, `${dir}/web@2`, `${dir}/web@3`]);
      const listing = JSON.parse(curl(["-f", `${client(nodes[2])}/v2/keys${dir}?recursive=true&sorted=true`]).stdout).node;
      expect(listing.dir).toBe(true);
      expect(listing.nodes.map((n: any) => [n.key, n.dir === true])).toEqual([
        [`${dir}/sub`, true],
        [`${dir}/web@1`, false],
        [`${dir}/web@2`, false],
        [`${dir}/web@3`, false],
      ]);
      // `mk` (the galera bootstrap lock) refuses a key that exists.
      expect(etcdctl("2", [client(nodes[0])], ["mk", "--ttl", "30", `${dir}/lock`, "a"]).status).toBe(0);
      const again = etcdctl("2", [client(nodes[1])], ["mk", "--ttl", "30", `${dir}/lock`, "b"]);
      expect(again.status).not.toBe(0);
      expect(again.stderr).toMatch(/Key already exists/);
    });

    it("the announce scripts' `etcd()` helper needs ETCDCTL_API=2 with etcdctl 3.5 (its default is v3), and passes the node's certificate", () => {
      const helper = `${ETCD_SH}etcd set /xen-coreos/test/helper ok && etcd get /xen-coreos/test/helper`;
      const base = { ETCDCTL: ETCDCTL, ETCD_ENDPOINT: client(nodes[0]), ETCD_CA_FILE: clientTls.caFile, ETCD_CERT_FILE: clientTls.certFile, ETCD_KEY_FILE: clientTls.keyFile };
      const v2 = hub.exec("sh", ["-c", helper], { env: { ...base, ETCDCTL_API: "2" }, timeoutMs: 15000 });
      expect(v2.stderr).toBe("");
      expect(v2.stdout.trim()).toBe("ok\nok");
      const unset = hub.exec("sh", ["-c", helper], { env: { ...base, ETCDCTL_API: undefined }, timeoutMs: 15000 });
      expect(unset.status).not.toBe(0);
      expect(unset.stderr).toMatch(/unknown command "set"/);
    });

    it("listens on the node's address and loopback only (no 0.0.0.0), https only", () => {
      for (const node of nodes) {
        const listening = members[node].execOk("ss", ["-Hltn"]).split("\n").map((l) => l.trim().split(/\s+/)[3]).filter((a) => a && /:(2379|2380|4001|7001)$/.test(a)).sort();
        expect(listening).toEqual([`${ips[node]}:2379`, `${ips[node]}:2380`, "127.0.0.1:2379"].sort());
        for (const k of ["ETCD_LISTEN_CLIENT_URLS", "ETCD_ADVERTISE_CLIENT_URLS", "ETCD_LISTEN_PEER_URLS", "ETCD_INITIAL_ADVERTISE_PEER_URLS", "ETCD_INITIAL_CLUSTER"]) expect(envs[node][k]).not.toMatch(/http:\/\//);
        expect(envs[node].ETCD_SSL_DIR).toBe(ETCD_TLS_DIR);
      }
    });

    it("etcdctl with the node's /etc/environment (its TLS variables, no flags) reads and writes", () => {
      // The lines the renderer writes into /etc/environment, with the node's TLS dir at the test's copy.
      const lines = etcdctlEnvironment(client(nodes[1]));
      const env = relocate(Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])), ETCD_TLS_DIR, path.dirname(clientTls.caFile));
      const set = hub.exec(ETCDCTL, ["set", "/xen-coreos/test/env", "from-env"], { env: { ...env, ETCDCTL_API: "2" }, timeoutMs: 15000 });
      expect(set.stderr).toBe("");
      expect(hub.exec(ETCDCTL, ["get", "/xen-coreos/test/env"], { env: { ...env, ETCDCTL_API: "2" }, timeoutMs: 15000 }).stdout.trim()).toBe("from-env");
      // The v3 variables of the same file serve `ETCDCTL_API=3 etcdctl --endpoints …`.
      const v3 = hub.exec(ETCDCTL, ["--endpoints", client(nodes[2]), "get", "--print-value-only", "/nothing"], { env: { ETCDCTL_CACERT: env.ETCDCTL_CACERT, ETCDCTL_CERT: env.ETCDCTL_CERT, ETCDCTL_KEY: env.ETCDCTL_KEY, ETCDCTL_API: "3" }, timeoutMs: 15000 });
      expect(v3.status).toBe(0);
    });

    it("refuses a client without a certificate, one with a certificate of another CA, and plain http, on every member", () => {
      const probes: string[] = [];
      for (const node of nodes) {
        // The key read exists, so only the missing certificate can refuse the read.
        expect(etcdctl("2", [client(node)], ["set", "/xen-coreos/test/probe", "exists"]).status).toBe(0);
        // It trusts the CA (so only the server can refuse) but presents no certificate.
        const noCert = hub.exec(ETCDCTL, ["--endpoint", client(node), "--ca-file", clientTls.caFile, "get", "/xen-coreos/test/probe"], { env: { ETCDCTL_API: "2" }, timeoutMs: 15000 });
        expect(noCert.stderr).toMatch(/tls: certificate required/);
        const anonCurl = hub.exec("curl", ["-sSf", "--max-time", "10", "--cacert", clientTls.caFile, `${client(node)}/v2/keys/`], { timeoutMs: 15000 });
        const foreignCtl = etcdctl("2", [client(node)], ["set", "/xen-coreos/test/foreign", "x"], { ...foreignTls, caFile: clientTls.caFile });
        expect(foreignCtl.stderr).toMatch(/tls: unknown certificate authority/);
        const plain = hub.exec("curl", ["-sS", "--max-time", "10", `http://${ips[node]}:2379/v2/keys/`], { timeoutMs: 15000 });
        const peerNoCert = hub.exec("curl", ["-sS", "--max-time", "10", "--cacert", clientTls.caFile, `https://${ips[node]}:2380/members`], { timeoutMs: 15000 });
        const peerForeign = hub.exec("curl", ["-sS", "--max-time", "10", "--cacert", clientTls.caFile, "--cert", foreignTls.certFile, "--key", foreignTls.keyFile, `https://${ips[node]}:2380/members`], { timeoutMs: 15000 });
        for (const [what, r] of [["etcdctl without a certificate", noCert], ["curl without a certificate", anonCurl], ["etcdctl with another CA's certificate", foreignCtl], ["peer port without a certificate", peerNoCert], ["peer port with another CA's certificate", peerForeign]] as const) {
          expect({ node, what, refused: r.status !== 0, out: r.status !== 0 ? "" : `${r.stdout}${r.stderr}`.slice(0, 300) }).toEqual({ node, what, refused: true, out: "" });
          probes.push(`${node} ${what}: refused (${(r.stderr.trim().split("\n").pop() ?? "").slice(0, 90)})`);
        }
        // etcd's listener is TLS: a plain HTTP request gets no answer at all (curl: empty reply).
        expect({ node, what: "plain http", refused: plain.status !== 0, out: plain.stdout }).toEqual({ node, what: "plain http", refused: true, out: "" });
        probes.push(`${node} plain http: refused (${plain.stderr.trim().slice(0, 90)})`);
      }
      expect(etcdctl("2", [client(nodes[0])], ["get", "/xen-coreos/test/foreign"]).stderr).toMatch(/Key not found/);
      // eslint-disable-next-line no-console
      console.log(`etcd ${ETCD_VERSION} over TLS, refused probes:\n  ${probes.join("\n  ")}`);
    });

    it("stays writable (v2 and v3) with its leader killed, and the member rejoins from its data dir", async () => {
      // The worst single failure: the leader goes (SIGKILL), the other two elect a new one.
      const status = JSON.parse(etcdctl("3", nodes.map(client), ["endpoint", "status", "-w", "json"]).stdout);
      const leaderId = status[0].Status.leader;
      const leaderEndpoint = status.find((s: any) => s.Status.header.member_id === leaderId).Endpoint;
      const down = nodes.find((n) => client(n) === leaderEndpoint)!;
      expect(down).toBeDefined();
      const up = nodes.filter((n) => n !== down);
      await etcds[down].kill();
      // Until the two elect a leader (about one election timeout), health reports unavailable.
      const electedMs = await waitFor(() => /cluster is (healthy|degraded)/.test(etcdctl("2", [client(up[0])], ["cluster-health"]).stdout), {
        what: "the two members left to elect a leader",
        timeoutMs: 20000,
        intervalMs: 100,
      });
      // eslint-disable-next-line no-console
      console.log(`leader ${down} killed: the other two serve again after ${electedMs} ms`);
      expect(etcdctl("2", [client(up[0])], ["cluster-health"]).stdout).toMatch(new RegExp(`member \\w+ is unreachable`));
      for (let i = 0; i < 5; i++) {
        const w2 = etcdctl("2", [client(up[i % 2])], ["set", `/xen-coreos/test/down/v2-${i}`, `v${i}`]);
        expect(w2.stderr).toBe("");
        expect(w2.status).toBe(0);
        const w3 = etcdctl("3", [client(up[(i + 1) % 2])], ["put", `/xen-coreos/test/down/v3-${i}`, `v${i}`]);
        expect(w3.stderr).toBe("");
        expect(w3.stdout.trim()).toBe("OK");
      }
      expect(etcdctl("2", [client(up[1])], ["get", "--quorum", "/xen-coreos/test/down/v2-4"]).stdout.trim()).toBe("v4");
      expect(etcdctl("3", [client(up[0])], ["get", "--print-value-only", "/xen-coreos/test/down/v3-4"]).stdout.trim()).toBe("v4");
      expect(etcdctl("3", up.map(client), ["endpoint", "health"]).status).toBe(0);

      etcds[down] = startMember(down);
      await waitForPort(ips[down], 2379, { netns: members[down].name, timeoutMs: 30000 });
      await waitFor(
        () =>
          etcdctl("2", [client(down)], ["get", "/xen-coreos/test/down/v2-4"]).stdout.trim() === "v4" &&
          etcdctl("3", [client(down)], ["get", "--print-value-only", "/xen-coreos/test/down/v3-4"]).stdout.trim() === "v4",
        { what: `${down} to catch up`, timeoutMs: 30000, intervalMs: 200 },
      ).catch((e) => {
        throw new Error(`${e.message}\n${logs()}`);
      });
      await waitFor(() => etcdctl("2", [client(up[0])], ["cluster-health"]).stdout.includes("cluster is healthy"), { what: "cluster healthy again", timeoutMs: 20000 });
    }, 90000);
  },
);
