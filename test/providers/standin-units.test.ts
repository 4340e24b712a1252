/**
 * The stand-ins' pieces without the engine: check/diff semantics, value handling, local
 * runs, key parsing, bcrypt (against libxcrypt through perl's crypt when it has bcrypt)
 * and password generation. The engine-level proof is standins.test.ts.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as cmd from "../../scripts/providers/command-standin";
import * as rnd from "../../scripts/providers/random-standin";
import { bcryptHash, bcryptVerify, bcryptWithSettingsOf } from "../../scripts/providers/lib/bcrypt";
import { runLocal } from "../../scripts/providers/lib/local-run";
import { fingerprint, parseAuthorizedKey, parsePrivateKey } from "../../scripts/providers/lib/ssh";
import { SECRET_SIG, SIG_KEY, UNKNOWN, changedKeys, goQuote, isSecret, reveal, secret } from "../../scripts/providers/lib/values";

const LOCAL = "urn:pulumi:s::p::command:local:Command::c";
const REMOTE = "urn:pulumi:s::p::parent:Type$command:remote:Command::r";
const RID = "urn:pulumi:s::p::random:index/randomId:RandomId::id";
const RPW = "urn:pulumi:s::p::random:index/randomPassword:RandomPassword::pw";

describe("command stand-in: check", () => {
  it("gives addPreviousOutputInEnv no default (as the real schema) and keeps the inputs as given", async () => {
    for (const urn of [LOCAL, REMOTE]) {
      const news = urn === LOCAL ? { create: "echo", stdin: secret("s") } : { create: "echo", connection: { host: "h" } };
      const r = await cmd.check(urn, {}, news);
      expect(r.failures).toEqual([]);
      expect(Object.keys(r.inputs)).not.toContain("addPreviousOutputInEnv");
    }
    expect((await cmd.check(LOCAL, {}, { create: "echo", addPreviousOutputInEnv: false })).inputs.addPreviousOutputInEnv).toBe(false);
  });

  it("an unset addPreviousOutputInEnv acts as true (commandOutputs.go: nil or true), false hides the output", async () => {
    const olds = { create: "echo c", stdout: "prev", stderr: "" };
    const unset = await cmd.update("id", LOCAL, olds, { create: 'echo "c ${PULUMI_COMMAND_STDOUT:-none}"' });
    expect(unset.outs?.stdout).toBe("c prev");
    expect(Object.keys(unset.outs ?? {})).not.toContain("addPreviousOutputInEnv");
  });

  it("fills the connection defaults (also of a proxy) and makes the connection a secret", async () => {
    const r = await cmd.check(REMOTE, {}, { connection: { host: "h", proxy: { host: "j", port: 2222 } } });
    expect(r.failures).toEqual([]);
    expect(isSecret(r.inputs.connection)).toBe(true);
    expect(reveal(r.inputs.connection)).toEqual({
      host: "h", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15,
      proxy: { host: "j", port: 2222, user: "root", dialErrorLimit: 10, perDialTimeout: 15 },
    });
  });

  it("reports a missing connection or host, and an unknown logging mode", async () => {
    expect((await cmd.check(REMOTE, {}, {})).failures).toEqual([expect.objectContaining({ property: "connection" })]);
    expect((await cmd.check(REMOTE, {}, { connection: { port: 22 } })).failures).toEqual([expect.objectContaining({ property: "connection.host" })]);
    expect((await cmd.check(LOCAL, {}, { logging: "all" })).failures).toEqual([expect.objectContaining({ property: "logging" })]);
  });

  it("leaves unknown values alone (preview)", async () => {
    const r = await cmd.check(REMOTE, {}, { connection: UNKNOWN, create: UNKNOWN });
    expect(r.failures).toEqual([]);
    expect(reveal(r.inputs.connection)).toBe(UNKNOWN);
  });
});

describe("command stand-in: diff", () => {
  const olds = { create: "a", triggers: [1], connection: secret({ host: "h", port: 22 }), stdout: "out", addPreviousOutputInEnv: true };

  it("no change: changes false (outputs such as stdout are not inputs)", async () => {
    const news = { create: "a", triggers: [1], connection: secret({ host: "h", port: 22 }), addPreviousOutputInEnv: true };
    expect(await cmd.diff("id", REMOTE, olds, news)).toEqual({ changes: false });
  });

  it("a changed trigger replaces, even with an update command", async () => {
    const d = await cmd.diff("id", REMOTE, olds, { ...olds, update: "u", triggers: [2] });
    expect(d.replaces).toEqual(["triggers"]);
    expect(d.deleteBeforeReplace).toBe(false);
    expect(d.changes).toBeUndefined(); // the engine works out the changed keys (see diff's comment)
  });

  it("create, stdin and connection changes are updates, not replacements", async () => {
    for (const change of [{ create: "b" }, { stdin: "x" }, { connection: secret({ host: "other", port: 22 }) }]) {
      const d = await cmd.diff("id", REMOTE, olds, { ...olds, ...change });
      expect(d.changes).not.toBe(false);
      expect(d.replaces).toEqual([]);
    }
  });

  it("an unknown new value is a change", async () => {
    expect((await cmd.diff("id", LOCAL, { create: "a" }, { create: UNKNOWN })).changes).not.toBe(false);
  });
});

describe("command stand-in: create/update/delete of local commands", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-standin-units-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("create without a create command runs nothing and has empty outputs", async () => {
    const r = await cmd.create(LOCAL, { delete: "true", addPreviousOutputInEnv: true });
    expect(r.id).toMatch(/^c[0-9a-f]{8}$/);
    expect(r.outs).toEqual({ delete: "true", addPreviousOutputInEnv: true, stdout: "", stderr: "" });
  });

  it("update without update/create keeps the previous outputs; update with neither env nor previous output works", async () => {
    const r = await cmd.update("id", LOCAL, { stdout: "o", stderr: "e" }, { triggers: [1] });
    expect(r.outs).toEqual({ triggers: [1], stdout: "o", stderr: "e" });
  });

  it("update prefers `update`; addPreviousOutputInEnv false hides the previous output", async () => {
    const olds = { create: "echo c", stdout: "prev", stderr: "" };
    const u = await cmd.update("id", LOCAL, olds, { create: "echo c", update: 'echo "u ${PULUMI_COMMAND_STDOUT:-none}"' });
    expect(u.outs?.stdout).toBe("u prev");
    const hidden = await cmd.update("id", LOCAL, olds, { create: 'echo "c ${PULUMI_COMMAND_STDOUT:-none}"', addPreviousOutputInEnv: false });
    expect(hidden.outs?.stdout).toBe("c none");
  });

  it("delete runs `delete` with the state's environment and previous output", async () => {
    const f = path.join(dir, "deleted");
    await cmd.del("id", LOCAL, { delete: `echo "$X $PULUMI_COMMAND_STDOUT" > ${f}`, environment: { X: "x" }, stdout: "last" });
    expect(fs.readFileSync(f, "utf8")).toBe("x last\n");
  });

  it("secret inputs stay secret in the outputs; stdout is plain, as with the real provider", async () => {
    const r = await cmd.create(LOCAL, { create: secret("echo hi"), addPreviousOutputInEnv: true });
    expect(r.outs?.create).toEqual({ [SIG_KEY]: SECRET_SIG, value: "echo hi" });
    expect(r.outs?.stdout).toBe("hi");
  });
});

describe("runLocal", () => {
  const noLog = () => undefined;

  it("uses the interpreter, dir and environment; environment beats the provider's own", async () => {
    process.env.STANDIN_UNIT_VAR = "from-provider";
    try {
      const r = await runLocal("print(__import__('os').getcwd(), __import__('os').environ['STANDIN_UNIT_VAR'])", {
        interpreter: ["python3", "-c"], dir: "/", environment: { STANDIN_UNIT_VAR: "from-inputs" }, log: noLog,
      });
      expect(r.stdout).toBe("/ from-inputs");
    } finally {
      delete process.env.STANDIN_UNIT_VAR;
    }
  });

  it("trims exactly one trailing newline, and an empty stdin reads as end of file", async () => {
    expect((await runLocal("printf 'a\\n\\n'; cat", { stdin: "", log: noLog })).stdout).toBe("a\n");
  });

  it("logs lines of both streams per `logging`", async () => {
    const lines: string[] = [];
    await runLocal("echo out; echo err >&2", { logging: "stderr", log: (l) => lines.push(l) });
    expect(lines).toEqual(["err"]);
    lines.length = 0;
    await runLocal("echo out; echo err >&2", { logging: "none", log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });

  it("reports failures like Go's os/exec", async () => {
    await expect(runLocal("echo o; echo e >&2; exit 3", { log: noLog })).rejects.toThrow('exit status 3: running "echo o; echo e >&2; exit 3":\no\ne\n');
    await expect(runLocal("kill -TERM $$", { log: noLog })).rejects.toThrow(/^signal: terminated: running/);
    await expect(runLocal("true", { dir: "/nonexistent-dir", log: noLog })).rejects.toThrow("chdir /nonexistent-dir: no such file or directory");
    await expect(runLocal("true", { interpreter: ["/no/such/shell"], log: noLog })).rejects.toThrow("fork/exec /no/such/shell: no such file or directory");
  });
});

describe("values", () => {
  it("goQuote escapes like Go's %q", () => {
    expect(goQuote('a "b"\n\t\\ é\x01')).toBe('"a \\"b\\"\\n\\t\\\\ é\\x01"');
  });

  it("changedKeys compares revealed values; a missing key equals null", () => {
    expect(changedKeys({ a: secret("x"), b: null }, { a: "x" }, ["a", "b"])).toEqual([]);
    expect(changedKeys({ a: { k: [1, 2] } }, { a: { k: [1, 3] } }, ["a"])).toEqual(["a"]);
  });
});

describe("ssh keys", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-standin-keys-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const haveKeygen = spawnSync("ssh-keygen", ["-?"]).error === undefined;
  (haveKeygen ? it : it.skip)("parseAuthorizedKey reads authorized_keys lines; fingerprints match ssh-keygen", () => {
    const file = path.join(dir, "k");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "a comment", "-f", file]);
    const line = fs.readFileSync(`${file}.pub`, "utf8");
    const key = parseAuthorizedKey(line);
    expect(key.type).toBe("ssh-ed25519");
    expect(parseAuthorizedKey(line.split(" ")[1]).blob).toEqual(key.blob);
    expect(parseAuthorizedKey(`no-pty ${line}`).blob).toEqual(key.blob);
    expect(execFileSync("ssh-keygen", ["-l", "-f", `${file}.pub`], { encoding: "utf8" })).toContain(fingerprint(key.blob));
    expect(() => parseAuthorizedKey("not a key")).toThrow("ssh: no key found");
  });

  it("parsePrivateKey takes PKCS#8 keys of every kind node:crypto makes, encrypted too", () => {
    for (const [type, opts] of [["ed25519", {}], ["rsa", { modulusLength: 2048 }], ["ec", { namedCurve: "prime256v1" }]] as const) {
      const { privateKey } = crypto.generateKeyPairSync(type as "ed25519", opts as object);
      expect(parsePrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString()).isPrivateKey()).toBe(true);
    }
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    const enc = privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }).toString();
    expect(parsePrivateKey(enc, "pw").type).toBe("ssh-ed25519");
    expect(() => parsePrivateKey("garbage")).toThrow(/^ssh: /);
  });
});

describe("random stand-in", () => {
  it("RandomPassword check: the real defaults, the number alias, and the minimums' sum", async () => {
    const r = await rnd.check(RPW, {}, { length: 16 });
    expect(r.failures).toEqual([]);
    expect(r.inputs).toEqual({
      length: 16, special: true, upper: true, lower: true, numeric: true, number: true,
      minUpper: 0, minLower: 0, minNumeric: 0, minSpecial: 0,
    });
    expect((await rnd.check(RPW, {}, { length: 8, number: false })).inputs).toMatchObject({ numeric: false, number: false });
    expect((await rnd.check(RPW, {}, { length: 3, minUpper: 2, minLower: 2 })).failures).toEqual([
      { property: "length", reason: "length (3) must be >= min_upper + min_lower + min_numeric + min_special (4)" },
    ]);
    expect((await rnd.check(RPW, {}, {})).failures).toEqual([expect.objectContaining({ property: "length" })]);
    expect((await rnd.check(RID, {}, { byteLength: 0 })).failures).toEqual([expect.objectContaining({ property: "byteLength" })]);
  });

  it("every input change replaces", async () => {
    const d = await rnd.diff("id", RID, { byteLength: 8, keepers: { a: "1" }, hex: "x" }, { byteLength: 8, keepers: { a: "2" } });
    expect(d.replaces).toEqual(["keepers"]);
    expect(await rnd.diff("id", RID, { byteLength: 8, hex: "x" }, { byteLength: 8 })).toEqual({ changes: false });
  });

  it("RandomId values: prefix on every form but the id", () => {
    const v = rnd.randomIdValues(Buffer.from([0xff, 0x00, 0x10]), "p-");
    expect(v).toEqual({ id: "_wAQ", hex: "p-ff0010", b64Std: "p-/wAQ", b64Url: "p-_wAQ", dec: "p-16711696" });
  });

  it("RandomPassword create: secret result and hash, minimums honoured, override specials used", async () => {
    const inputs = (await rnd.check(RPW, {}, { length: 30, minSpecial: 5, minNumeric: 3, overrideSpecial: "~^", upper: false })).inputs;
    const r = await rnd.create(RPW, inputs);
    expect(r.id).toBe("none");
    const result = reveal(r.outs.result) as string;
    expect(isSecret(r.outs.result)).toBe(true);
    expect(isSecret(r.outs.bcryptHash)).toBe(true);
    expect(result).toHaveLength(30);
    expect(result).toMatch(/^[a-z0-9~^]+$/);
    expect(result.replace(/[^~^]/g, "").length).toBeGreaterThanOrEqual(5);
    expect(result.replace(/[^0-9]/g, "").length).toBeGreaterThanOrEqual(3);
    expect(bcryptVerify(result, reveal(r.outs.bcryptHash) as string)).toBe(true);
  });
});

describe("bcrypt", () => {
  it("matches the published test vector", () => {
    expect(bcryptWithSettingsOf("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.")).toBe("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
  });

  it("uses at most 72 bytes of the password, as Go's bcrypt does", () => {
    const salt = Buffer.alloc(16, 7);
    expect(bcryptHash("x".repeat(72) + "tail", 4, salt)).toBe(bcryptHash("x".repeat(72), 4, salt));
  });

  const perlHasBcrypt = spawnSync("perl", ["-e", 'print crypt("U*U", q{$2a$05$CCCCCCCCCCCCCCCCCCCCC.})'], { encoding: "utf8" }).stdout?.endsWith("JKvyOeW");
  (perlHasBcrypt ? it : it.skip)("agrees with libxcrypt's crypt(3) on random passwords", () => {
    for (const pw of ["", "a", "pässwörd", crypto.randomBytes(20).toString("base64"), "!@#$%&*()-_=+[]{}<>:?"]) {
      const h = bcryptHash(pw, 4);
      const r = spawnSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", pw, h], { encoding: "utf8" });
      expect(r.stdout).toBe(h);
    }
  });
});
