/**
 * Growing a running etcd cluster with the program's membership scripts and real etcd
 * (Debian etcd-server, v2 API enabled as for CoreOS's etcd2): a member is added, the new
 * node starts with initial-cluster-state=existing and joins; removal takes it out.
 * Members listen on their own loopback addresses 127.0.2.x, over TLS with client and peer
 * certificates required, as the nodes run it; each has its own certificate of one test CA
 * (components/pki/x509.ts), and the scripts present coreos1's, as on that node.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderEtcdMemberAddScript, renderEtcdMemberRemoveScript } from "../../components/etcd/etcd-scripts";
import { describeWith, shellcheck } from "../support/prereq";
import { memberTls, testCa, writeTls } from "../support/etcd-tls";
import { EtcdTlsPaths } from "../../components/etcd/etcd-tls";
import { KeyPairPem } from "../../components/pki/x509";

const members: Record<string, ChildProcess> = {};
let dir: string;
let ca: KeyPairPem;
const tls: Record<number, EtcdTlsPaths> = {};
const ip = (n: number) => `127.0.2.${n}`;
const endpoint = `https://${ip(1)}:2379`;

function tlsOf(n: number): EtcdTlsPaths {
  if (!tls[n]) tls[n] = writeTls(path.join(dir, `tls-${n}`), memberTls(ca, `coreos${n}`, ip(n)));
  return tls[n];
}

function startEtcd(name: string, n: number, initialCluster: string, state: "new" | "existing"): void {
  const t = tlsOf(n);
  const env = {
    ...process.env,
    ETCD_NAME: name,
    ETCD_DATA_DIR: path.join(dir, name),
    ETCD_LISTEN_CLIENT_URLS: `https://${ip(n)}:2379`,
    ETCD_ADVERTISE_CLIENT_URLS: `https://${ip(n)}:2379`,
    ETCD_LISTEN_PEER_URLS: `https://${ip(n)}:2380`,
    ETCD_INITIAL_ADVERTISE_PEER_URLS: `https://${ip(n)}:2380`,
    ETCD_INITIAL_CLUSTER: initialCluster,
    ETCD_INITIAL_CLUSTER_STATE: state,
    ETCD_ENABLE_V2: "true",
    ETCD_CERT_FILE: t.certFile,
    ETCD_KEY_FILE: t.keyFile,
    ETCD_TRUSTED_CA_FILE: t.caFile,
    ETCD_CLIENT_CERT_AUTH: "true",
    ETCD_PEER_CERT_FILE: t.certFile,
    ETCD_PEER_KEY_FILE: t.keyFile,
    ETCD_PEER_TRUSTED_CA_FILE: t.caFile,
    ETCD_PEER_CLIENT_CERT_AUTH: "true",
  };
  const child = spawn("etcd", [], { env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  child.stderr!.on("data", () => undefined);
  members[name] = child;
}

function stopAll(): void {
  for (const child of Object.values(members)) {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
}

function memberList(): string {
  const t = tlsOf(1);
  return spawnSync("etcdctl", ["--endpoint", endpoint, "--ca-file", t.caFile, "--cert-file", t.certFile, "--key-file", t.keyFile, "member", "list"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "2" } }).stdout;
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs a script in the background; resolves with its exit status and stderr. */
function runScript(script: string, env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", script], { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describeWith(["etcd", "etcdctl"], "real etcd membership changes")("etcd membership with real etcd", () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-member-"));
    ca = testCa("membership");
    startEtcd("coreos1", 1, `coreos1=https://${ip(1)}:2380`, "new");
    await waitFor(() => memberList().includes("name=coreos1"), 20000);
  }, 30000);
  afterAll(() => {
    stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("adds a member, which joins with initial-cluster-state=existing; then a second one, one at a time", async () => {
    for (const [name, n] of [["coreos2", 2], ["coreos3", 3]] as const) {
      const started = Date.now();
      const add = runScript(renderEtcdMemberAddScript({ name, peerUrl: `https://${ip(n)}:2380`, endpoint, timeoutSeconds: 60, tls: tlsOf(1) }));
      // The node boots later than the add: it finds itself in the member list and joins.
      await waitFor(() => memberList().includes(`peerURLs=https://${ip(n)}:2380`), 45000);
      expect(memberList()).toMatch(new RegExp(`\\[unstarted\\]: peerURLs=https://${ip(n).replace(/\./g, "\\.")}:2380`));
      const initial = Array.from({ length: n }, (_, i) => `coreos${i + 1}=https://${ip(i + 1)}:2380`).join(",");
      startEtcd(name, n, initial, "existing");
      const result = await add;
      expect(result.stderr).toContain(`etcd member ${name}: started`);
      expect(result.status).toBe(0);
      console.log(`${name} joined in ${Date.now() - started} ms`);
    }
    const list = memberList();
    expect(list.match(/name=coreos\d/g)!.sort()).toEqual(["name=coreos1", "name=coreos2", "name=coreos3"]);
    expect(list).not.toContain("unstarted");
  }, 120000);

  it("re-running the add for a started member changes nothing", async () => {
    const before = memberList();
    const result = await runScript(renderEtcdMemberAddScript({ name: "coreos3", peerUrl: `https://${ip(3)}:2380`, endpoint, timeoutSeconds: 10, tls: tlsOf(1) }));
    expect(result.status).toBe(0);
    expect(memberList()).toBe(before);
  }, 30000);

  it("removes a member before its node goes; removing again is success", async () => {
    const spec = { name: "coreos3", peerUrl: `https://${ip(3)}:2380`, endpoint, tls: tlsOf(1) };
    const removed = await runScript(renderEtcdMemberRemoveScript(spec));
    expect(removed).toMatchObject({ status: 0 });
    const refusals = removed.stderr.split("\n").filter((l) => l.includes("retrying"));
    console.log(`coreos3 removed after ${refusals.length} refusal(s) by etcd${refusals.length ? `; first: ${refusals[0]}` : ""}`);
    expect(removed.stderr).toMatch(/etcd member coreos3: removed \([0-9a-f]+\)/);
    expect(memberList()).not.toContain("name=coreos3");
    const again = await runScript(renderEtcdMemberRemoveScript(spec));
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("already gone");
  }, 150000);

  /**
   * etcd refuses a removal ("unhealthy cluster") while a peer has been connected for less
   * than 5 s. An etcdctl in front of the real one refuses the first `refusals` removals
   * the way etcd words it; everything else reaches real etcd.
   */
  function refusingEtcdctl(refusals: number): NodeJS.ProcessEnv {
    const wrapDir = fs.mkdtempSync(path.join(dir, "refusing-"));
    const real = spawnSync("sh", ["-c", "command -v etcdctl"], { encoding: "utf8" }).stdout.trim();
    const counter = path.join(wrapDir, "count");
    fs.writeFileSync(counter, "0");
    fs.writeFileSync(
      path.join(wrapDir, "etcdctl"),
      [
        "#!/bin/sh",
        'case " $* " in',
        '  *" member remove "*)',
        `    n=$(cat '${counter}'); echo $((n + 1)) >'${counter}'`,
        `    if [ "$n" -lt ${refusals} ]; then echo "client: etcd cluster is unavailable or misconfigured; error #0: etcdserver: unhealthy cluster" >&2; exit 1; fi ;;`,
        "esac",
        `exec '${real}' "$@"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { ...process.env, PATH: `${wrapDir}:${process.env.PATH}` };
  }

  it("retries a removal that etcd refuses as unhealthy, then removes", async () => {
    const spec = { name: "coreos2", peerUrl: `https://${ip(2)}:2380`, endpoint, tls: tlsOf(1) };
    const removed = await runScript(renderEtcdMemberRemoveScript(spec), refusingEtcdctl(2));
    expect(removed).toMatchObject({ status: 0 });
    // Two refusals from the wrapper; real etcd may add its own while the cluster settles.
    expect(removed.stderr.match(/not removed yet, retrying: etcdctl member remove [0-9a-f]+: .*unhealthy cluster/g)!.length).toBeGreaterThanOrEqual(2);
    expect(removed.stderr).toContain("etcd member coreos2: removed");
    expect(memberList()).not.toContain("name=coreos2");
    expect(memberList()).toContain("name=coreos1");
  }, 150000);

  it("an unreachable etcd is not an empty member list: no \"already gone\", it fails and the VM is kept", async () => {
    const spec = { name: "coreos1", peerUrl: `https://${ip(1)}:2380`, endpoint: `https://${ip(9)}:2379`, timeoutSeconds: 0, tls: tlsOf(1) };
    const removed = await runScript(renderEtcdMemberRemoveScript(spec));
    expect(removed.status).not.toBe(0);
    expect(removed.stderr).not.toContain("already gone");
    expect(removed.stderr).toMatch(/etcd member coreos1: not removed after 0s: etcdctl member list via https:\/\/127\.0\.2\.9:2379: .*connection refused/);
    expect(removed.stderr).toContain("the VM is kept");
    expect(memberList()).toContain("name=coreos1");
  }, 30000);

  it("gives up at the deadline with etcd's reason and the check to run; the member stays", async () => {
    const spec = { name: "coreos1", peerUrl: `https://${ip(1)}:2380`, endpoint, timeoutSeconds: 0, tls: tlsOf(1) };
    const removed = await runScript(renderEtcdMemberRemoveScript(spec), refusingEtcdctl(1000));
    expect(removed.status).not.toBe(0);
    expect(removed.stderr).toMatch(/etcd member coreos1: not removed after 0s: etcdctl member remove [0-9a-f]+: .*unhealthy cluster \(check: etcdctl cluster-health; the VM is kept\)/);
    expect(memberList()).toContain("name=coreos1");
  }, 30000);
});

describeWith(["shellcheck"], "lint of generated shell")("shellcheck on the etcd membership scripts", () => {
  it("both are clean", () => {
    const spec = { name: "coreos4", peerUrl: "https://10.50.0.104:2380", endpoint: "https://127.0.0.1:2379" };
    expect(shellcheck(renderEtcdMemberAddScript({ ...spec, timeoutSeconds: 60 }))).toBe("");
    expect(shellcheck(renderEtcdMemberRemoveScript(spec))).toBe("");
  });
});

describe("the etcd membership scripts speak TLS only", () => {
  it("refuse an http endpoint or peer URL (etcd serves none) and pass the node's certificate, through sudo unless root", () => {
    expect(() => renderEtcdMemberAddScript({ name: "coreos4", peerUrl: "https://10.50.0.104:2380", endpoint: "http://127.0.0.1:2379", timeoutSeconds: 1 })).toThrow(/must be https/);
    expect(() => renderEtcdMemberRemoveScript({ name: "coreos4", peerUrl: "http://10.50.0.104:2380", endpoint: "https://127.0.0.1:2379" })).toThrow(/must be https/);
    const script = renderEtcdMemberAddScript({ name: "coreos4", peerUrl: "https://10.50.0.104:2380", endpoint: "https://127.0.0.1:2379", timeoutSeconds: 1 });
    expect(script).toContain("ca_file=/etc/xen-coreos/tls/ca.pem\ncert_file=/etc/xen-coreos/tls/etcd.pem\nkey_file=/etc/xen-coreos/tls/etcd-key.pem\n");
    expect(script).toContain('$as_root env ETCDCTL_API=2 etcdctl --endpoint "$endpoint" --ca-file "$ca_file" --cert-file "$cert_file" --key-file "$key_file" "$@"');
    expect(script).not.toMatch(/PRIVATE KEY/);
  });
});
