/**
 * The node file set: the rendered write/remove scripts run by the real sh (as root, into a
 * scratch folder) with the rendered standard input, and checked by shellcheck.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkFileSet, renderNodeFilesRemoveScript, renderNodeFilesStdin, renderNodeFilesWriteScript, sha256 } from "../../components/node/node-files-render";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-files-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(script: string, stdin: string, env: Record<string, string> = {}) {
  const r = spawnSync("sh", ["-c", script], { input: stdin, encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const mode = (p: string) => (fs.statSync(p).mode & 0o7777).toString(8);

describe("node file sets", () => {
  it("writes every file with its mode and exact bytes, creating folders", () => {
    const files = [
      { path: `${dir}/etc/galera/galera.cnf`, content: "[mysqld]\nwsrep_on=ON\n", mode: 0o644 },
      { path: `${dir}/etc/galera/tls/node.key`, content: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", mode: 0o600 },
      { path: `${dir}/etc/galera/empty`, content: "", mode: 0o644 },
      { path: `${dir}/etc/galera/tricky`, content: "==> 0644 0000 /etc/passwd\n|x\n==> end\n\n\n", mode: 0o755 },
    ];
    const r = run(renderNodeFilesWriteScript("galera", files.map((f) => f.path)), renderNodeFilesStdin(files));
    expect(r.stderr).toContain("files galera: 4 written");
    expect(r.code).toBe(0);
    for (const f of files) {
      expect(fs.readFileSync(f.path, "utf8")).toBe(f.content);
      expect(mode(f.path)).toBe(f.mode.toString(8));
    }
    expect(mode(`${dir}/etc/galera/tls`)).toBe("755");
    expect(r.stdout.trim().split("\n")).toEqual(files.map((f) => f.path));
    expect(fs.readdirSync(`${dir}/etc/galera`).sort()).toEqual(["empty", "galera.cnf", "tls", "tricky"]);
  });

  it("a damaged transfer replaces nothing", () => {
    const target = `${dir}/a.conf`;
    fs.writeFileSync(target, "old\n");
    const files = [{ path: `${dir}/b.conf`, content: "b\n", mode: 0o644 }, { path: target, content: "new\n", mode: 0o644 }];
    const damaged = renderNodeFilesStdin(files).replace("|new", "|nex");
    const r = run(renderNodeFilesWriteScript("s", files.map((f) => f.path)), damaged);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/a\.conf: content does not match its sha256/);
    expect(fs.readFileSync(target, "utf8")).toBe("old\n");
    expect(fs.existsSync(`${dir}/b.conf`)).toBe(false);
    const truncated = renderNodeFilesStdin(files).replace("==> end\n", "");
    expect(run(renderNodeFilesWriteScript("s", files.map((f) => f.path)), truncated).stderr).toMatch(/must end with '==> end'/);
  });

  it("refuses a file that is not one of the set's paths", () => {
    const stdin = renderNodeFilesStdin([{ path: `${dir}/other`, content: "x\n", mode: 0o644 }]);
    const r = run(renderNodeFilesWriteScript("s", [`${dir}/mine`]), stdin);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is not one of this set's paths/);
    expect(fs.existsSync(`${dir}/other`)).toBe(false);
  });

  it("an update removes the files the set no longer owns (from the previous output), and delete removes the rest", () => {
    const a = { path: `${dir}/a`, content: "a\n", mode: 0o644 };
    const b = { path: `${dir}/b`, content: "b\n", mode: 0o644 };
    const first = run(renderNodeFilesWriteScript("s", [a.path, b.path]), renderNodeFilesStdin([a, b]));
    const second = run(renderNodeFilesWriteScript("s", [a.path]), renderNodeFilesStdin([a]), { PULUMI_COMMAND_STDOUT: first.stdout });
    expect(second.code).toBe(0);
    expect(fs.existsSync(b.path)).toBe(false);
    expect(fs.existsSync(a.path)).toBe(true);
    expect(run(renderNodeFilesRemoveScript("s", [a.path]), "").code).toBe(0);
    expect(fs.existsSync(a.path)).toBe(false);
    expect(run(renderNodeFilesRemoveScript("s", [a.path]), "").code).toBe(0);
  });

  it("the stdin is readable text with each file's sha256", () => {
    const stdin = renderNodeFilesStdin([{ path: "/etc/xen-coreos/web/nginx.conf", content: "worker_processes 2;\n", mode: 0o644 }]);
    expect(stdin).toBe(`==> 0644 ${sha256("worker_processes 2;\n")} /etc/xen-coreos/web/nginx.conf\n|worker_processes 2;\n==> end\n`);
  });

  it("refuses bad sets before anything runs", () => {
    expect(() => checkFileSet([])).toThrow(/at least one file/);
    expect(() => checkFileSet([{ path: "etc/x", mode: 0o644 }])).toThrow(/absolute, normalised/);
    expect(() => checkFileSet([{ path: "/etc/../x", mode: 0o644 }])).toThrow(/absolute, normalised/);
    expect(() => checkFileSet([{ path: "/etc/a b", mode: 0o644 }])).toThrow(/absolute, normalised/);
    expect(() => checkFileSet([{ path: "/a", mode: 0o644 }, { path: "/a", mode: 0o600 }])).toThrow(/twice/);
    expect(() => checkFileSet([{ path: "/mnt/nfs/www/site/x", mode: 0o644 }], ["/mnt/nfs/www"])).toThrow(/customer data/);
  });

  it("shellcheck passes on both scripts", () => {
    for (const script of [renderNodeFilesWriteScript("s", ["/a"]), renderNodeFilesRemoveScript("s", ["/a"])]) {
      const r = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });

  it("restarts the named units once every file is in place (the sandbox's systemctl stand-in records it)", () => {
    const log = `${dir}/systemctl.log`;
    const rules = { path: `${dir}/rules-save`, content: "*mangle\nCOMMIT\n", mode: 0o644 };
    const script = renderNodeFilesWriteScript("firewall", [rules.path], ["iptables-restore.service", "ip6tables-restore.service"]);
    const r = run(script, renderNodeFilesStdin([rules]), { PATH: `${path.join(__dirname, "..", "sandbox", "bin")}:${process.env.PATH}`, SYSTEMCTL_LOG: log });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(log, "utf8")).toBe("restart iptables-restore.service ip6tables-restore.service\n");
    expect(() => renderNodeFilesWriteScript("x", ["/a"], ["not a unit"])).toThrow(/not a systemd unit name/);
  });
});
