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
import { DEFAULT_EXPORT_OPTIONS, SHARED_TREE, renderNfsExportScript, renderNfsUnexportScript } from "../../components/nas/nfs-render";
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
  spec = { deploymentId: "0123456789abcdef", exportPath: path.join(dir, "share"), clients: ["10.50.0.101", "10.50.0.102", "10.50.0.103"], exportOptions: ["rw", "sync", "no_subtree_check", "root_squash"], exportsFile: path.join(dir, "exports") };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const exportsText = () => fs.readFileSync(path.join(dir, "exports"), "utf8");

describe("managed NFS export", () => {
  it("golden scripts", () => {
    const fixed = { ...spec, exportPath: "/nfs/NFS", exportsFile: undefined };
    expectGolden("nas/export.sh", renderNfsExportScript(fixed));
    expectGolden("nas/unexport.sh", renderNfsUnexportScript(fixed));
  });

  it("adds one line with one entry per node (root squashed), creates the shared tree, re-exports", () => {
    expect(run(renderNfsExportScript(spec)).status).toBe(0);
    const opts = "(rw,sync,no_subtree_check,root_squash)";
    expect(exportsText()).toBe(`/srv/other 192.168.1.0/24(ro) # someone else's\n${spec.exportPath} 10.50.0.101${opts} 10.50.0.102${opts} 10.50.0.103${opts} # xen-coreos:0123456789abcdef\n`);
    expect(fs.readFileSync(path.join(spec.exportPath, ".xen-coreos-deployment"), "utf8")).toBe("0123456789abcdef\n");
    for (const sub of SHARED_TREE) expect(fs.statSync(path.join(spec.exportPath, sub)).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(dir, "exportfs.log"), "utf8")).toBe("exportfs -ra\n");
  });

  it("re-running rewrites its own line instead of adding another", () => {
    run(renderNfsExportScript(spec));
    run(renderNfsExportScript({ ...spec, clients: ["10.50.0.101"], exportOptions: ["rw", "async", "root_squash"] }));
    expect(exportsText().match(/xen-coreos:0123456789abcdef/g)).toHaveLength(1);
    expect(exportsText()).toContain(" 10.50.0.101(rw,async,root_squash) # xen-coreos:0123456789abcdef");
  });

  it("another deployment's line whose marker merely ends like ours is left alone", () => {
    fs.appendFileSync(path.join(dir, "exports"), "/srv/lab2 10.51.0.0/24(rw) # xen-coreos:ff0123456789abcdef\n");
    run(renderNfsExportScript(spec));
    run(renderNfsUnexportScript(spec));
    expect(exportsText()).toBe("/srv/other 192.168.1.0/24(ro) # someone else's\n/srv/lab2 10.51.0.0/24(rw) # xen-coreos:ff0123456789abcdef\n");
  });

  it("a second deployment (same stack name, other project or backend) on the same export is refused and writes nothing", () => {
    expect(run(renderNfsExportScript({ ...spec, legacyMarker: "xen-coreos:lab" })).status).toBe(0);
    fs.mkdirSync(path.join(spec.exportPath, "www", "customer1"));
    fs.writeFileSync(path.join(spec.exportPath, "www", "customer1", "index.html"), "first deployment's file\n");
    const before = exportsText();
    const other = run(renderNfsExportScript({ ...spec, deploymentId: "fedcba9876543210", legacyMarker: "xen-coreos:lab" }));
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`xen-coreos: NFS export ${spec.exportPath}: ${spec.exportPath} is in use by another xen-coreos deployment (0123456789abcdef`);
    expect(exportsText()).toBe(before);
    // Its teardown touches neither the first deployment's line nor its claim.
    expect(run(renderNfsUnexportScript({ ...spec, deploymentId: "fedcba9876543210" })).status).toBe(0);
    expect(exportsText()).toBe(before);
    expect(fs.readFileSync(path.join(spec.exportPath, ".xen-coreos-deployment"), "utf8")).toBe("0123456789abcdef\n");
    expect(fs.readFileSync(path.join(spec.exportPath, "www", "customer1", "index.html"), "utf8")).toBe("first deployment's file\n");
  });

  it("an export an older version managed (marker xen-coreos:<stack>, no owner yet) is taken over once", () => {
    fs.appendFileSync(path.join(dir, "exports"), `${spec.exportPath} 10.50.0.0/24(rw) # xen-coreos:lab\n`);
    expect(run(renderNfsExportScript({ ...spec, legacyMarker: "xen-coreos:lab" })).status).toBe(0);
    expect(exportsText()).toContain(`${spec.exportPath} 10.50.0.101(rw,sync,no_subtree_check,root_squash) `);
    expect(exportsText()).not.toContain("xen-coreos:lab");
  });

  it("refuses root on the share (no_root_squash, or root_squash left out) and clients beyond addresses and networks", () => {
    expect(() => renderNfsExportScript({ ...spec, exportOptions: ["rw", "no_root_squash"] })).toThrow(/no_root_squash .*refused/);
    expect(() => renderNfsExportScript({ ...spec, exportOptions: ["rw", "root_squash", "no_root_squash"] })).toThrow(/no_root_squash/);
    expect(() => renderNfsExportScript({ ...spec, exportOptions: ["rw", "sync"] })).toThrow(/must include root_squash/);
    expect(() => renderNfsExportScript({ ...spec, clients: ["*"] })).toThrow(/wildcards and host names are refused/);
    expect(() => renderNfsExportScript({ ...spec, clients: ["nas-clients.example"] })).toThrow(/wildcards and host names are refused/);
    expect(() => renderNfsExportScript({ ...spec, clients: [] })).toThrow(/at least one client/);
    expect(DEFAULT_EXPORT_OPTIONS).toContain("root_squash");
    expect(SHARED_TREE).toEqual(["www"]);
  });

  it("after a teardown the export is free for the next deployment", () => {
    run(renderNfsExportScript(spec));
    run(renderNfsUnexportScript(spec));
    expect(fs.readFileSync(path.join(spec.exportPath, ".xen-coreos-deployment"), "utf8")).toBe("");
    expect(run(renderNfsExportScript({ ...spec, deploymentId: "fedcba9876543210" })).status).toBe(0);
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
