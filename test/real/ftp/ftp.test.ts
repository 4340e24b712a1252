/**
 * The FTP service's rendered files, read by a real vsftpd outside Docker: the rendered
 * vsftpd.conf, the PAM service file (pam_pwdfile from libpam-pwdfile) and the users file
 * rendered from generated passwords, for the lab stack's `services.ftp`, with a real client
 * (lftp) in passive mode.
 *
 * Topology: one network namespace xr<pid>-ftp standing for the node that runs vsftpd.service
 * (the lab's coreos1, 10.50.0.101 on its loopback): vsftpd on the settings' listenPort (21)
 * and passive range (30000-30009), given `-opasv_address=<node address>` as the unit gives
 * `${COREOS_PUBLIC_IPV4}`; lftp runs in the same namespace.
 *
 * What stands in for Docker: test/real/ftp/ftp-container.sh, in a private mount namespace,
 * puts the unit's volumes where the rendered files expect them (the share's conf dir on
 * /etc/vsftpd, its vsftpd-virtual.pam on /etc/pam.d/vsftpd-virtual, the share's www on
 * /srv/www), so every rendered file is used byte for byte and nothing of the host's /etc or
 * /srv changes. The users' homes are made by the script FtpService declares (taken from the
 * component under Pulumi mocks and run against the temp share).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseSettings } from "../../../components/config/settings";
import { FtpServiceSettings } from "../../../components/config/services-settings";
import { matchingMachines } from "../../../components/fleet/placement";
import { renderNodeFileWriteScript } from "../../../components/fleet/fleetctl-scripts";
import { renderFtpBundle } from "../../../components/services/bundles";
import { FTP_DEFAULTS, FtpUser } from "../../../components/services/ftp-render";
import { labRaw, WITH_KEY } from "../../fixtures/settings";
import { ResourceRecorder } from "../../support/mocks";
import { describeWith } from "../../support/prereq";
import { Daemon, Netns, cleanupAll, createNetns, runOk, startDaemon, tempDir, waitFor, waitForPort } from "../../support/real";
import { account, figure, generatedPassword, prerequisites, redact, tailFile } from "../../support/real-db";

const CONTAINER_SCRIPT = path.join(__dirname, "ftp-container.sh");

const NEEDS = prerequisites(["vsftpd", "lftp", "ip", "unshare", "mount", "sh"], {
  files: { "pam_pwdfile.so (libpam-pwdfile)": "/lib/x86_64-linux-gnu/security/pam_pwdfile.so:/usr/lib/x86_64-linux-gnu/security/pam_pwdfile.so:/lib/security/pam_pwdfile.so:/usr/lib/security/pam_pwdfile.so" },
  root: true,
});

/** The lab's ftp settings, optionally with more users (as an operator would edit the stack). */
function ftpSettings(extraUsers: string[] = []): { ftp: FtpServiceSettings; nodeIp: string } {
  const raw = labRaw();
  raw.services.ftp.users.push(...extraUsers);
  // The homes belong to the guest account vsftpd writes as: here, this machine's ftp user.
  const guest = account(FTP_DEFAULTS.guestUsername);
  if (guest) raw.services.ftp.homeOwner = `${guest.uid}:${guest.gid}`;
  const s = parseSettings(raw, WITH_KEY);
  const ftp = s.services.ftp!;
  const cluster = s.clusters.find((c) => c.name === ftp.cluster)!;
  const node = matchingMachines(ftp.placement, cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata })))[0];
  return { ftp, nodeIp: cluster.nodes.find((n) => n.name === node.name)!.ip };
}

/** The `create` script of FtpService's homes command, as the program declares it (Pulumi mocks). */
async function programHomesScript(ftp: FtpServiceSettings): Promise<string> {
  const recorder = new ResourceRecorder();
  pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);
  const { FtpService } = await import("../../../components/services/ftp-service");
  new FtpService("ftp", { settings: ftp, fleetConnection: { host: "10.50.0.101", user: "core" }, protectedDirs: [FTP_DEFAULTS.wwwDir] });
  await waitFor(() => recorder.resources.some((r) => r.name === "ftp-homes"), { what: "FtpService to declare its homes command", timeoutMs: 20000 });
  return recorder.named("ftp-homes").inputs.create as string;
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
  const secrets = () => [...Object.values(passwords), saltKey];

  let root = "";
  let conf = "";
  let www = "";
  let ns: Netns;
  let vsftpd: Daemon;
  let scripts = 0;

  const writeLikeNodeFile = (file: string, content: string, mode: number) =>
    runOk("sh", ["-c", renderNodeFileWriteScript({ path: file, mode })], { input: content });
  const writeBundle = (names: string[]) => {
    const bundle = renderFtpBundle(ftp, users(names), saltKey);
    for (const f of bundle.files) writeLikeNodeFile(path.join(conf, path.basename(f.path)), f.content, f.mode);
    return bundle;
  };
  /** Runs the program's homes script against the temp share (its /mnt/nfs/www is ours). */
  const runHomes = (script: string) => runOk("sh", ["-c", script.split(`${FTP_DEFAULTS.wwwDir}/`).join(`${www}/`)]);

  /** One lftp session: login, then `commands`; -d output (the protocol) is in `debug`. */
  const lftp = (user: string, password: string, commands: string[], opts: { failExit?: boolean } = {}) => {
    const script = path.join(root, `session-${++scripts}.lftp`);
    fs.writeFileSync(
      script,
      [
        "set net:max-retries 1",
        "set net:timeout 20",
        "set ftp:passive-mode on",
        "set ftp:prefer-epsv no",
        "set ftp:ssl-allow no",
        `set cmd:fail-exit ${opts.failExit === false ? "no" : "yes"}`,
        `open -u ${user},${password} ftp://${nodeIp}:${ftp.listenPort}`,
        ...commands,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const start = Date.now();
    const r = ns.exec("lftp", ["-d", "-f", script], { timeoutMs: 90000 });
    fs.rmSync(script);
    const out = { status: r.status, stdout: redact(r.stdout, secrets()), debug: redact(r.stderr, secrets()), ms: Date.now() - start };
    return out;
  };
  const failure = (what: string, r: { stdout: string; debug: string }) =>
    new Error(`${what}\n--- lftp:\n${r.stdout}${r.debug}\n--- vsftpd:\n${redact(tailFile(path.join(root, "work", "log", "vsftpd.log"), 20), secrets())}`);

  beforeAll(async () => {
    expect(guest).toBeDefined();
    root = tempDir("ftp");
    conf = path.join(root, "share", "services", "ftp", "conf");
    www = path.join(root, "share", "www");
    fs.mkdirSync(www, { recursive: true });
    writeBundle(ftp.users);
    // Homes as the program makes them: created and given to the guest account vsftpd writes as.
    runHomes(await programHomesScript(ftp));

    ns = createNetns("ftp");
    ns.execOk("ip", ["addr", "add", `${nodeIp}/32`, "dev", "lo"]);
    vsftpd = startDaemon({
      name: "vsftpd",
      command: "unshare",
      args: ["--mount", "--propagation", "private", "sh", CONTAINER_SCRIPT, path.join(root, "work"), conf, www, nodeIp],
      netns: ns.name,
      logFile: path.join(root, "vsftpd.out"),
    });
    try {
      await waitForPort(nodeIp, ftp.listenPort, { netns: ns.name, timeoutMs: 30000 });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${vsftpd.log()}`);
    }
  }, 90000);

  afterAll(async () => {
    await cleanupAll();
  }, 60000);

  it("renders the share files the container reads, unchanged: vsftpd.conf, the PAM service, the users file", () => {
    expect(fs.readFileSync(path.join(conf, "vsftpd-virtual.pam"), "utf8")).toContain("auth required pam_pwdfile.so pwdfile=/etc/vsftpd/users.passwd\n");
    expect(fs.readFileSync(path.join(conf, "vsftpd.conf"), "utf8")).toContain(`pasv_min_port=${ftp.passivePorts.min}\npasv_max_port=${ftp.passivePorts.max}\n`);
    const lines = fs.readFileSync(path.join(conf, FTP_DEFAULTS.usersFile), "utf8").trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual(ftp.users);
    for (const l of lines) expect(l).toMatch(/^[a-z0-9_-]+:\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    for (const p of secrets()) expect(lines.join("\n")).not.toContain(p);
  });

  it("each declared user logs in with its generated password in passive mode and uploads into www/<user>", () => {
    for (const user of ftp.users) {
      const local = path.join(root, `upload-${user}.txt`);
      fs.writeFileSync(local, `site of ${user}\n`);
      const r = lftp(user, passwords[user], ["quote PWD", `put ${local} -o index-${user}.txt`, "cls -1"]);
      if (r.status !== 0) throw failure(`${user}: login and upload failed`, r);
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
      figure(`ftp session of ${user} (login, PWD, upload, list)`, r.ms);
    }
  }, 120000);

  it("keeps each user inside its home: cd .., absolute paths and ../ uploads stay in www/<user>", () => {
    const [user, other] = ftp.users;
    const local = path.join(root, "escape.txt");
    fs.writeFileSync(local, "escape\n");
    const stolen = path.join(root, "stolen");
    const r = lftp(
      user,
      passwords[user],
      [
        "cd ..",
        "quote PWD",
        "cls -1 /",
        `put ${local} -o ../../escape.txt`,
        `put ${local} -o /../${other}/escape.txt`,
        "cd /etc",
        `get /etc/passwd -o ${stolen}`,
        `cls -1 /${other}`,
        `cd ${FTP_DEFAULTS.containerWwwDir}/${other}`,
      ],
      { failExit: false },
    );
    expect(r.stdout).toContain('257 "/" is the current directory');
    // The listing of "/" is the user's own home.
    expect(r.stdout.split("\n").filter((l) => l.startsWith("/"))).toEqual([`/index-${user}.txt`]);
    // Both "escapes" landed inside the home (the second as www/<user>/<other>/… does not exist, so it failed).
    expect(fs.existsSync(path.join(www, user, "escape.txt"))).toBe(true);
    expect(fs.existsSync(path.join(www, "escape.txt"))).toBe(false);
    expect(fs.existsSync(path.join(root, "share", "escape.txt"))).toBe(false);
    expect(fs.existsSync(path.join(www, other, "escape.txt"))).toBe(false);
    expect(fs.existsSync(stolen)).toBe(false);
    expect(r.debug).toMatch(/cd: Access failed: 550 Failed to change directory\. \(\/etc\)/);
    expect(r.debug).toMatch(/get: Access failed: 550 Failed to open file\. \(\/etc\/passwd\)/);
    expect(r.debug).toMatch(new RegExp(`cd: Access failed: 550 Failed to change directory\\. \\(${FTP_DEFAULTS.containerWwwDir}/${other}\\)`));
  }, 120000);

  it("refuses a wrong password, another user's password and an unknown user", () => {
    const [user, other] = ftp.users;
    for (const [name, password] of [[user, "wrong-password"], [user, passwords[other]], ["intruder", passwords[user]]]) {
      const r = lftp(name, password, ["ls"]);
      expect(r.status).not.toBe(0);
      expect(r.debug).toContain("530 Login incorrect.");
      figure(`refused login of ${name}`, r.ms);
    }
    expect(fs.readFileSync(path.join(root, "work", "log", "vsftpd.log"), "utf8")).toMatch(/FAIL LOGIN/);
  }, 120000);

  let homesForThree = "";

  it("after a user is added to the settings and the users file is rendered again, every earlier user still logs in", async () => {
    const before = fs.readFileSync(path.join(conf, FTP_DEFAULTS.usersFile), "utf8").trim().split("\n");
    const three = ftpSettings(["customer3"]).ftp;
    expect(three.users).toEqual([...ftp.users, "customer3"]);
    passwords.customer3 = generatedPassword(24); // a new RandomPassword; the others are keyed by their user
    const bundle = renderFtpBundle(three, users(three.users), saltKey);
    const usersFile = bundle.files.find((f) => f.path.endsWith(`/${FTP_DEFAULTS.usersFile}`))!;
    // Written as NodeFile writes it (temp file + rename) into the live share; vsftpd keeps running.
    writeLikeNodeFile(path.join(conf, FTP_DEFAULTS.usersFile), usersFile.content, usersFile.mode);
    const after = fs.readFileSync(path.join(conf, FTP_DEFAULTS.usersFile), "utf8").trim().split("\n");
    expect(after.slice(0, before.length)).toEqual(before); // earlier users' lines: identical bytes
    expect(after).toHaveLength(3);
    homesForThree = await programHomesScript(three);
    runHomes(homesForThree);
    for (const user of three.users) {
      const r = lftp(user, passwords[user], ["quote PWD"]);
      if (r.status !== 0) throw failure(`${user} cannot log in after customer3 was added`, r);
      expect(r.stdout).toContain('257 "/" is the current directory');
    }
    expect(vsftpd.alive()).toBe(true);
  }, 120000);

  // The homes command once created www/<user> as root and never gave it to the account vsftpd
  // writes as (guest_username=ftp with virtual_use_local_privs=YES): every upload was refused
  // with "553 Could not create file". It now chowns each home to services.ftp.homeOwner.
  it("a user whose home the program created uploads into it", () => {
    const local = path.join(root, "upload-customer3.txt");
    fs.writeFileSync(local, "site of customer3\n");
    const home = fs.statSync(path.join(www, "customer3"));
    // eslint-disable-next-line no-console
    console.log(`www/customer3 as the program created it: uid ${home.uid}, mode ${(home.mode & 0o777).toString(8)}; vsftpd writes as ${FTP_DEFAULTS.guestUsername} (uid ${guest!.uid})`);
    const r = lftp("customer3", passwords.customer3, [`put ${local} -o index.html`]);
    if (r.status !== 0) {
      // eslint-disable-next-line no-console
      console.log(`upload of customer3 refused: ${(/553 [^\n]*/.exec(r.debug) ?? ["?"])[0]}`);
    }
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(www, "customer3", "index.html"))).toBe(true);
  }, 120000);

  it("took a measured time overall", () => {
    expect(homesForThree).toContain(`mkdir -p ${FTP_DEFAULTS.wwwDir}/customer3`);
    figure("ftp tier, total", Date.now() - t0);
  });
});
