/**
 * The flatcar profile's cloud-config: what it installs with, that it no longer relies on the
 * `coreos.etcd2`/`coreos.fleet` sections (Flatcar ships neither unit they configure), its
 * units under `systemd-analyze verify`, and the fleet fetch script run for real against a
 * right and a wrong tarball (file:// and a loopback http server).
 */
import { execFile, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import * as yaml from "js-yaml";
import { CloudConfigInput, renderCloudConfig } from "../../components/coreos/cloud-config-render";
import { FLEET_BIN_DIR, FLEET_FETCH_SCRIPT, fleetFetchScript } from "../../components/os/flatcar";
import { describeWith, shellcheck } from "../support/prereq";
import { systemdVerify, tempDir } from "../services/support";
import { fixedTestTls } from "../fixtures/tls";

const SHA = "a".repeat(64);
const members = [
  { name: "web1", ip: "10.60.0.11" },
  { name: "web2", ip: "10.60.0.12" },
  { name: "web3", ip: "10.60.0.13" },
];

function node(overrides: Partial<CloudConfigInput> = {}): CloudConfigInput {
  return {
    hostname: "web2",
    ip: "10.60.0.12",
    prefixLength: 24,
    gateway: "10.60.0.1",
    dns: ["10.60.0.1"],
    interface: "eth0",
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFOBFN3s3YIMptQwRkfX4r4Vwntq3kfY7QA5bSlnBH4 ops@example"],
    discoveryUrl: "",
    tls: fixedTestTls(),
    staticBootstrap: { initialCluster: members, token: "xen-coreos-production-web" },
    fleetMetadata: { role: "web", cluster: "web" },
    nfs: { server: "10.60.0.200", export: "/srv/nfs/hosting", mountPoint: "/mnt/nfs", options: ["rw", "acl", "hard"] },
    install: { device: "/dev/xvda", channel: "stable" },
    rebootStrategy: "etcd-lock",
    os: { profile: "flatcar", version: "4593.1.0", fleet: { url: "https://mirror.example/fleet-v1.0.0-linux-amd64.tar.gz", sha256: SHA } },
    ...overrides,
  };
}

type Unit = { name: string; command?: string; content?: string; "drop-ins"?: Array<{ name: string; content: string }> };
const units = (text: string): Unit[] => (yaml.load(text) as any).coreos.units;
const unit = (text: string, name: string): Unit => units(text).find((u) => u.name === name)!;

describe("flatcar cloud-config", () => {
  const text = renderCloudConfig(node());
  const doc: any = yaml.load(text);

  it("has no coreos.etcd2 or coreos.fleet section (they would silently do nothing on Flatcar)", () => {
    expect(Object.keys(doc.coreos).sort()).toEqual(["units", "update"]);
    expect(text).not.toMatch(/^ {2}(etcd2|fleet):/m);
    expect(units(text).map((u) => u.name)).not.toContain("etcd2.service");
  });

  it("installs with flatcar-install, the channel and the pinned release, without -o xen, before etcd and fleet", () => {
    const installer = unit(text, "xen-coreos-install.service").content!;
    expect(installer).toContain("ExecStart=/usr/bin/flatcar-install -d /dev/xvda -C stable -V 4593.1.0\n");
    expect(installer).not.toContain("-o xen");
    expect(installer).toContain("Before=etcd-member.service fleet.service\n");
    const unpinned = unit(renderCloudConfig(node({ os: { profile: "flatcar", fleet: node().os!.fleet } })), "xen-coreos-install.service").content!;
    expect(unpinned).toContain("ExecStart=/usr/bin/flatcar-install -d /dev/xvda -C stable\n");
  });

  it("runs etcd-member.service with the static drop-in, kept down on the install boot", () => {
    const etcd = unit(text, "etcd-member.service");
    expect(etcd.command).toBe("start");
    const dropIns = Object.fromEntries(etcd["drop-ins"]!.map((d) => [d.name, d.content]));
    expect(dropIns["10-xen-coreos-installed-only.conf"]).toContain("ConditionPathExists=!/run/xen-coreos-installing");
    const env = dropIns["20-xen-coreos-etcd.conf"];
    expect(env).toContain('Environment="ETCD_INITIAL_CLUSTER=web1=https://10.60.0.11:2380,web2=https://10.60.0.12:2380,web3=https://10.60.0.13:2380"\n');
    expect(env).toContain('Environment="ETCD_INITIAL_CLUSTER_STATE=new"\n');
    expect(env).toContain('Environment="ETCD_ENABLE_V2=true"\n');
  });

  it("a joining node starts with state existing; a token cluster uses ETCD_DISCOVERY", () => {
    const join = renderCloudConfig(node({ hostname: "web3", ip: "10.60.0.13", staticBootstrap: undefined, joinExisting: { initialCluster: members } }));
    expect(unit(join, "etcd-member.service")["drop-ins"]![1].content).toContain('Environment="ETCD_INITIAL_CLUSTER_STATE=existing"\n');
    const token = renderCloudConfig(node({ staticBootstrap: undefined, discoveryUrl: "http://discovery.lab:8087/abc" }));
    const env = unit(token, "etcd-member.service")["drop-ins"]![1].content;
    expect(env).toContain('Environment="ETCD_DISCOVERY=http://discovery.lab:8087/abc"\n');
    expect(env).not.toContain("ETCD_INITIAL_CLUSTER=");
  });

  it("runs fleetd v1.0.0 from the verified download, configured like CoreOS's coreos.fleet section was", () => {
    const fleet = unit(text, "fleet.service");
    expect(fleet.content).toContain(`ExecStartPre=${FLEET_FETCH_SCRIPT} https://mirror.example/fleet-v1.0.0-linux-amd64.tar.gz ${SHA} ${FLEET_BIN_DIR}\n`);
    expect(fleet.content).toContain(`ExecStart=${FLEET_BIN_DIR}/fleetd\n`);
    expect(fleet.content).toContain('Environment="FLEET_METADATA=cluster=web,role=web"\n');
    expect(fleet.content).toContain('Environment="FLEET_ETCD_SERVERS=https://10.60.0.12:2379"\n');
    for (const [k, f] of [["CAFILE", "ca.pem"], ["CERTFILE", "etcd.pem"], ["KEYFILE", "etcd-key.pem"]]) expect(fleet.content).toContain(`Environment="FLEET_ETCD_${k}=/etc/xen-coreos/tls/${f}"\n`);
    const file = doc.write_files.find((f: any) => f.path === FLEET_FETCH_SCRIPT);
    expect(file).toMatchObject({ permissions: "0755", owner: "root", content: fleetFetchScript() });
  });

  it("the same node on the coreos profile with static bootstrap keeps etcd2 and fleet sections, with the member list", () => {
    const coreos = yaml.load(renderCloudConfig(node({ os: undefined }))) as any;
    expect(coreos.coreos.etcd2).toMatchObject({
      "initial-cluster": "web1=https://10.60.0.11:2380,web2=https://10.60.0.12:2380,web3=https://10.60.0.13:2380",
      "initial-cluster-state": "new",
      "initial-cluster-token": "xen-coreos-production-web",
    });
    expect(coreos.coreos.etcd2.discovery).toBeUndefined();
    expect(coreos.coreos.fleet.metadata).toBe("cluster=web,role=web");
  });
});

describeWith(["systemd-analyze"], "verifies the flatcar profile's units")("systemd-analyze verify (flatcar units)", () => {
  it("accepts the installer, fleet.socket, fleet.service and etcd-member.service with its drop-ins", () => {
    const text = renderCloudConfig(node());
    const all = units(text);
    const etcd = unit(text, "etcd-member.service");
    // Flatcar's own etcd-member.service, reduced to what the drop-ins extend (verification only).
    const stub = { name: "etcd-member.service", text: "[Unit]\nDescription=Stub of Flatcar's etcd-member.service (verification only)\n\n[Service]\nExecStart=/usr/lib/flatcar/etcd-wrapper\n" };
    const rendered = [
      stub,
      ...["xen-coreos-install.service", "fleet.socket", "fleet.service"].map((n) => ({ name: n, text: all.find((u) => u.name === n)!.content! })),
      ...etcd["drop-ins"]!.map((d) => ({ name: `etcd-member.service.d/${d.name}`, text: d.content })),
      ...unit(text, "fleet.service")["drop-ins"]!.map((d) => ({ name: `fleet.service.d/${d.name}`, text: d.content })),
    ];
    const r = systemdVerify(rendered);
    expect(r.verified).toEqual(expect.arrayContaining(["etcd-member.service", "fleet.socket", "fleet.service", "xen-coreos-install.service"]));
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("catches a broken drop-in (the check reads drop-ins)", () => {
    const stub = { name: "etcd-member.service", text: "[Unit]\nDescription=stub\n\n[Service]\nExecStart=/usr/lib/flatcar/etcd-wrapper\n" };
    const r = systemdVerify([stub, { name: "etcd-member.service.d/20-x.conf", text: "[Service]\nEnvironmnt=\"ETCD_NAME=x\"\n" }]);
    expect(r.output).toMatch(/Environmnt/);
  });
});

function sh(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile("sh", args, { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describeWith(["curl", "tar", "sha256sum", "shellcheck"], "runs the fleet fetch script for real")("fleet-fetch.sh", () => {
  let dir: string;
  let script: string;
  let good: { file: string; sha: string };
  let bad: string;
  let server: http.Server;
  let base: string;
  let served = 0;

  /** A tarball laid out as the fleet release's: fleet-v1.0.0-linux-amd64/{fleetd,fleetctl}. */
  function tarball(name: string, marker: string): string {
    const src = path.join(dir, `${name}-src`, "fleet-v1.0.0-linux-amd64");
    fs.mkdirSync(src, { recursive: true });
    for (const bin of ["fleetd", "fleetctl"]) fs.writeFileSync(path.join(src, bin), `#!/bin/sh\necho ${bin} ${marker}\n`, { mode: 0o755 });
    const file = path.join(dir, `${name}.tar.gz`);
    const r = spawnSync("tar", ["-czf", file, "-C", path.dirname(src), "fleet-v1.0.0-linux-amd64"]);
    expect(r.status).toBe(0);
    return file;
  }
  const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

  beforeAll(async () => {
    dir = tempDir("fleet-fetch");
    script = path.join(dir, "fleet-fetch.sh");
    fs.writeFileSync(script, fleetFetchScript(), { mode: 0o755 });
    const file = tarball("good", "v1.0.0");
    good = { file, sha: sha(file) };
    bad = tarball("bad", "tampered");
    server = http.createServer((req, res) => {
      served++;
      const f = req.url === "/good.tar.gz" ? good.file : req.url === "/bad.tar.gz" ? bad : undefined;
      if (!f) { res.writeHead(404); res.end("not found"); return; }
      res.writeHead(200);
      res.end(fs.readFileSync(f));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is shellcheck-clean", () => {
    expect(shellcheck(fleetFetchScript(), "sh")).toBe("");
  });

  it("refuses a file whose sha256 differs (file://), and installs nothing", async () => {
    const bin = path.join(dir, "bin-file-bad");
    const r = await sh([script, `file://${bad}`, good.sha, bin]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`has sha256 ${sha(bad)}, not the pinned ${good.sha}: refused, nothing installed`);
    expect(r.stderr).toContain("xen-coreos:os.fleet.sha256");
    expect(fs.existsSync(path.join(bin, "fleetd"))).toBe(false);
    expect(fs.existsSync(path.join(bin, "fleetctl"))).toBe(false);
  });

  it("refuses a wrong file from a loopback http mirror too", async () => {
    const bin = path.join(dir, "bin-http-bad");
    const r = await sh([script, `${base}/bad.tar.gz`, good.sha, bin]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("refused, nothing installed");
    expect(fs.existsSync(path.join(bin, "fleetd"))).toBe(false);
  });

  it("installs the right file once: a second run fetches nothing; a missing file names the URL setting", async () => {
    const bin = path.join(dir, "bin-http-good");
    const r = await sh([script, `${base}/good.tar.gz`, good.sha, bin]);
    expect(r.status).toBe(0);
    expect(spawnSync(path.join(bin, "fleetd"), { encoding: "utf8" }).stdout).toBe("fleetd v1.0.0\n");
    expect(spawnSync(path.join(bin, "fleetctl"), { encoding: "utf8" }).stdout).toBe("fleetctl v1.0.0\n");
    const before = served;
    const again = await sh([script, `${base}/good.tar.gz`, good.sha, bin]);
    expect(again.status).toBe(0);
    expect(served).toBe(before);
    const missing = await sh([script, `${base}/nothing.tar.gz`, good.sha, path.join(dir, "bin-missing")]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("xen-coreos:os.fleet.url");
  });

  it("a binary already installed from another tarball is replaced only by a verified one", async () => {
    const bin = path.join(dir, "bin-file-good");
    expect((await sh([script, `file://${good.file}`, good.sha, bin])).status).toBe(0);
    const r = await sh([script, `file://${bad}`, sha(bad).replace(/^./, (c) => (c === "0" ? "1" : "0")), bin]);
    expect(r.status).not.toBe(0);
    expect(spawnSync(path.join(bin, "fleetd"), { encoding: "utf8" }).stdout).toBe("fleetd v1.0.0\n");
  });
});
