/**
 * The guest agent script (components/xen/scripts/guest-agent.sh) against a tools ISO laid
 * out as XenServer's (Linux/ with the agent's files). This machine's kernel has no iso9660
 * driver, so `mount -o loop` is a stand-in that unpacks the ISO with bsdtar (a real ISO 9660
 * reader) into the mount point; everything else is the real script under a real sh.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildConfigDriveImage } from "../../components/xen/config-drive-image";
import { GUEST_AGENT_FILES, parseGuestAgentListing, renderGuestAgentScript } from "../../components/xen/xe-scripts";
import { describeWith } from "../support/prereq";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-"));
  fs.mkdirSync(path.join(dir, "bin"));
  // mount -o loop,ro ISO DIR / umount DIR, as dom0 runs them.
  fs.writeFileSync(path.join(dir, "bin", "mount"), '#!/bin/sh\n[ "$1" = -o ] && [ "$2" = loop,ro ] || exit 32\nexec bsdtar -xf "$3" -C "$4"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "bin", "umount"), '#!/bin/sh\nfind "$1" -mindepth 1 -delete\n', { mode: 0o755 });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(glob: string) {
  const r = spawnSync("sh", ["-c", renderGuestAgentScript({ toolsGlob: glob })], { encoding: "utf8", env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}` } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeWith(["bsdtar"], "reads ISO 9660 images")("the guest agent from the tools ISO", () => {
  it("lists the Linux agent's files with their modes and exact bytes, from the newest tools ISO", () => {
    const daemon = Buffer.from("#!/bin/bash\n# xe-daemon\nwhile :; do sleep 60; done\n");
    const rules = Buffer.from('SUBSYSTEM=="cpu", ACTION=="online"\n');
    const old = buildConfigDriveImage([{ path: "Linux/xe-daemon", content: "old\n", mode: 0o755 }]);
    const iso = buildConfigDriveImage([
      { path: "Linux/xe-daemon", content: daemon, mode: 0o755 },
      { path: "Linux/xen-vcpu-hotplug.rules", content: rules, mode: 0o644 },
      { path: "Linux/xe-guest-utilities_6.5.0-1.deb", content: "not copied\n", mode: 0o644 },
      { path: "Windows/setup.exe", content: "no\n", mode: 0o644 },
    ], { label: "XenServer_Tools" });
    fs.writeFileSync(path.join(dir, "xs-tools-6.5.0-1.iso"), old);
    fs.writeFileSync(path.join(dir, "xs-tools-6.5.0-2.iso"), iso);
    const r = run(path.join(dir, "xs-tools-*.iso"));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const files = parseGuestAgentListing(r.stdout);
    expect(files.map((f) => [f.path, f.mode.toString(8)])).toEqual([["agent/xe-daemon", "755"], ["agent/xen-vcpu-hotplug.rules", "644"]]);
    expect(Buffer.from(files[0].base64, "base64").equals(daemon)).toBe(true);
    expect(Buffer.from(files[1].base64, "base64").equals(rules)).toBe(true);
    // The mount point is gone again.
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("tmp.") && fs.existsSync(path.join(os.tmpdir(), n, "Linux")))).toEqual([]);
  });

  it("a host without a tools ISO prints no files and says so; nothing fails", () => {
    const r = run(path.join(dir, "xs-tools-*.iso"));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no tools ISO matches");
    expect(parseGuestAgentListing(r.stdout)).toEqual([]);
  });

  it("refuses a listing line it does not know (never puts an unexpected file on the drive)", () => {
    expect(() => parseGuestAgentListing("evil 755 AAAA\n")).toThrow(/unexpected line from the guest agent script/);
    expect(GUEST_AGENT_FILES).toContain("xe-daemon");
  });
});
