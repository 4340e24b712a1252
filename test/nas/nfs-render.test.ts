/**
 * The managed-NAS scripts, run by a real sh against a scratch exports file and share
 * folder (exportfs is replaced by a recorder: the real one would touch this machine's
 * NFS server). What matters: our line is added once, rewritten in place, removed on
 * teardown, other lines stay, and no file on the share is ever removed.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SHARED_TREE, renderNfsExportScript, renderNfsUnexportScript } from "../../components/nas/nfs-render";
import { expectGolden } from "../golden";
import { describeWith, shellcheck } from "../support/prereq";

let dir: string;
let spec: Parameters<typeof renderNfsExportScript>[0];

function run(script: string): { status: number | null; stderr: string } {
  const env = { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}` };
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env });
  return { status: r.status, stderr: r.stderr };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nfs-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin", "exportfs"), `#!/bin/sh\necho "exportfs $*" >>"${dir}/exportfs.log"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "exports"), "/srv/other 192.168.1.0/24(ro) # someone else's\n");
  spec = { marker: "xen-coreos:lab", exportPath: path.join(dir, "share"), clients: "10.50.0.0/24", exportOptions: ["rw", "sync", "no_subtree_check"], exportsFile: path.join(dir, "exports") };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const exportsText = () => fs.readFileSync(path.join(dir, "exports"), "utf8");

describe("managed NFS export", () => {
  it("golden scripts", () => {
    const fixed = { ...spec, exportPath: "/nfs/NFS", exportsFile: undefined };
    expectGolden("nas/export.sh", renderNfsExportScript(fixed));
    expectGolden("nas/unexport.sh", renderNfsUnexportScript(fixed));
  });

  it("adds one line for the cluster network, creates the shared tree, re-exports", () => {
    expect(run(renderNfsExportScript(spec)).status).toBe(0);
    expect(exportsText()).toBe(`/srv/other 192.168.1.0/24(ro) # someone else's\n${spec.exportPath} 10.50.0.0/24(rw,sync,no_subtree_check) # xen-coreos:lab\n`);
    for (const sub of SHARED_TREE) expect(fs.statSync(path.join(spec.exportPath, sub)).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(dir, "exportfs.log"), "utf8")).toBe("exportfs -ra\n");
  });

  it("re-running rewrites its own line instead of adding another", () => {
    run(renderNfsExportScript(spec));
    run(renderNfsExportScript({ ...spec, exportOptions: ["rw", "async"] }));
    expect(exportsText().match(/xen-coreos:lab/g)).toHaveLength(1);
    expect(exportsText()).toContain("10.50.0.0/24(rw,async) # xen-coreos:lab");
  });

  it("another stack's line with a longer name is left alone", () => {
    fs.appendFileSync(path.join(dir, "exports"), "/srv/lab2 10.51.0.0/24(rw) # xen-coreos:lab2\n");
    run(renderNfsExportScript(spec));
    run(renderNfsUnexportScript(spec));
    expect(exportsText()).toBe("/srv/other 192.168.1.0/24(ro) # someone else's\n/srv/lab2 10.51.0.0/24(rw) # xen-coreos:lab2\n");
  });

  it("teardown removes the export line and keeps every file on the share", () => {
    run(renderNfsExportScript(spec));
    const site = path.join(spec.exportPath, "www", "customer1", "index.html");
    fs.mkdirSync(path.dirname(site), { recursive: true });
    fs.writeFileSync(site, "<h1>customer data</h1>");
    expect(run(renderNfsUnexportScript(spec)).status).toBe(0);
    expect(exportsText()).toBe("/srv/other 192.168.1.0/24(ro) # someone else's\n");
    expect(fs.readFileSync(site, "utf8")).toBe("<h1>customer data</h1>");
    expect(renderNfsUnexportScript(spec)).not.toMatch(/\brm\b|rmdir/);
  });

  it("a hostile export path stays one path", () => {
    const hostile = path.join(dir, "we'ird $(touch pwned) dir");
    expect(run(renderNfsExportScript({ ...spec, exportPath: hostile })).status).toBe(0);
    expect(fs.existsSync(path.join(hostile, "www"))).toBe(true);
    expect(fs.existsSync("pwned")).toBe(false);
  });
});

describeWith(["shellcheck"], "lint of generated shell")("shellcheck on the NFS scripts", () => {
  it("both are clean", () => {
    expect(shellcheck(renderNfsExportScript(spec))).toBe("");
    expect(shellcheck(renderNfsUnexportScript(spec))).toBe("");
  });
});
