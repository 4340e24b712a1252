/**
 * The FTP service's rendered files, read by a real vsftpd outside Docker: the rendered
 * vsftpd.conf (FTPS on, as by default), the PAM service file (pam_pwdfile from
 * libpam-pwdfile), the users file rendered from generated passwords, the sites list and a
 * certificate issued by the deployment PKI's functions (components/pki/x509.ts) for the
 * addresses of every node the unit may run on; the client is a real lftp (GnuTLS) in passive
 * mode that verifies the certificate against the CA.
 *
 * Topology: one network namespace xr<pid>-ftp standing for the node that runs vsftpd.service
 * (the lab's coreos1, 10.50.0.101 on its loopback): vsftpd on the settings' listenPort (21)
 * and passive range (30000-30009), given `-opasv_address=<node address>` as the unit gives
 * `${COREOS_PUBLIC_IPV4}`; lftp and openssl run in the same namespace. For the cost of TLS, a
 * second namespace xr<pid>-ftpplain runs the same service rendered with `services.ftp.tls:
 * false`, on the same node address and the same share.
 *
 * What stands in for Docker: test/real/ftp/ftp-container.sh, in a private mount namespace,
 * puts the node's /etc/xen-coreos/ftp (written here by the NodeFiles write script, as on a
 * node) and the share's /mnt/nfs/www at their paths, then mounts every `-v` of the rendered
 * unit (those systemd expands from $XC_FTP_SITES included) the way runc does, so every
 * rendered byte is used as is and nothing of the host's /etc, /srv or /mnt changes. The
 * users' sites are made by the script FtpService declares (taken from the component under
 * Pulumi mocks and run against the temp share).
 */
import * as fs from "fs";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { FtpServiceSettings } from "../../../components/config/services-settings";
import { createCa, issueCertificate, KeyPairPem, TlsMaterial } from "../../../components/pki/x509";
import { ftpNodes, renderFtpBundle } from "../../../components/services/bundles";
import { FTPS_CIPHERS, FTP_DEFAULTS, FtpUser } from "../../../components/services/ftp-render";
import { ServiceBundle } from "../../../components/fleet/unit-file";
import { labRaw, WITH_KEY } from "../../fixtures/settings";
import { describeWith } from "../../support/prereq";
import { Daemon, Netns, cleanupAll, createNetns, runOk, tempDir } from "../../support/real";
import { programHomesScript, startVsftpd as startContainer, writeFtpNodeFiles } from "./ftp-harness";
import { account, figure, generatedPassword, prerequisites, redact, tailFile } from "../../support/real-db";

const SITE = FTP_DEFAULTS.siteFolder;

const NEEDS = prerequisites(["vsftpd", "lftp", "openssl", "ip", "unshare", "nsenter", "mount", "sh"], {
  files: { "pam_pwdfile.so (libpam-pwdfile)": "/lib/x86_64-linux-gnu/security/pam_pwdfile.so:/usr/lib/x86_64-linux-gnu/security/pam_pwdfile.so:/lib/security/pam_pwdfile.so:/usr/lib/security/pam_pwdfile.so" },
  root: true,
});

/** The lab's ftp settings, optionally with more users or TLS off (as an operator would edit the stack). */
function ftpSettings(opts: { extraUsers?: string[]; tls?: boolean } = {}): { ftp: FtpServiceSettings; nodeIp: string; nodeIps: string[] } {
  const raw = labRaw();
  raw.services.ftp.users.push(...(opts.extraUsers ?? []));
  if (opts.tls !== undefined) raw.services.ftp.tls = opts.tls;
  // The sites belong to the guest account vsftpd writes as: here, this machine's ftp user.
  const guest = account(FTP_DEFAULTS.guestUsername);
  if (guest) raw.services.ftp.homeOwner = `${guest.uid}:${guest.gid}`;
  const s = parseSettings(raw, WITH_KEY);
  const ftp = s.services.ftp!;
  const nodes = ftpNodes(ftp, s.clusters.find((c) => c.name === ftp.cluster)!);
  return { ftp, nodeIp: nodes[0].address, nodeIps: nodes.map((n) => n.address) };
}

describeWith(NEEDS, "a real vsftpd with pam_pwdfile and a real FTP client (lftp)")("the rendered FTP service on a real vsftpd", () => {
  const t0 = Date.now();
  const lab = ftpSettings();
  const ftp = lab.ftp;
  const nodeIp = lab.nodeIp;
  const guest = account(FTP_DEFAULTS.guestUsername);
  // As FtpService: RandomPassword({ length: 24, special: false }) per user, one of 32 as the salt key.
  const passwords: Record<string, string> = Object.fromEntries(ftp.users.map((u) => [u, generatedPassword(24)]));
  const saltKey = generatedPassword(32);
  const users = (names: string[]): FtpUser[] => names.map((name) => ({ name, password: passwords[name] }));
  // As the program: one CA per deployment, one server certificate for every eligible node's address.
  const ca = createCa({ commonName: "xen-coreos lab CA (test)", validityDays: 30 });
  const cert: KeyPairPem = issueCertificate(ca, { commonName: "ftp", ipAddresses: lab.nodeIps, usages: ["server"], validityDays: 30 });
  const material: TlsMaterial = { caPem: ca.certPem, ...cert };
  const strangerCa = createCa({ commonName: "another CA", validityDays: 30 });
  const keyLines = cert.keyPem.split(/\r?\n/).filter((l) => l && !l.startsWith("-----"));
  const secrets = () => [...Object.values(passwords), saltKey, ...keyLines];

  let root = "";
  let conf = "";
  let www = "";
  let caFile = "";
  let strangerCaFile = "";
  let ns: Netns;
  let vsftpd: Daemon;
  let scripts = 0;
  let restarts = 0;

  /** Writes a bundle's files as NodeFiles does on a node (one transfer, sha256-checked), into `dir` standing for /etc/xen-coreos/ftp. */
  const writeLikeNodeFiles = (bundle: ServiceBundle, dir: string) => writeFtpNodeFiles(bundle, dir);
  const render = (names: string[], tls = true) =>
    renderFtpBundle(tls ? ftp : ftpSettings({ tls: false }).ftp, users(names), saltKey, tls ? { certPem: cert.certPem, keyPem: cert.keyPem } : undefined);
  /** Runs the program's homes script against the temp share (its /mnt/nfs/www is ours). */
  const runHomes = (script: string) => runOk("sh", ["-c", script.split(`${FTP_DEFAULTS.wwwDir}/`).join(`${www}/`)]);

  /** Starts the container stand-in for `bundle` (files already written to `confDir`) in `netns`. */
  const startVsftpd = (label: string, bundle: ServiceBundle, confDir: string, netns: Netns) =>
    startContainer({ name: `vsftpd-${label}`, work: path.join(root, `work-${label}-${++restarts}`), bundle, confDir, www, pasvAddress: nodeIp, listenPort: ftp.listenPort, netns, logFile: path.join(root, `vsftpd-${label}.out`) });
  let vsftpdLog = "";

  /** One lftp session: login, then `commands`; -d output (the protocol) is in `debug`. */
  const lftp = (user: string, password: string, commands: string[], opts: { failExit?: boolean; tls?: "verify" | "off" | "stranger"; netns?: Netns } = {}) => {
    const tls = opts.tls ?? "verify";
    const script = path.join(root, `session-${++scripts}.lftp`);
    fs.writeFileSync(
      script,
      [
        "set net:max-retries 1",
        "set net:timeout 20",
        "set ftp:passive-mode on",
        "set ftp:prefer-epsv no",
        ...(tls === "off"
          ? ["set ftp:ssl-allow no"]
          : [
              "set ftp:ssl-allow yes",
              "set ftp:ssl-force true",
              "set ftp:ssl-protect-data true",
              "set ssl:verify-certificate yes",
              "set ssl:check-hostname yes",
              `set ssl:ca-file ${tls === "stranger" ? strangerCaFile : caFile}`,
            ]),
        `set cmd:fail-exit ${opts.failExit === false ? "no" : "yes"}`,
        `open -u ${user},${password} ftp://${nodeIp}:${ftp.listenPort}`,
        ...commands,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const start = Date.now();
    const r = (opts.netns ?? ns).exec("lftp", ["-d", "-f", script], { timeoutMs: 120000 });
    fs.rmSync(script);
    return { status: r.status, stdout: redact(r.stdout, secrets()), debug: redact(r.stderr, secrets()), ms: Date.now() - start };
  };
  const failure = (what: string, r: { stdout: string; debug: string }) =>
    new Error(`${what}\n--- lftp:\n${r.stdout}${r.debug}\n--- vsftpd:\n${redact(tailFile(vsftpdLog, 20), secrets())}\n${redact(vsftpd?.log() ?? "", secrets())}`);

  beforeAll(async () => {
    expect(guest).toBeDefined();
    root = tempDir("ftp");
    conf = path.join(root, "node", "etc", "xen-coreos", "ftp");
    www = path.join(root, "share", "www");
    fs.mkdirSync(www, { recursive: true });
    caFile = path.join(root, "ca.pem");
    strangerCaFile = path.join(root, "stranger-ca.pem");
    fs.writeFileSync(caFile, ca.certPem);
    fs.writeFileSync(strangerCaFile, strangerCa.certPem);
    const bundle = render(ftp.users);
    writeLikeNodeFiles(bundle, conf);
    // Sites as the program makes them: created and given to the guest account vsftpd writes as.
    runHomes(await programHomesScript(ftp, material));

    ns = createNetns("ftp");
    ns.execOk("ip", ["addr", "add", `${nodeIp}/32`, "dev", "lo"]);
    const started = await startVsftpd("tls", bundle, conf, ns);
    vsftpd = started.daemon;
    vsftpdLog = started.log;
  }, 120000);

  afterAll(async () => {
    await cleanupAll();
  }, 60000);

  it("writes the files node-local, none on the share: the users file and the key 0600 root, the conf and the certificate 0644", () => {
    const mode = (f: string) => (fs.statSync(path.join(conf, f)).mode & 0o777).toString(8);
    const found = runOk("find", [conf, "-type", "f"]).trim().split("\n").map((f) => path.relative(conf, f)).sort();
    expect(found).toEqual(["openssl.cnf", "tls/cert.pem", "tls/key.pem", "users.passwd", "vsftpd-virtual.pam", "vsftpd.conf", "vsftpd.env"]);
    expect({ users: mode(FTP_DEFAULTS.usersFile), key: mode(FTP_DEFAULTS.keyFile), conf: mode("vsftpd.conf"), pam: mode("vsftpd-virtual.pam"), cert: mode(FTP_DEFAULTS.certFile) }).toEqual({
      users: "600", key: "600", conf: "644", pam: "644", cert: "644",
    });
    for (const f of [FTP_DEFAULTS.usersFile, FTP_DEFAULTS.keyFile]) expect(fs.statSync(path.join(conf, f)).uid).toBe(0);
    // The share holds the customers' sites and nothing else of the service.
    expect(runOk("find", [path.join(root, "share"), "-mindepth", "1"]).trim().split("\n").map((f) => path.relative(path.join(root, "share"), f)).sort()).toEqual(["www", ...ftp.users.map((u) => `www/${u}`)]);
    expect(fs.readFileSync(path.join(conf, "vsftpd-virtual.pam"), "utf8")).toContain("auth required pam_pwdfile.so pwdfile=/etc/vsftpd/users.passwd\n");
    const lines = fs.readFileSync(path.join(conf, FTP_DEFAULTS.usersFile), "utf8").trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual(ftp.users);
    for (const l of lines) expect(l).toMatch(/^[a-z0-9_-]+:\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    for (const p of Object.values(passwords)) expect(lines.join("\n")).not.toContain(p);
    // eslint-disable-next-line no-console
    console.log(`node files: ${found.map((f) => `${f} ${mode(f)}`).join(", ")}`);
  });

  it("over FTPS with the CA verified, each user logs in, uploads into its site /www (the share's www/<user>) and lists it, in passive mode", () => {
    for (const user of ftp.users) {
      const local = path.join(root, `upload-${user}.txt`);
      fs.writeFileSync(local, `site of ${user}\n`);
      const r = lftp(user, passwords[user], ["quote PWD", `cd ${SITE}`, `put ${local} -o index-${user}.txt`, "cls -1"]);
      if (r.status !== 0) throw failure(`${user}: FTPS login and upload failed`, r);
      // Explicit TLS before the login, private data connections.
      expect(r.debug).toMatch(/---> AUTH TLS\s[\s\S]*<--- 234 [\s\S]*---> USER /);
      expect(r.debug).toMatch(/<--- 200 PROT now Private\./);
      expect(r.debug).toContain("230 Login successful.");
      expect(r.stdout).toContain('257 "/" is the current directory');
      expect(r.stdout.split("\n")).toContain(`index-${user}.txt`);
      // Passive mode: the address the unit passes, a port of the settings' range; never PORT.
      const pasv = [...r.debug.matchAll(/227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/g)];
      expect(pasv.length).toBeGreaterThanOrEqual(2);
      for (const m of pasv) {
        expect(m.slice(1, 5).join(".")).toBe(nodeIp);
        const p = Number(m[5]) * 256 + Number(m[6]);
        expect(p).toBeGreaterThanOrEqual(ftp.passivePorts.min);
        expect(p).toBeLessThanOrEqual(ftp.passivePorts.max);
      }
      expect(r.debug).not.toMatch(/---> (PORT|EPRT) /);
      const landed = path.join(www, user, `index-${user}.txt`);
      expect(fs.readFileSync(landed, "utf8")).toBe(`site of ${user}\n`);
      expect(fs.statSync(landed).uid).toBe(guest!.uid);
      figure(`ftps session of ${user} (TLS, login, PWD, upload, list)`, r.ms);
    }
  }, 120000);

  it("negotiates TLS 1.2 with an allowed cipher, and refuses TLS 1.3, 1.1 and 1.0", () => {
    const sClient = (args: string[]) =>
      ns.exec("openssl", ["s_client", "-starttls", "ftp", "-connect", `${nodeIp}:${ftp.listenPort}`, "-CAfile", caFile, "-verify_return_error", ...args], { input: "QUIT\r\n", timeoutMs: 30000 });
    const handshake = (out: string) => ({
      protocol: /^\s*Protocol\s*:\s*(\S+)/m.exec(out)?.[1],
      cipher: /^\s*Cipher\s*:\s*(\S+)/m.exec(out)?.[1],
      peer: /^Server certificate$/m.test(out),
    });
    const best = handshake(sClient([]).stdout);
    expect(best.protocol).toBe("TLSv1.2");
    expect(FTPS_CIPHERS as readonly string[]).toContain(best.cipher);
    expect(best.peer).toBe(true);
    const seen: string[] = [`client's best: ${best.protocol} ${best.cipher}`];
    // The client is told to allow the old versions (SECLEVEL=0); the server must still refuse.
    for (const version of ["-tls1_3", "-tls1_1", "-tls1"]) {
      const r = sClient(version === "-tls1_3" ? [version] : [version, "-cipher", "DEFAULT:@SECLEVEL=0"]);
      const h = handshake(r.stdout);
      expect(r.status).not.toBe(0);
      expect(h.peer).toBe(false);
      expect(h.cipher ?? "0000").toMatch(/^(0000|\(NONE\))$/);
      seen.push(`${version}: refused (${(/alert [a-z ]+|no protocols available|unsupported protocol|wrong version number/i.exec(r.stderr) ?? ["no handshake"])[0]})`);
    }
    // eslint-disable-next-line no-console
    console.log(`TLS versions: ${seen.join("; ")}`);
  }, 60000);

  it("refuses a plain-text login with vsftpd's message and sends no password in the clear", () => {
    const [user] = ftp.users;
    const r = lftp(user, passwords[user], ["ls"], { tls: "off" });
    expect(r.status).not.toBe(0);
    expect(r.debug).toContain("530 Non-anonymous sessions must use encryption.");
    expect(r.debug).not.toContain("230 Login successful.");
    // eslint-disable-next-line no-console
    console.log(`plain login: ${/<--- 530 [^\n]*/.exec(r.debug)![0].trim()}`);
  }, 60000);

  it("a client that does not trust the deployment CA fails the certificate check before sending the login", () => {
    const [user] = ftp.users;
    const before = fs.readFileSync(vsftpdLog, "utf8");
    const r = lftp(user, passwords[user], ["ls"], { tls: "stranger" });
    expect(r.status).not.toBe(0);
    const complaint = /Certificate verification: [^\n]*|certificate[^\n]*(not trusted|verify|signer)[^\n]*/i.exec(r.stdout + r.debug);
    if (!complaint) throw failure("no certificate complaint from lftp", r);
    expect(r.debug).not.toMatch(/---> PASS /);
    expect(fs.readFileSync(vsftpdLog, "utf8").slice(before.length)).not.toMatch(/OK LOGIN/);
    // eslint-disable-next-line no-console
    console.log(`untrusted CA: ${complaint[0].trim()}`);
  }, 60000);

  it("the chroot root belongs to root and the user cannot write it; the site folder inside it is writable", () => {
    const [user] = ftp.users;
    const stat = runOk("nsenter", ["-t", String(vsftpd.pid), "-m", "stat", "-c", "%u %a", `${FTP_DEFAULTS.containerChrootDir}/${user}`]).trim();
    expect(stat).toBe("0 755");
    const local = path.join(root, "root-attempt.txt");
    fs.writeFileSync(local, "at the chroot root\n");
    const r = lftp(user, passwords[user], ["cls -1 /", `put ${local} -o /root-attempt.txt`, "mkdir /etc", `put ${local} -o /${SITE}/inside.txt`], { failExit: false });
    expect(r.stdout.split("\n").filter((l) => l.startsWith("/"))).toEqual([`/${SITE}/`]);
    expect(r.debug).toMatch(/put: \S+: Access failed: 553 Could not create file\. \(\/root-attempt\.txt\)/);
    expect(r.debug).toMatch(/mkdir: Access failed: 550 Create directory operation failed\. \(\/etc\)/);
    expect(fs.readFileSync(path.join(www, user, "inside.txt"), "utf8")).toBe("at the chroot root\n");
    // eslint-disable-next-line no-console
    console.log(`chroot root /srv/ftp/${user}: uid:mode ${stat.replace(" ", ":")}; upload at / refused (553), into /${SITE} accepted`);
  }, 60000);

  it("keeps each user inside its chroot: cd .., absolute paths and ../ uploads stay in its own tree", () => {
    const [user, other] = ftp.users;
    const local = path.join(root, "escape.txt");
    fs.writeFileSync(local, "escape\n");
    const stolen = path.join(root, "stolen");
    const r = lftp(
      user,
      passwords[user],
      [
        `cd ${SITE}`,
        "cd ../..",
        "quote PWD",
        `put ${local} -o ../../${SITE}/escape.txt`,
        `put ${local} -o /../${other}/${SITE}/escape.txt`,
        "cd /etc",
        `get /etc/passwd -o ${stolen}`,
        `cls -1 /${other}`,
        `cd ${FTP_DEFAULTS.containerChrootDir}/${other}/${SITE}`,
      ],
      { failExit: false },
    );
    expect(r.stdout).toContain('257 "/" is the current directory');
    // The first "escape" landed in the user's own site; the second named a folder that does not exist there.
    expect(fs.existsSync(path.join(www, user, "escape.txt"))).toBe(true);
    expect(fs.existsSync(path.join(www, "escape.txt"))).toBe(false);
    expect(fs.existsSync(path.join(root, "share", "escape.txt"))).toBe(false);
    expect(fs.existsSync(path.join(www, other, "escape.txt"))).toBe(false);
    expect(fs.existsSync(stolen)).toBe(false);
    expect(r.debug).toMatch(/cd: Access failed: 550 Failed to change directory\. \(\/etc\)/);
    expect(r.debug).toMatch(/get: Access failed: 550 Failed to open file\. \(\/etc\/passwd\)/);
    expect(r.debug).toMatch(new RegExp(`cd: Access failed: 550 Failed to change directory\\. \\(${FTP_DEFAULTS.containerChrootDir}/${other}/${SITE}\\)`));
  }, 120000);

  it("refuses a wrong password, another user's password and an unknown user", () => {
    const [user, other] = ftp.users;
    for (const [name, password] of [[user, "wrong-password"], [user, passwords[other]], ["intruder", passwords[user]]]) {
      const r = lftp(name, password, ["ls"]);
      expect(r.status).not.toBe(0);
      expect(r.debug).toContain("530 Login incorrect.");
      figure(`refused login of ${name}`, r.ms);
    }
    expect(fs.readFileSync(vsftpdLog, "utf8")).toMatch(/FAIL LOGIN/);
  }, 120000);

  let homesForThree = "";

  it("after a user is added, the files are written again and vsftpd restarts with the new unit: every user logs in, the new one uploads into its site", async () => {
    const before = fs.readFileSync(path.join(conf, FTP_DEFAULTS.usersFile), "utf8").trim().split("\n");
    const three = ftpSettings({ extraUsers: ["customer3"] }).ftp;
    expect(three.users).toEqual([...ftp.users, "customer3"]);
    passwords.customer3 = generatedPassword(24); // a new RandomPassword; the others are keyed by their user
    const oldUnit = render(ftp.users).units[0].text;
    const bundle = render(three.users);
    // The sites list changed, so the unit text changed: fleet replaces the unit (a restart).
    expect(bundle.units[0].text).not.toBe(oldUnit);
    writeLikeNodeFiles(bundle, conf);
    const after = fs.readFileSync(path.join(conf, FTP_DEFAULTS.usersFile), "utf8").trim().split("\n");
    expect(after.slice(0, before.length)).toEqual(before); // earlier users' lines: identical bytes
    expect(after).toHaveLength(3);
    homesForThree = await programHomesScript(three, material);
    runHomes(homesForThree);
    await vsftpd.stop();
    const restarted = await startVsftpd("tls", bundle, conf, ns);
    vsftpd = restarted.daemon;
    vsftpdLog = restarted.log;
    for (const user of three.users) {
      const r = lftp(user, passwords[user], ["quote PWD"]);
      if (r.status !== 0) throw failure(`${user} cannot log in after customer3 was added`, r);
      expect(r.stdout).toContain('257 "/" is the current directory');
    }
    const local = path.join(root, "upload-customer3.txt");
    fs.writeFileSync(local, "site of customer3\n");
    const r = lftp("customer3", passwords.customer3, [`put ${local} -o /${SITE}/index.html`]);
    if (r.status !== 0) throw failure("customer3 cannot upload into its site", r);
    expect(fs.readFileSync(path.join(www, "customer3", "index.html"), "utf8")).toBe("site of customer3\n");
  }, 120000);

  it("the cost of TLS: N uploads with FTPS and with plain FTP (services.ftp.tls: false)", async () => {
    const N = 20;
    const [user] = ftp.users;
    // The same service rendered with TLS off, in its own namespace on the same address and share.
    const plainConf = path.join(root, "node-plain", "etc", "xen-coreos", "ftp");
    const plainBundle = render(ftp.users, false);
    expect(plainBundle.files.map((f) => path.basename(f.path))).not.toContain("key.pem");
    writeLikeNodeFiles(plainBundle, plainConf);
    const plainNs = createNetns("ftpplain");
    plainNs.execOk("ip", ["addr", "add", `${nodeIp}/32`, "dev", "lo"]);
    const plain = await startVsftpd("plain", plainBundle, plainConf, plainNs);
    const payload = path.join(root, "payload.bin");
    fs.writeFileSync(payload, Buffer.alloc(256 * 1024, 7));
    const measure = (tls: "verify" | "off", netns: Netns) => {
      // N sessions of one upload each (connection, TLS handshakes, login, one file) ...
      const t = Date.now();
      for (let i = 0; i < N; i++) {
        const r = lftp(user, passwords[user], [`put ${payload} -o /${SITE}/bench-${tls}-${i}.bin`], { tls, netns });
        if (r.status !== 0) throw failure(`upload ${i} (${tls}) failed`, r);
      }
      const sessions = Date.now() - t;
      // ... and one session uploading N files (a data connection, with its handshake, per file).
      const one = lftp(user, passwords[user], Array.from({ length: N }, (_, i) => `put ${payload} -o /${SITE}/bulk-${tls}-${i}.bin`), { tls, netns });
      if (one.status !== 0) throw failure(`bulk upload (${tls}) failed`, one);
      return { sessions, bulk: one.ms };
    };
    const withTls = measure("verify", ns);
    const without = measure("off", plainNs);
    await plain.daemon.stop();
    const rows = [
      ["", "FTPS (TLS)", "plain FTP", "TLS / plain"],
      [`${N} sessions, 1 upload of 256 KiB each`, `${withTls.sessions} ms`, `${without.sessions} ms`, (withTls.sessions / without.sessions).toFixed(2)],
      [`1 session, ${N} uploads of 256 KiB`, `${withTls.bulk} ms`, `${without.bulk} ms`, (withTls.bulk / without.bulk).toFixed(2)],
    ];
    // eslint-disable-next-line no-console
    console.log(`cost of TLS (lftp and vsftpd on one machine, loopback):\n${rows.map((r) => r.join(" | ")).join("\n")}`);
    expect(fs.readdirSync(path.join(www, user)).filter((f) => f.startsWith("bench-") || f.startsWith("bulk-"))).toHaveLength(4 * N);
  }, 300000);

  it("took a measured time overall", () => {
    expect(homesForThree).toContain(`mkdir -p ${FTP_DEFAULTS.wwwDir}/customer3`);
    figure("ftp tier, total", Date.now() - t0);
  });
});
