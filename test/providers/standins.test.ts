/**
 * The provider stand-ins (scripts/providers) under the REAL Pulumi engine: the CLI built by
 * .ci/pulumi-toolchain.sh runs inline programs through the Automation API, and finds
 * `pulumi-resource-command` / `pulumi-resource-random` as ambient plugins because
 * scripts/providers/bin is first on its PATH (automatic plugin acquisition is off, and the
 * plugin cache of the temporary PULUMI_HOME is empty, so nothing else could serve them).
 *
 * Remote commands run against a real sshd on 127.0.0.1 (its own host key, config and
 * authorized_keys in a temporary directory), started for this file and stopped after it.
 *
 * Without the CLI (or sshd) a tier is skipped with a one-line reason; under CI=true that is
 * a failure instead.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { bcryptVerify } from "../../scripts/providers/lib/bcrypt";
import { closeHeldConnections, dial, runRemote, SshLog } from "../../scripts/providers/lib/ssh";
import { STANDIN_BIN, cliMissing, describeIf, eventsMentioning, isSdkResponseEcho, newStack as newEngineStack, withEvents } from "../support/engine";
import { Sshd, keygen, sshdMissing as sshdMissingReason, startSshd } from "../support/sshd";

const sshdMissing = sshdMissingReason();

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-standins-"));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A stack of an inline program in its own workspace, state and PULUMI_HOME under `tmp`. */
function newStack(name: string, program: () => Promise<Record<string, unknown>>): Promise<Stack> {
  return newEngineStack({ baseDir: tmp, stackName: name, projectName: "standins", program });
}

const logLines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : []);

describeIf(cliMissing)("provider stand-ins under the real engine: local commands and random", () => {
  jest.setTimeout(90_000);

  // What the program declares; the tests change it between operations.
  const s = { cVersion: "v1", tGen: "1", keeper: "k1", dIn: "a" };
  let log: string;
  let stack: Stack;
  let first: { c: string; t: string; hex: string };

  beforeAll(async () => {
    log = path.join(tmp, "lifecycle.log");
    stack = await newStack("lifecycle", async () => {
      // `c`: no update command, so a change of `create` runs `create` again, in place.
      const c = new command.local.Command("c", {
        create: `echo "run c ${s.cVersion}" >> "$LOG"; echo "${s.cVersion} prev=\${PULUMI_COMMAND_STDOUT:-none} in=$(cat)"`,
        delete: `echo "delete c $PULUMI_COMMAND_STDOUT" >> "$LOG"`,
        stdin: "hello",
        environment: { LOG: log },
      });
      // `t`: an update command, yet a change of `triggers` replaces it (create, then delete).
      const t = new command.local.Command("t", {
        create: `echo "create t $GEN" >> "$LOG"; echo "t-$GEN"`,
        update: `echo "update t $GEN" >> "$LOG"; echo "t-updated"`,
        delete: `echo "delete t $PULUMI_COMMAND_STDOUT" >> "$LOG"`,
        environment: { LOG: log, GEN: s.tGen },
        triggers: [s.tGen],
      });
      // A program's own replaceOnChanges (as ConfigDrive uses) applies to the stand-in's diff too.
      const d = new command.local.Command("d", { create: "cat", stdin: s.dIn }, { replaceOnChanges: ["stdin"] });
      // Like the discovery token: nothing logged, output kept only as a secret.
      const quiet = new command.local.Command(
        "quiet",
        // (the printed text is computed, so that it is not in the command's own text)
        { create: "echo quiet-$((4000+1))-marker; echo quiet-err-4f1c >&2", logging: "none" },
        { additionalSecretOutputs: ["stdout"] },
      );
      const id = new random.RandomId("id", { byteLength: 8, keepers: { k: s.keeper } });
      const pw = new random.RandomPassword("pw", { length: 24, minSpecial: 2, minNumeric: 2 });
      return {
        c: c.stdout, t: t.stdout, quiet: quiet.stdout, quietErr: quiet.stderr,
        hex: id.hex, dec: id.dec, b64Url: id.b64Url, b64Std: id.b64Std, idId: id.id,
        pw: pw.result, pwHash: pw.bcryptHash, cUrn: c.urn, quietUrn: quiet.urn, d: d.stdout,
      };
    });
  });

  let upEvents: EngineEvent[];

  it("up: creates, captures stdout, logs it unless logging is none", async () => {
    const { result: up, events } = await withEvents((onEvent) => stack.up({ onEvent }));
    upEvents = events;
    const o = up.outputs;
    expect(up.summary.resourceChanges).toMatchObject({ create: 7 });
    expect(o.c.value).toBe("v1 prev=none in=hello");
    expect(o.t.value).toBe("t-1");
    expect(o.quiet).toMatchObject({ value: "quiet-4001-marker", secret: true });
    expect(o.quietErr.value).toBe("quiet-err-4f1c");
    first = { c: o.c.value, t: o.t.value, hex: o.hex.value };

    // The plugins really were the stand-ins, found on PATH.
    const warnings = events.map((e) => e.diagnosticEvent?.message ?? "").filter((m) => m.includes("from $PATH"));
    expect(warnings.some((m) => m.includes(path.join(STANDIN_BIN, "pulumi-resource-command")))).toBe(true);
    expect(warnings.some((m) => m.includes(path.join(STANDIN_BIN, "pulumi-resource-random")))).toBe(true);

    // Output lines are streamed to the engine as the resource's status messages...
    const cLogs = events.filter((e) => e.diagnosticEvent?.urn === o.cUrn.value).map((e) => e.diagnosticEvent);
    expect(cLogs).toEqual(expect.arrayContaining([expect.objectContaining({ message: "v1 prev=none in=hello\n", severity: "info", ephemeral: true })]));
    // ...but with logging "none" nothing is, and the secret stdout appears nowhere but the SDK's own echo.
    expect(events.filter((e) => e.diagnosticEvent?.urn === o.quietUrn.value)).toEqual([]);
    expect(eventsMentioning(events, "quiet-4001-marker").filter((e) => !isSdkResponseEcho(e))).toEqual([]);
  });

  it("RandomId: hex, dec, base64 forms of the same random bytes", async () => {
    const o = (await stack.outputs());
    const bytes = Buffer.from(o.hex.value, "hex");
    expect(bytes).toHaveLength(8);
    expect(o.dec.value).toBe(BigInt("0x" + o.hex.value).toString());
    expect(o.b64Std.value).toBe(bytes.toString("base64"));
    expect(o.b64Url.value).toBe(bytes.toString("base64url"));
    expect(o.idId.value).toBe(bytes.toString("base64url"));
  });

  it("RandomPassword: a secret result and bcrypt hash, never in the event log", async () => {
    const o = await stack.outputs();
    expect(o.pw.secret).toBe(true);
    expect(o.pwHash.secret).toBe(true);
    const pw: string = o.pw.value;
    expect(pw).toHaveLength(24);
    expect(pw.replace(/[^!@#$%&*()\-_=+[\]{}<>:?]/g, "").length).toBeGreaterThanOrEqual(2);
    expect(pw.replace(/[^0-9]/g, "").length).toBeGreaterThanOrEqual(2);
    expect(o.pwHash.value).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcryptVerify(pw, o.pwHash.value)).toBe(true);
    const perl = spawnSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", pw, o.pwHash.value], { encoding: "utf8" });
    if (perl.status === 0 && perl.stdout.startsWith("$2")) expect(perl.stdout).toBe(o.pwHash.value); // libxcrypt agrees

    expect(eventsMentioning(upEvents, pw).filter((e) => !isSdkResponseEcho(e))).toEqual([]);
    expect(eventsMentioning(upEvents, o.pwHash.value).filter((e) => !isSdkResponseEcho(e))).toEqual([]);
  });

  it("re-up with nothing changed: no changes, no command runs", async () => {
    const before = logLines(log).length;
    const up = await stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: 7 });
    expect(logLines(log)).toHaveLength(before);
    expect((await stack.outputs()).hex.value).toBe(first.hex);
  });

  it("preview of a changed create: an update is planned, nothing runs", async () => {
    s.cVersion = "v2";
    const before = logLines(log).length;
    const preview = await stack.preview();
    expect(preview.changeSummary).toMatchObject({ update: 1, same: 6 });
    expect(logLines(log)).toHaveLength(before);
  });

  it("a changed create is an update that runs create again, with the previous stdout in its environment", async () => {
    const up = await stack.up();
    expect(up.summary.resourceChanges).toEqual({ update: 1, same: 6 });
    expect(up.outputs.c.value).toBe(`v2 prev=${first.c} in=hello`);
    expect(logLines(log).slice(-1)).toEqual(["run c v2"]);
    expect(up.outputs.hex.value).toBe(first.hex); // RandomId stable across ups
  });

  it("changed triggers replace even with an update command: the new create runs before the old delete", async () => {
    s.tGen = "2";
    s.keeper = "k2";
    s.dIn = "b";
    const before = logLines(log).length;
    const up = await stack.up();
    expect(up.summary.resourceChanges).toEqual({ replace: 3, same: 4 });
    expect(up.outputs.d.value).toBe("b");
    expect(up.outputs.t.value).toBe("t-2");
    expect(logLines(log).slice(before)).toEqual(["create t 2", `delete t ${first.t}`]);
    expect(up.outputs.hex.value).not.toBe(first.hex); // new RandomId after a keepers change
    expect(up.outputs.hex.value).toMatch(/^[0-9a-f]{16}$/);
  });

  it("destroy runs each delete with PULUMI_COMMAND_STDOUT of the last run", async () => {
    const before = logLines(log).length;
    await stack.destroy();
    expect(logLines(log).slice(before).sort()).toEqual([`delete c v2 prev=${first.c} in=hello`, "delete t t-2"].sort());
  });
});

describeIf(cliMissing)("provider stand-ins under the real engine: a failing command", () => {
  jest.setTimeout(60_000);

  it("fails the update with the exit status, the command and its output", async () => {
    const stack = await newStack("failing", async () => {
      const f = new command.local.Command("f", { create: 'echo partial; echo "boom: disk full" >&2; exit 7' });
      return { out: f.stdout };
    });
    const err = await stack.up().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeDefined();
    const text = String(err?.message);
    expect(text).toContain('exit status 7: running "echo partial; echo \\"boom: disk full\\" >&2; exit 7"');
    expect(text).toContain("boom: disk full");
    expect(await stack.outputs()).toEqual({});
  });
});

// ---------------------------------------------------------------- remote commands over SSH

describeIf(cliMissing ?? sshdMissing)("provider stand-ins under the real engine: remote commands over SSH", () => {
  jest.setTimeout(90_000);

  let dir: string;
  let sshd: Sshd | undefined;
  let port: number;
  let user: string;
  let clientKey: string;
  let hostKey: string;

  beforeAll(async () => {
    dir = path.join(tmp, "sshd");
    user = os.userInfo().username;
    // One variable for `environment`, and the previous-output variable for `delete`.
    sshd = await startSshd({ dir, acceptEnv: ["XENCOREOS_TEST_VAR", "PULUMI_COMMAND_STDOUT"] });
    ({ port, clientKey, hostKey } = sshd);
  });

  afterAll(async () => {
    closeHeldConnections(); // the SSH layer keeps every connection open, as the real provider does
    await sshd?.stop();
  });

  const connection = (extra: Partial<command.types.input.remote.ConnectionArgs> = {}): command.types.input.remote.ConnectionArgs => ({
    host: "127.0.0.1",
    port,
    user,
    privateKey: pulumi.secret(clientKey),
    hostKey,
    dialErrorLimit: 2,
    perDialTimeout: 10,
    ...extra,
  });

  it("create with stdin and environment, then delete with the previous stdout, over SSH", async () => {
    const marker = path.join(dir, "deleted.txt");
    const stack = await newStack("remote", async () => {
      const r = new command.remote.Command("r", {
        connection: connection(),
        create: 'IN=$(cat); echo "remote in=$IN var=$XENCOREOS_TEST_VAR user=$(id -un)"',
        delete: `echo "deleted $PULUMI_COMMAND_STDOUT" > ${marker}`,
        stdin: "hello-ssh",
        environment: { XENCOREOS_TEST_VAR: "v1" },
      });
      return { out: r.stdout, conn: r.connection };
    });
    const up = await stack.up();
    expect(up.outputs.out.value).toBe(`remote in=hello-ssh var=v1 user=${user}`);
    expect(up.outputs.conn.secret).toBe(true); // connection is a secret output, as in the real schema
    await stack.destroy();
    expect(fs.readFileSync(marker, "utf8").trim()).toBe(`deleted remote in=hello-ssh var=v1 user=${user}`);
  });

  it("a wrong hostKey fails the update with a clear error and runs nothing", async () => {
    keygen(path.join(dir, "other_key"), "not-the-host");
    const wrong = fs.readFileSync(path.join(dir, "other_key.pub"), "utf8").trim();
    const ran = path.join(dir, "ran.txt");
    const stack = await newStack("remote-hostkey", async () => {
      const r = new command.remote.Command("r", { connection: connection({ hostKey: wrong, dialErrorLimit: 0 }), create: `touch ${ran}` });
      return { out: r.stdout };
    });
    const err = await stack.up().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String(err?.message)).toMatch(/after 0 failed attempts: ssh: handshake failed: ssh: host key mismatch: 127\.0\.0\.1:\d+ presented ssh-ed25519 SHA256:\S+, but hostKey is ssh-ed25519 SHA256:\S+/);
    expect(fs.existsSync(ran)).toBe(false);
  });

  // The SSH layer directly (no engine): what the real provider does on the edges.
  const quietLog: SshLog = { status: () => undefined, warning: () => undefined, error: () => undefined };
  const base = () => ({ host: "127.0.0.1", port, user, privateKey: clientKey, hostKey, dialErrorLimit: 0, perDialTimeout: 10 });

  it("an environment variable sshd does not accept fails the run before the command runs", async () => {
    const errors: string[] = [];
    const client = await dial(base(), quietLog);
    const ran = path.join(dir, "env-ran.txt");
    await expect(
      runRemote(client, `touch ${ran}`, { environment: { NOT_ACCEPTED: "x" }, log: { ...quietLog, error: (m) => errors.push(m) }, output: () => undefined }),
    ).rejects.toThrow('could not set environment variable "NOT_ACCEPTED": ssh: setenv failed');
    expect(errors[0]).toMatch(/Unable to set 'NOT_ACCEPTED'.*AcceptEnv/s);
    expect(fs.existsSync(ran)).toBe(false);
  });

  it("a PKCS#8 private key (as node:crypto writes them) authenticates, and a proxy jump works", async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
    const x = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), x]);
    fs.appendFileSync(path.join(dir, "authorized_keys"), `ssh-ed25519 ${blob.toString("base64")} pkcs8\n`);
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const viaProxy = await dial({ ...base(), privateKey: pkcs8, proxy: base() }, quietLog);
    const result = await runRemote(viaProxy, "echo out; echo err >&2; exit 0", { log: quietLog, output: () => undefined });
    expect(result).toEqual({ stdout: "out", stderr: "err" });
  });
});
