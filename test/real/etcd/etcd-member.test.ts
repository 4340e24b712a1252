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
 */
import * as fs from "fs";
import * as path from "path";
import { stackRawSettings } from "../../fixtures/settings";
import { describeIf, toolchainDir } from "../../support/engine";
import { which } from "../../support/prereq";
import { cleanupAll, Daemon, bridgedNetwork, Netns, startDaemon, tempDir, waitFor, waitForPort } from "../../support/real";
import { dropInEnvironment } from "./dropin-env";
import { ETCD_DATA_DIR, ETCD_IMAGE_TAG, renderEtcdMemberDropIn } from "../../../components/os/flatcar";

/** The version .ci/etcd.sh builds (its ETCD_VERSION); the drop-in's image tag must name it. */
const ETCD_VERSION = "v3.5.17";
const BIN = process.env.XENCOREOS_ETCD_BIN_DIR ?? path.join(toolchainDir(), `etcd-${ETCD_VERSION}`);
const ETCD = path.join(BIN, "etcd");
const ETCDCTL = path.join(BIN, "etcdctl");
/** Variables of the drop-in that etcd-wrapper consumes rather than etcd. */
const WRAPPER_ONLY = new Set(["ETCD_IMAGE_TAG"]);

const missing = [
  fs.existsSync(ETCD) && fs.existsSync(ETCDCTL) ? "" : `etcd ${ETCD_VERSION} at ${BIN} (build it with .ci/etcd.sh)`,
  ...["ip", "curl", "sh"].filter((p) => !which(p)),
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

    const client = (node: string) => `http://${ips[node]}:2379`;
    /** etcdctl in the hub; api 2 uses the flags of the announce scripts' `etcd()` helper. */
    const etcdctl = (api: "2" | "3", endpoints: string[], args: string[]) =>
      hub.exec(ETCDCTL, [api === "2" ? "--endpoint" : "--endpoints", endpoints.join(","), ...args], { env: { ETCDCTL_API: api }, timeoutMs: 15000 });
    const curl = (args: string[], timeoutMs = 15000) => hub.exec("curl", ["-sS", "--max-time", String(Math.ceil(timeoutMs / 1000)), ...args], { timeoutMs: timeoutMs + 5000 });
    const startMember = (node: string): Daemon => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(envs[node])) if (!WRAPPER_ONLY.has(k)) env[k] = v;
      return startDaemon({
        name: `etcd-${node}`,
        command: ETCD,
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
      for (const node of nodes) {
        dataDirs[node] = path.join(dir, node, "data");
        fs.mkdirSync(path.dirname(dataDirs[node]), { recursive: true });
      }
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
          peerURLs: [`http://${ips[n]}:2380`],
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

    it("the announce scripts' `etcd()` helper needs ETCDCTL_API=2 with etcdctl 3.5 (its default is v3)", () => {
      // common.ts ETCD_SH: etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" "$@"; }
      const helper = 'etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" "$@"; }; etcd set /xen-coreos/test/helper ok && etcd get /xen-coreos/test/helper';
      const base = { ETCDCTL: ETCDCTL, ETCD_ENDPOINT: client(nodes[0]) };
      const v2 = hub.exec("sh", ["-c", helper], { env: { ...base, ETCDCTL_API: "2" }, timeoutMs: 15000 });
      expect(v2.stderr).toBe("");
      expect(v2.stdout.trim()).toBe("ok\nok");
      const unset = hub.exec("sh", ["-c", helper], { env: { ...base, ETCDCTL_API: undefined }, timeoutMs: 15000 });
      expect(unset.status).not.toBe(0);
      expect(unset.stderr).toMatch(/unknown command "set"/);
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
