/**
 * The service layer under Pulumi mocks with the lab stack: which units and files it
 * declares, how they are placed, and that no secret reaches a unit or a command line.
 */
import * as pulumi from "@pulumi/pulumi";
import { labRaw } from "../fixtures/settings";
import { ResourceRecorder, setStackConfig, valueOf } from "../support/mocks";

async function runLab(mutate: (raw: any) => void = () => undefined) {
  const recorder = new ResourceRecorder();
  pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);
  const raw = labRaw();
  mutate(raw);
  setStackConfig(raw, { sshPrivateKey: "KEY" });
  const { xenCoreosProgram } = await import("../../components/program");
  const outputs = xenCoreosProgram(recorder.root());
  const services = await valueOf<any>(outputs.services);
  await new Promise((r) => setTimeout(r, 200));
  const units = recorder.byType("command:remote:Command").filter((r) => r.name.endsWith("-unit"));
  const unitText = (unit: string) => units.find((u) => u.inputs.create.includes(`\nunit=${unit}\n`))?.inputs.stdin as string;
  return { recorder, outputs, services, units, unitText };
}

describe("services of the lab stack", () => {
  let lab: Awaited<ReturnType<typeof runLab>>;
  beforeAll(async () => {
    lab = await runLab();
  });

  it("declares one fleet unit per rendered unit: 3 apache + 3 announce, nginx + upstreams, galera, its discovery, its proxy, vsftpd", () => {
    const names = lab.units.map((u) => /\nunit=(\S+)\n/.exec(u.inputs.create)![1]).sort();
    expect(names).toEqual([
      "apache-1.service", "apache-2.service", "apache-3.service",
      "apache-announce-1.service", "apache-announce-2.service", "apache-announce-3.service",
      "galera-discovery@.service", "galera-proxy.service", "galera@.service",
      "nginx-upstreams.service", "nginx.service", "vsftpd.service",
    ].sort());
    const galera = lab.units.find((u) => u.inputs.create.includes("\nunit=galera@.service\n"))!;
    expect(galera.inputs.create).toContain("instances='galera@1.service galera@2.service galera@3.service'");
  });

  it("each announce sidecar is MachineOf its apache instance; the upstream renderer is MachineOf the proxy", () => {
    for (const i of [1, 2, 3]) expect(lab.unitText(`apache-announce-${i}.service`)).toMatch(new RegExp(`^MachineOf=apache-${i}\\.service$`, "m"));
    expect(lab.unitText("nginx-upstreams.service")).toMatch(/^MachineOf=nginx\.service$/m);
    expect(lab.unitText("galera-discovery@.service")).toMatch(/^MachineOf=galera@%i\.service$/m);
  });

  it("galera members conflict with each other and run where the placement says", () => {
    const member = lab.unitText("galera@.service");
    expect(member).toMatch(/^Conflicts=galera@\*\.service$/m);
    expect(member).toMatch(/^MachineMetadata=cluster=lab$/m);
    expect(lab.unitText("galera-proxy.service")).toMatch(/^Global=true$/m);
  });

  it("apache instances listen on basePort + i, and only nginx publishes port 80", () => {
    expect(lab.unitText("apache-1.service")).toContain("8081:80");
    expect(lab.unitText("apache-3.service")).toContain("8083:80");
    const publishing80 = lab.units.filter((u) => /-p 80:|80:80/.test(u.inputs.stdin)).map((u) => /\nunit=(\S+)\n/.exec(u.inputs.create)![1]);
    expect(publishing80).toEqual(["nginx.service"]);
  });

  it("no password appears in any unit text or command line; the env files and the users file are secrets", async () => {
    const secrets = [
      await valueOf<string>(lab.outputs.services.database!.appPassword),
      await valueOf<string>(lab.outputs.services.database!.rootPassword),
      ...(await Promise.all(Object.values<pulumi.Output<string>>(lab.outputs.services.ftp!.passwords).map((p) => valueOf(p)))),
    ];
    expect(secrets.every((s) => s.length >= 20)).toBe(true);
    for (const r of lab.recorder.byType("command:remote:Command")) {
      for (const field of ["create", "update", "delete"]) for (const s of secrets) expect(String(r.inputs[field] ?? "")).not.toContain(s);
    }
    for (const u of lab.units) for (const s of secrets) expect(u.inputs.stdin).not.toContain(s);
    for (const node of ["coreos1", "coreos2", "coreos3"]) {
      // The node's password files, key and certificate: one secret set per db node, on that node.
      const set = lab.recorder.named(`galera-secrets-${node}-files`);
      expect(set.secretPaths).toContain("stdin");
      expect(set.inputs.stdin).toMatch(new RegExp(`==> 0600 [0-9a-f]{64} /etc/xen-coreos/galera/secrets/app-password\\n\\|${secrets[0]}\\n`));
      expect(set.inputs.stdin).toMatch(/==> 0600 [0-9a-f]{64} \/etc\/xen-coreos\/galera\/tls\/key\.pem\n\|-----BEGIN RSA PRIVATE KEY-----/);
      // The config set is plain (a readable preview diff) and holds no password.
      const config = lab.recorder.named(`galera-files-${node}-files`);
      expect(config.secretPaths).not.toContain("stdin");
      expect(config.inputs.stdin).toContain("/etc/xen-coreos/galera/galera.cnf");
      for (const s of secrets) expect(config.inputs.stdin).not.toContain(s);
    }
    for (const node of ["coreos1", "coreos2", "coreos3"]) expect(lab.recorder.named(`ftp-files-${node}-files`).secretPaths).toContain("stdin");
    expect(await pulumi.isSecret(lab.outputs.services.database!.appPassword)).toBe(true);
    expect(await pulumi.isSecret(lab.outputs.services.ftp!.passwords.customer1)).toBe(true);
  });

  it("creates the users' homes under www and never deletes them", () => {
    const homes = lab.recorder.named("ftp-homes");
    expect(homes.inputs.create).toContain("mkdir -p /mnt/nfs/www/customer1");
    expect(homes.inputs.delete).toBeUndefined();
  });

  it("writes the web tier's config and scripts to every node of its cluster, node-local, one command per node; nothing on the share", () => {
    const nodes = [["coreos1", "10.50.0.101"], ["coreos2", "10.50.0.102"], ["coreos3", "10.50.0.103"]];
    for (const [name, ip] of nodes) {
      const files = lab.recorder.named(`web-files-${name}-files`);
      expect(files.inputs.connection).toMatchObject({ host: ip, user: "core", proxy: { host: "192.168.2.105", user: "root" } });
      // The standard input lists each file with its mode and sha256 (node-files-render.ts).
      const listed = [...String(files.inputs.stdin).matchAll(/^==> \d{4} [0-9a-f]{64} (\S+)$/gm)].map((m) => m[1]).sort();
      expect(listed).toEqual([
        "/etc/xen-coreos/web/nginx/conf.d/proxy.conf",
        "/etc/xen-coreos/web/nginx/nginx.conf",
        "/etc/xen-coreos/web/scripts/web-announce.sh",
        "/etc/xen-coreos/web/scripts/web-upstreams.sh",
      ]);
    }
    for (const unit of ["nginx.service", "nginx-upstreams.service", "apache-announce-1.service"]) {
      expect(lab.unitText(unit)).not.toMatch(/\/mnt\/nfs\/(nginx|services)/);
    }
    expect(lab.unitText("nginx.service")).toContain("/etc/xen-coreos/web/nginx:/etc/nginx/xen-coreos:ro");
  });

  it("writes vsftpd's files node-local on every node its placement allows, the users file and the key 0600, with a certificate for those nodes' addresses", () => {
    const nodes = { coreos1: "10.50.0.101", coreos2: "10.50.0.102", coreos3: "10.50.0.103" };
    for (const [node, ip] of Object.entries(nodes)) {
      const files = lab.recorder.named(`ftp-files-${node}-files`);
      expect(files.inputs.connection).toMatchObject({ host: ip, user: "core" });
      const headers = (files.inputs.stdin as string).split("\n").filter((l) => l.startsWith("==> ") && l !== "==> end").map((l) => l.split(" "));
      const modes = Object.fromEntries(headers.map(([, mode, , file]) => [file, mode]));
      expect(modes).toEqual({
        "/etc/xen-coreos/ftp/vsftpd.conf": "0644",
        "/etc/xen-coreos/ftp/vsftpd-virtual.pam": "0644",
        "/etc/xen-coreos/ftp/users.passwd": "0600",
        "/etc/xen-coreos/ftp/vsftpd.env": "0644",
        "/etc/xen-coreos/ftp/openssl.cnf": "0644",
        "/etc/xen-coreos/ftp/tls/cert.pem": "0644",
        "/etc/xen-coreos/ftp/tls/key.pem": "0600",
      });
      expect(files.inputs.stdin).toContain("|ssl_enable=YES");
    }
    const cert = lab.recorder.named("pki-cert-ftp");
    expect(cert.inputs).toMatchObject({ kind: "certificate", commonName: "ftp", ipAddresses: Object.values(nodes), usages: ["server"] });
    // Nothing of the FTP service is written to the share any more.
    expect(lab.recorder.resources.filter((r) => /^ftp-file-/.test(r.name))).toEqual([]);
    expect(lab.unitText("vsftpd.service")).not.toContain("/mnt/nfs/services");
  });

  it("with services.ftp.tls false, no certificate is issued and vsftpd.conf says plain text", async () => {
    const plain = await runLab((raw) => (raw.services.ftp.tls = false));
    expect(plain.recorder.resources.map((r) => r.name)).not.toContain("pki-cert-ftp");
    const stdin = plain.recorder.named("ftp-files-coreos1-files").inputs.stdin as string;
    expect(stdin).toContain("|ssl_enable=NO");
    expect(stdin).not.toMatch(/tls\/key\.pem|openssl\.cnf/);
  });

  it("exports the database endpoint", () => {
    expect(lab.services.database.endpoint).toEqual({ hosts: ["10.50.0.101", "10.50.0.102", "10.50.0.103"], port: 3307, database: "app", user: "app" });
  });
});

describe("service settings follow the stack", () => {
  it("a fourth apache instance adds exactly its unit and its announcer", async () => {
    const four = await runLab((raw) => (raw.services.web.instances = 4));
    expect(four.unitText("apache-4.service")).toContain("8084:80");
    expect(four.unitText("apache-announce-4.service")).toMatch(/^MachineOf=apache-4\.service$/m);
    expect(four.units).toHaveLength(14);
  });

  it("adding an FTP user keeps the other users' passwords", async () => {
    const two = await runLab();
    const three = await runLab((raw) => raw.services.ftp.users.push("customer3"));
    expect(three.recorder.byType("random:index/randomPassword:RandomPassword").map((r) => r.name)).toContain("ftp-customer3-password");
    expect(two.recorder.named("ftp-customer1-password").inputs).toEqual(three.recorder.named("ftp-customer1-password").inputs);
  });
});
