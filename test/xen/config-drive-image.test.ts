/**
 * The config-2 image, proven with real readers: `blkid -p` (util-linux, what udev uses to
 * make /dev/disk/by-label/config-2), `isoinfo` (cdrkit) with Rock Ridge, with Joliet and
 * with plain ISO 9660 names, and two independent implementations, `xorriso` (libisofs)
 * and `bsdtar` (libarchive), which extract the whole tree. The Linux kernel itself is
 * tried with a loop mount when this machine's kernel has iso9660.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CloudConfigInput, renderCloudConfig } from "../../components/coreos/cloud-config-render";
import {
  buildConfigDriveImage,
  buildUserDataImage,
  CONFIG_DRIVE_LABEL,
  CONFIG_DRIVE_SIZE_MULTIPLE,
  ConfigDriveFile,
  encodeForStdin,
  imageSha256,
  padImage,
  paddedSize,
  STDIN_BASE64_LINE,
  USER_DATA_PATH,
} from "../../components/xen/config-drive-image";
import { describeWith, which } from "../support/prereq";
import { fixedTestTls } from "../fixtures/tls";

const SECTOR = 2048;

/** GIVEN the lab's coreos1 cloud-config as the program renders it (a few KiB: two sectors). */
function labCloudConfig(): string {
  const input: CloudConfigInput = {
    hostname: "coreos1",
    ip: "10.50.0.101",
    prefixLength: 24,
    gateway: "10.50.0.1",
    dns: ["8.8.8.8", "8.8.4.4"],
    interface: "eth0",
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIZnvnjAn2Qt4HLggTGOafdqHCSHSWLp0MDIQJe75iqV operator@lab"],
    discoveryUrl: "https://discovery.example.invalid/3e86b59982e49066c5d813af1c2e2579",
    tls: fixedTestTls(),
    fleetMetadata: { role: "web", cluster: "lab" },
    nfs: { server: "10.50.0.200", export: "/nfs/NFS", mountPoint: "/mnt/nfs", options: ["rw", "acl"] },
    install: { device: "/dev/xvda", channel: "stable" },
    rebootStrategy: "etcd-lock",
  };
  return renderCloudConfig(input);
}

/** Deterministic pseudo-random bytes (a stand-in for a binary such as xe-daemon). */
function bytes(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  let block: Buffer = Buffer.from(seed);
  for (let at = 0; at < n; at += 32) {
    block = crypto.createHash("sha256").update(block).digest();
    block.copy(out, at, 0, Math.min(32, n - at));
  }
  return out;
}

const LAB = labCloudConfig();
/** A user_data past several sectors, with non-ASCII UTF-8 (comments and a written file). */
const BIG_USER_DATA =
  LAB +
  "# Grüße aus Zürich – 日本語 ✓ 🚀\n" +
  "write_files:\n  - path: /etc/motd\n    content: |\n" +
  Array.from({ length: 400 }, (_, i) => `      line ${i}: ÄÖÜ äöü ß — ${"x".repeat(i % 50)}\n`).join("");

/** Every case the writer must carry: multi-sector files, empty and exact-sector files,
 * a folder whose records span sectors, names that clash once upper-cased, 64-character
 * names, the deepest path ISO 9660 allows, modes. */
const FULL: ConfigDriveFile[] = [
  { path: USER_DATA_PATH, content: BIG_USER_DATA },
  { path: "openstack/latest/meta_data.json", content: '{"hostname":"coreos1","uuid":"ünïcode"}\n' },
  { path: "agent/xe-daemon", content: bytes(70_000, "daemon"), mode: 0o755 },
  { path: "agent/xe-linux-distribution", content: "#!/bin/sh\necho ok\n", mode: 0o755 },
  { path: "agent/empty", content: "" },
  { path: "agent/one-sector.bin", content: bytes(SECTOR, "sector"), mode: 0o644 },
  { path: "clash/a-b", content: "dash\n" },
  { path: "clash/a_b", content: "underscore\n" },
  { path: "clash/A_B", content: "upper\n" },
  { path: "clash/" + "n".repeat(64), content: "long name\n" },
  { path: "clash/" + "n".repeat(63) + "m", content: "long name 2\n" },
  { path: "d1/d2/d3/d4/d5/d6/deep.txt", content: "deep\n" },
  ...Array.from({ length: 70 }, (_, i) => ({ path: `many/file-${String(i).padStart(2, "0")}.txt`, content: `file ${i}\n` })),
];

/** Paths a reader must list: every file and every folder on the way, with a leading `/`. */
function expectedPaths(files: ConfigDriveFile[]): string[] {
  const all = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/");
    for (let i = 1; i <= parts.length; i++) all.add("/" + parts.slice(0, i).join("/"));
  }
  return [...all].sort();
}

function contentOf(f: ConfigDriveFile): Buffer {
  return typeof f.content === "string" ? Buffer.from(f.content, "utf8") : f.content;
}

function run(cmd: string, args: string[], input?: string | Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Files (bytes and permission bits) and folders found under `dir`, keyed by `/path`. */
function walk(dir: string): { files: Map<string, { data: Buffer; mode: number }>; dirs: string[] } {
  const files = new Map<string, { data: Buffer; mode: number }>();
  const dirs: string[] = [];
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = `${rel}/${name}`;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        dirs.push(r);
        visit(r);
      } else {
        files.set(r, { data: fs.readFileSync(path.join(dir, r)), mode: st.mode & 0o777 });
      }
    }
  };
  visit("");
  return { files, dirs };
}

/** THEN a tree read back holds exactly the given files, byte for byte (and modes, when asked). */
function expectTree(dir: string, given: ConfigDriveFile[], withModes: boolean): void {
  const { files, dirs } = walk(dir);
  expect([...dirs, ...files.keys()].sort()).toEqual(expectedPaths(given));
  for (const f of given) {
    const got = files.get("/" + f.path);
    expect(got?.data.equals(contentOf(f))).toBe(true);
    if (withModes) expect(got?.mode).toBe(f.mode ?? 0o400);
  }
}

/**
 * The name Linux shows for a plain ISO 9660 identifier under the default `map=normal`
 * (torvalds/linux fs/isofs/dir.c, isofs_name_translate): lower case, a trailing `.;1` or
 * `;1` dropped, other `;` made `.`.
 */
function linuxPlainName(id: string): string {
  return id.toLowerCase().replace(/\.;1$/, "").replace(/;1$/, "").replace(/;/g, ".");
}

let work: string;
const image: Record<string, Buffer> = {};
const file: Record<string, string> = {};

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "config-drive-image-"));
  image.lab = buildUserDataImage(LAB);
  image.full = buildConfigDriveImage(FULL);
  for (const name of Object.keys(image)) {
    file[name] = path.join(work, `${name}.iso`);
    fs.writeFileSync(file[name], image[name]);
  }
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("buildConfigDriveImage (pure)", () => {
  it("gives the same bytes for the same files, whatever their order", () => {
    expect(buildUserDataImage(LAB).equals(image.lab)).toBe(true);
    expect(buildConfigDriveImage([...FULL].reverse()).equals(image.full)).toBe(true);
  });

  it("changes with the content, and imageSha256 is the sha256 of the bytes", () => {
    const other = buildUserDataImage(LAB + "# changed\n");
    expect(other.equals(image.lab)).toBe(false);
    expect(imageSha256(image.lab)).toBe(crypto.createHash("sha256").update(image.lab).digest("hex"));
    expect(imageSha256(other)).not.toBe(imageSha256(image.lab));
  });

  it("writes whole 2048-byte sectors and records the volume size in the descriptor", () => {
    for (const img of [image.lab, image.full]) {
      expect(img.length % SECTOR).toBe(0);
      // ECMA-119 8.4.8: volume space size (both-endian) at byte 80 of the PVD (sector 16).
      expect(img.readUInt32LE(16 * SECTOR + 80) * SECTOR).toBe(img.length);
      expect(img.readUInt32BE(16 * SECTOR + 84) * SECTOR).toBe(img.length);
    }
  });

  it("pads to the smallest multiple of 2 MiB that holds the image (never 0)", () => {
    for (const n of [0, 1, image.lab.length, image.full.length, CONFIG_DRIVE_SIZE_MULTIPLE, CONFIG_DRIVE_SIZE_MULTIPLE + 1, 5 * CONFIG_DRIVE_SIZE_MULTIPLE - 7]) {
      const size = paddedSize(n);
      expect(size % CONFIG_DRIVE_SIZE_MULTIPLE).toBe(0);
      expect(size).toBeGreaterThanOrEqual(Math.max(n, 1));
      expect(size - CONFIG_DRIVE_SIZE_MULTIPLE).toBeLessThan(Math.max(n, 1));
    }
    expect(CONFIG_DRIVE_SIZE_MULTIPLE).toBe(2 * 1024 * 1024);
    const padded = padImage(image.full);
    expect(padded.length).toBe(paddedSize(image.full.length));
    expect(padded.subarray(0, image.full.length).equals(image.full)).toBe(true);
    expect(padded.subarray(image.full.length).every((b) => b === 0)).toBe(true);
    expect(() => paddedSize(-1)).toThrow(/not a byte count/);
    expect(() => paddedSize(1.5)).toThrow(/not a byte count/);
  });

  it("encodes for stdin as base64 in 76-character lines that Node reads back", () => {
    const text = encodeForStdin(image.full);
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.slice(0, -1).every((l) => l.length === STDIN_BASE64_LINE)).toBe(true);
    expect(lines[lines.length - 1].length).toBeLessThanOrEqual(STDIN_BASE64_LINE);
    expect(lines.every((l) => /^[A-Za-z0-9+/=]+$/.test(l))).toBe(true);
    expect(Buffer.from(text, "base64").equals(image.full)).toBe(true);
  });

  it.each([
    ["an absolute path", "/openstack/latest/user_data", /relative path/],
    ["a '..' part", "openstack/../user_data", /relative path/],
    ["an empty part", "openstack//user_data", /relative path/],
    ["an empty path", "", /relative path/],
    ["a space", "openstack/latest/user data", /name 'user data' must be/],
    ["a non-ASCII name", "openstack/latest/üser_data", /must be 1-64 characters/],
    ["a 65-character name", "a".repeat(65), /must be 1-64 characters/],
    ["more than 7 folders", "1/2/3/4/5/6/7/8", /at most 7 folders deep/],
  ])("refuses %s, naming the path", (_what, p, message) => {
    expect(() => buildConfigDriveImage([{ path: p, content: "x" }])).toThrow(message);
  });

  it("refuses a path given twice, a file used as a folder, no files, bad modes and labels", () => {
    expect(() => buildConfigDriveImage([{ path: "a", content: "1" }, { path: "a", content: "2" }])).toThrow(/'a': given twice/);
    expect(() => buildConfigDriveImage([{ path: "a", content: "1" }, { path: "a/b", content: "2" }])).toThrow(/'a' is already a file/);
    expect(() => buildConfigDriveImage([{ path: "a/b", content: "1" }, { path: "a", content: "2" }])).toThrow(/given twice \(or also a folder\)/);
    expect(() => buildConfigDriveImage([])).toThrow(/no files given/);
    expect(() => buildConfigDriveImage([{ path: "a", content: "1", mode: 0o4755 }])).toThrow(/mode must be/);
    expect(() => buildUserDataImage(LAB, [], { label: "config 2" })).toThrow(/label 'config 2'/);
    expect(() => buildUserDataImage(LAB, [], { label: "x".repeat(17) })).toThrow(/1-16 characters/);
    expect(() => buildUserDataImage(LAB, [], { timestamp: new Date(1500) })).toThrow(/whole second/);
  });
});

describeWith(["blkid", "isoinfo"], "util-linux blkid and cdrkit isoinfo read the config-2 image")("config-2 image read by blkid and isoinfo", () => {
  it.each(["lab", "full"])("blkid -p sees an iso9660 file system labelled config-2 (%s)", (name) => {
    const r = run("blkid", ["-p", "-o", "export", file[name]]);
    expect(r.status).toBe(0);
    const tags = Object.fromEntries(
      r.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    expect(tags.TYPE).toBe("iso9660");
    expect(tags.LABEL).toBe(CONFIG_DRIVE_LABEL);
  });

  it.each([
    ["Rock Ridge", "-R"],
    ["Joliet", "-J"],
  ])("isoinfo %s lists exactly the given names and returns each file byte for byte", (_what, flag) => {
    const listing = run("isoinfo", ["-i", file.full, flag, "-f"]);
    expect(listing.status).toBe(0);
    expect(listing.stdout.toString().trim().split("\n").sort()).toEqual(expectedPaths(FULL));
    // Every file but the 70 small ones, whose first and last stand for them (one process each).
    const extracted = FULL.filter((f) => !/^many\/file-(0[1-9]|[1-5]\d|6[0-8])\.txt$/.test(f.path));
    expect(extracted.length).toBe(FULL.length - 68);
    for (const f of extracted) {
      const got = run("isoinfo", ["-i", file.full, flag, "-x", "/" + f.path]);
      expect(got.status).toBe(0);
      expect(got.stdout.equals(contentOf(f))).toBe(true);
    }
    const lab = run("isoinfo", ["-i", file.lab, flag, "-x", `/${USER_DATA_PATH}`]);
    expect(lab.stdout.toString("utf8")).toBe(LAB);
  });

  it.each(["-R", "-J"])("isoinfo %s reads a folder whose records span several sectors", (flag) => {
    const out = run("isoinfo", ["-i", file.full, flag, "-l"]).stdout.toString();
    const size = Number(/^d\S+ +\d+ +\d+ +\d+ +(\d+) .* many $/m.exec(out)?.[1]);
    expect(size).toBeGreaterThan(SECTOR);
    expect(out.match(/^-.* file-\d\d\.txt $/gm)).toHaveLength(70);
  });

  it("isoinfo -d finds the Rock Ridge and Joliet signatures and the volume id", () => {
    const out = run("isoinfo", ["-i", file.lab, "-d"]).stdout.toString();
    expect(out).toMatch(/^Volume id: config-2$/m);
    expect(out).toMatch(/Joliet with UCS level 3 found/);
    expect(out).toMatch(/Rock Ridge signatures version 1 found/);
  });

  it("shows Rock Ridge modes and owners (files 0400 unless given, root-owned)", () => {
    const out = run("isoinfo", ["-i", file.full, "-R", "-l"]).stdout.toString();
    expect(out).toMatch(/^-r-------- +1 +0 +0 .* user_data $/m);
    expect(out).toMatch(/^-rwxr-xr-x +1 +0 +0 .* xe-daemon $/m);
    expect(out).toMatch(/^dr-xr-xr-x +3 +0 +0 .* openstack $/m);
  });

  it("without extensions, the plain names are still openstack/latest/user_data as Linux maps them", () => {
    const listing = run("isoinfo", ["-i", file.lab, "-f"]).stdout.toString().trim().split("\n");
    expect(listing.map(linuxPlainName)).toContain(`/${USER_DATA_PATH}`);
  });
});

describeWith(["xorriso", "bsdtar"], "libisofs and libarchive: two independent ISO 9660 readers")("config-2 image extracted by xorriso and bsdtar", () => {
  it("xorriso (Rock Ridge) extracts the whole tree without a complaint: names, bytes, modes", () => {
    const out = path.join(work, "xorriso");
    const r = run("xorriso", ["-abort_on", "FAILURE", "-return_with", "WARNING", "32", "-indev", file.full, "-osirrox", "on", "-extract", "/", out]);
    expect(r.stderr).not.toMatch(/WARNING|SORRY|FAILURE/);
    expect(r.status).toBe(0);
    expectTree(out, FULL, true);
  });

  it("bsdtar extracts the whole tree without an error: names, bytes, modes", () => {
    const out = path.join(work, "bsdtar");
    fs.mkdirSync(out);
    const r = run("bsdtar", ["-xpf", file.full, "-C", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expectTree(out, FULL, true);
  });
});

describeWith(["base64", "openssl", "dd"], "coreutils and openssl decode the stdin text on the host")("the image on standard input", () => {
  it.each([
    ["base64 -d", "base64", ["-d"]],
    ["openssl base64 -d", "openssl", ["base64", "-d"]],
  ])("%s gives the image back", (_what, cmd, args) => {
    const r = run(cmd, args, encodeForStdin(image.full));
    expect(r.status).toBe(0);
    expect(r.stdout.equals(image.full)).toBe(true);
  });

  it("dd extends the decoded file to paddedSize, equal to padImage (the recommended host-side padding)", () => {
    const target = path.join(work, "padded.iso");
    expect(run("sh", ["-c", 'base64 -d >"$1"', "sh", target], encodeForStdin(image.lab)).status).toBe(0);
    expect(run("dd", ["if=/dev/null", `of=${target}`, "bs=1", `seek=${paddedSize(image.lab.length)}`]).status).toBe(0);
    expect(fs.readFileSync(target).equals(padImage(image.lab))).toBe(true);
  });
});

/**
 * The kernel's own reader. Needs root, a loop device and iso9660 in the running kernel:
 * a kernel property, not a package, so it is skipped with its reason (also under CI)
 * when missing.
 */
function loopMountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  if (!which("mount") || !which("umount")) return "no mount/umount";
  if (!fs.existsSync("/dev/loop-control")) return "no loop devices";
  if (!/\biso9660\b/.test(fs.readFileSync("/proc/filesystems", "utf8"))) return `kernel ${os.release()} has no iso9660 (not in /proc/filesystems)`;
  return undefined;
}

describe("config-2 image mounted by the Linux kernel (loop, read-only)", () => {
  const why = loopMountUnavailable();
  // eslint-disable-next-line no-console
  if (why) console.log(`skipping the loop mount: ${why}`);
  const maybe = why ? it.skip : it;

  maybe.each([
    ["Rock Ridge (default)", "loop,ro", true],
    ["Joliet (norock)", "loop,ro,norock", false],
  ])("%s shows the given names and bytes", (_what, options, withModes) => {
    const mnt = fs.mkdtempSync(path.join(work, "mnt-"));
    const r = run("mount", ["-t", "iso9660", "-o", options as string, file.full, mnt]);
    expect(r.stderr).toBe("");
    try {
      expectTree(mnt, FULL, withModes as boolean);
    } finally {
      run("umount", [mnt]);
    }
  });

  maybe("plain ISO 9660 names (norock,nojoliet) still show openstack/latest/user_data", () => {
    const mnt = fs.mkdtempSync(path.join(work, "mnt-"));
    expect(run("mount", ["-t", "iso9660", "-o", "loop,ro,norock,nojoliet", file.lab, mnt]).status).toBe(0);
    try {
      expect(fs.readFileSync(path.join(mnt, USER_DATA_PATH), "utf8")).toBe(LAB);
    } finally {
      run("umount", [mnt]);
    }
  });
});
