/**
 * The config-2 drive image, built where the program runs: an ISO 9660 file system with
 * the volume label `config-2` that holds `openstack/latest/user_data` (and any other
 * files given). Pure: plain values in, bytes out; no file system, no clock, no random
 * ids, so the same files always give the same bytes and `pulumi preview` knows the
 * image's sha256 before anything runs.
 *
 * Why it exists: a stock XenServer dom0 (CentOS 5) has neither `genisoimage` nor
 * `mkisofs` (only the Container Management supplemental pack brings `mkisofs`), so the
 * image cannot be made on the host. The image travels to the host on the command's
 * standard input (`encodeForStdin`) and is imported there into a VDI.
 *
 * Why a writer of our own: no well-kept npm package writes ISO 9660 (November 2026: the
 * names `iso9660`, `iso-9660` and `mkisofs` are not published, and the list of npm
 * packages in use that this workplace keeps holds no ISO 9660 writer; a package that
 * shells out to `mkisofs`/`xorriso` would bring back the very dependency this removes).
 * The subset written here is small and fixed, and test/xen/config-drive-image.test.ts
 * proves it with real readers: `blkid -p`, `isoinfo` (Rock Ridge, Joliet, plain),
 * `xorriso` (libisofs) and `bsdtar` (libarchive), and a loop mount where the kernel has
 * iso9660.
 *
 * What the image holds, and who reads what:
 * - Sectors 0-15 system area (zeros); 16 Primary Volume Descriptor; 17 Joliet
 *   Supplementary Volume Descriptor (UCS-2 level 3, escape `%/E`); 18 terminator
 *   (ECMA-119 8.4, 8.5, 8.3; Joliet specification 1995).
 * - Primary tree with ISO 9660 level 2 names (upper case, up to 31 characters:
 *   `OPENSTACK/LATEST/USER_DATA.;1`) and Rock Ridge (IEEE P1282 RRIP 1991A over
 *   SUSP 1.10): `SP` and a `CE` to an `ER` in the root's "." record, then `PX` (mode,
 *   links, uid 0, gid 0) on every record and `NM` (the real name) on every named one.
 *   Linux uses Rock Ridge when the root holds `ER` (fs/isofs/inode.c: Rock Ridge wins
 *   over Joliet), so the mounted names are exactly the given ones, with the modes given.
 * - Joliet tree with the same names in UCS-2 (read with `-o norock`, and by `isoinfo -J`).
 * - Without either extension, Linux's default `map=normal` lower-cases the level 2
 *   names and drops `.;1`, so even then `openstack/latest/user_data` is what it shows.
 * - coreos-cloudinit (flatcar/coreos-cloudinit datasource/configdrive) reads
 *   `<mount>/openstack/latest/user_data`; Flatcar mounts the drive by its label, which
 *   `blkid` takes from the volume descriptors (both carry `config-2`).
 *
 * All timestamps are one fixed instant (default 1970-01-01T00:00:00Z, GMT offset 0).
 *
 * Padding (issue 10, bug 4): xscontainer pads its ISO to a multiple of 2 MiB and creates
 * the VDI with exactly that size before `xe vdi-import`; 6.5-era xapi may refuse an
 * import file shorter than the VDI. `buildConfigDriveImage` returns the unpadded image
 * (a few hundred KiB at most); `paddedSize(image.length)` is the VDI size. Recommended:
 * send the unpadded image (base64 of 2 MiB of zeros would be ~2.7 MiB of stdin per node)
 * and let the host script extend the decoded file to `paddedSize` with
 * `dd if=/dev/null of=FILE bs=1 seek=SIZE` (coreutils 5.97 has no `truncate`), then check
 * its size before `vdi-create virtual-size=SIZE` and `vdi-import`. `padImage` is there for
 * a caller that wants the padded bytes (e.g. to hash exactly what is imported).
 *
 * Wiring, as recommended (the host side is a sketch for components/xen/xe-scripts.ts):
 * - stdin: `encodeForStdin(buildUserDataImage(userData, …))`, kept a secret (the image
 *   holds the discovery token);
 * - script values: `size=paddedSize(image.length)` and, for the marker and the preview,
 *   `imageSha256` of the image built from the *redacted* cloud-config (deterministic,
 *   known at preview, and no hash of a secret in plain text);
 * - on the host: `base64 -d >"$work/config-2.iso"`, check `wc -c` is at most `$size`,
 *   `dd if=/dev/null of="$work/config-2.iso" bs=1 seek="$size" 2>/dev/null`, then
 *   `xe vdi-create … virtual-size="$size"` and `xe vdi-import … filename=…`.
 */
import * as crypto from "crypto";

/** Volume label Flatcar/CoreOS looks for. */
export const CONFIG_DRIVE_LABEL = "config-2";
/** Where coreos-cloudinit reads the cloud-config on the drive. */
export const USER_DATA_PATH = "openstack/latest/user_data";
/** The image (and its VDI) is a multiple of this many bytes, as xscontainer makes it. */
export const CONFIG_DRIVE_SIZE_MULTIPLE = 2 * 1024 * 1024;
/** Line length of `encodeForStdin` (RFC 2045's limit; read by coreutils and openssl). */
export const STDIN_BASE64_LINE = 76;

/** ISO 9660 logical sector (and block) size. */
const SECTOR = 2048;
/** Sectors 0-15 are the system area; the volume descriptors start at 16. */
const FIRST_DESCRIPTOR = 16;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** Default permissions: the drive holds secrets (the discovery token), root reads them. */
const DEFAULT_FILE_MODE = 0o400;
const DIR_MODE = 0o555;
/** Longest name accepted: Joliet allows 64 UCS-2 characters. */
const MAX_NAME = 64;
/** ECMA-119 6.8.2.1: at most 8 directory levels (the root is level 1). */
const MAX_DEPTH = 8;
/** ECMA-119 keeps sizes in 32 bits. */
const MAX_FILE = 0xffffffff;

/** One file on the drive. */
export interface ConfigDriveFile {
  /** Relative path with `/` separators, e.g. `openstack/latest/user_data`. Names use `A-Z a-z 0-9 . _ -`. */
  path: string;
  /** The bytes; a string is written as UTF-8. */
  content: Buffer | string;
  /** Permission bits that Linux shows through Rock Ridge (0o000-0o777). Defaults to 0o400. */
  mode?: number;
}

export interface ConfigDriveImageOptions {
  /** Volume label (1-16 characters of `A-Z a-z 0-9 _ -`). Defaults to `config-2`. */
  label?: string;
  /** The one timestamp written everywhere (whole seconds, years 1970-2155). Defaults to 1970-01-01T00:00:00Z. */
  timestamp?: Date;
}

interface FileNode {
  kind: "file";
  name: string;
  data: Buffer;
  mode: number;
  extent: number;
}

interface DirNode {
  kind: "dir";
  name: string;
  parent: DirNode | undefined;
  children: Map<string, DirNode | FileNode>;
  depth: number;
}

type Node = DirNode | FileNode;

/** One of the two directory trees (primary with Rock Ridge, or Joliet). */
interface TreeLayout {
  /** Identifier bytes of every node but the root, in this tree. */
  ids: Map<Node, Buffer>;
  /** Directories in path table order (root first). */
  dirs: DirNode[];
  /** Sorted children of each directory. */
  sorted: Map<DirNode, Node[]>;
  /** Extent (first sector) and byte size of each directory. */
  extent: Map<DirNode, number>;
  size: Map<DirNode, number>;
  rockRidge: boolean;
}

/**
 * Builds the config-2 image (unpadded; see `paddedSize`). Throws, naming the path, for a
 * path or name this writer cannot carry faithfully (so nothing is silently renamed).
 */
export function buildConfigDriveImage(files: ReadonlyArray<ConfigDriveFile>, opts: ConfigDriveImageOptions = {}): Buffer {
  const label = opts.label ?? CONFIG_DRIVE_LABEL;
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(label)) {
    throw new Error(`config drive: label '${label}' must be 1-16 characters of A-Z a-z 0-9 _ -`);
  }
  const stamp = opts.timestamp ?? new Date(0);
  const year = stamp.getUTCFullYear();
  if (Number.isNaN(stamp.getTime()) || year < 1970 || year > 2155 || stamp.getUTCMilliseconds() !== 0) {
    throw new Error("config drive: timestamp must be a whole second between 1970 and 2155");
  }
  const root = buildTree(files);

  // Layout: descriptors, four path tables, the two directory trees, the Rock Ridge
  // continuation area, then the file data (shared by both trees).
  const primary = planTree(root, true);
  const joliet = planTree(root, false);
  const primaryTableSize = pathTableSize(primary);
  const jolietTableSize = pathTableSize(joliet);
  let next = FIRST_DESCRIPTOR + 3;
  const take = (bytes: number): number => {
    const at = next;
    next += Math.max(1, sectors(bytes));
    return at;
  };
  const tables = {
    primaryL: take(primaryTableSize),
    primaryM: take(primaryTableSize),
    jolietL: take(jolietTableSize),
    jolietM: take(jolietTableSize),
  };
  for (const tree of [primary, joliet]) {
    for (const dir of tree.dirs) tree.extent.set(dir, take(tree.size.get(dir) as number));
  }
  // After the directories: a sequential reader (libarchive) refuses a continuation area
  // that lies before the record pointing to it.
  const er = extensionReference();
  const continuation = take(er.length);
  for (const file of filesOf(root)) file.extent = file.data.length === 0 ? 0 : take(file.data.length);
  const totalSectors = next;

  const image = Buffer.alloc(totalSectors * SECTOR);
  const when = recordDate(stamp);
  writeVolumeDescriptor(image, 1, label, totalSectors, primary, primaryTableSize, tables.primaryL, tables.primaryM, stamp, when);
  writeVolumeDescriptor(image, 2, label, totalSectors, joliet, jolietTableSize, tables.jolietL, tables.jolietM, stamp, when);
  const terminator = FIRST_DESCRIPTOR + 2;
  image[terminator * SECTOR] = 255;
  image.write("CD001", terminator * SECTOR + 1, "latin1");
  image[terminator * SECTOR + 6] = 1;
  pathTable(primary, "L").copy(image, tables.primaryL * SECTOR);
  pathTable(primary, "M").copy(image, tables.primaryM * SECTOR);
  pathTable(joliet, "L").copy(image, tables.jolietL * SECTOR);
  pathTable(joliet, "M").copy(image, tables.jolietM * SECTOR);
  er.copy(image, continuation * SECTOR);
  for (const tree of [primary, joliet]) {
    for (const dir of tree.dirs) {
      directoryExtent(tree, dir, when, { sector: continuation, length: er.length }).copy(image, (tree.extent.get(dir) as number) * SECTOR);
    }
  }
  for (const file of filesOf(root)) file.data.copy(image, file.extent * SECTOR);
  return image;
}

/** The config-2 image of one cloud-config, plus any other files (e.g. a guest agent folder). */
export function buildUserDataImage(userData: string, extra: ReadonlyArray<ConfigDriveFile> = [], opts?: ConfigDriveImageOptions): Buffer {
  return buildConfigDriveImage([{ path: USER_DATA_PATH, content: userData }, ...extra], opts);
}

/** Hex sha256 of an image (unpadded, as built), what a preview can show and the host can check. */
export function imageSha256(image: Buffer): string {
  return crypto.createHash("sha256").update(image).digest("hex");
}

/** Smallest multiple of 2 MiB that holds `n` bytes (at least 2 MiB): the VDI's virtual size. */
export function paddedSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`config drive: image size ${n} is not a byte count`);
  return Math.max(1, Math.ceil(n / CONFIG_DRIVE_SIZE_MULTIPLE)) * CONFIG_DRIVE_SIZE_MULTIPLE;
}

/** The image followed by zeros up to `paddedSize(image.length)`. */
export function padImage(image: Buffer): Buffer {
  const padded = Buffer.alloc(paddedSize(image.length));
  image.copy(padded);
  return padded;
}

/**
 * The image as standard input text: base64 (RFC 4648 alphabet, `=` padding) in lines of
 * 76 characters, each ending in `\n`. Read back by `base64 -d` (coreutils, including
 * RHEL 5's 5.97) and by `openssl base64 -d` (which refuses lines longer than 76).
 */
export function encodeForStdin(image: Buffer): string {
  const text = image.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += STDIN_BASE64_LINE) lines.push(text.slice(i, i + STDIN_BASE64_LINE));
  return lines.map((line) => `${line}\n`).join("");
}

// ---------------------------------------------------------------------------------------
// The tree of given files

function buildTree(files: ReadonlyArray<ConfigDriveFile>): DirNode {
  const root: DirNode = { kind: "dir", name: "", parent: undefined, children: new Map(), depth: 1 };
  if (files.length === 0) throw new Error("config drive: no files given (it needs at least openstack/latest/user_data)");
  for (const file of files) {
    const where = `config drive: file '${file.path}'`;
    const parts = file.path.split("/");
    if (file.path === "" || parts.some((p) => p === "" || p === "." || p === "..")) {
      throw new Error(`${where}: give a relative path of names joined by '/', without '.', '..' or empty parts`);
    }
    for (const part of parts) {
      if (!/^[A-Za-z0-9._-]+$/.test(part) || part.length > MAX_NAME) {
        throw new Error(`${where}: name '${part}' must be 1-${MAX_NAME} characters of A-Z a-z 0-9 . _ -`);
      }
    }
    if (parts.length > MAX_DEPTH - 1) throw new Error(`${where}: ISO 9660 allows at most ${MAX_DEPTH - 1} folders deep`);
    const mode = file.mode ?? DEFAULT_FILE_MODE;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new Error(`${where}: mode must be permission bits 0o000-0o777`);
    const data = typeof file.content === "string" ? Buffer.from(file.content, "utf8") : Buffer.from(file.content);
    if (data.length > MAX_FILE) throw new Error(`${where}: larger than ISO 9660's 4 GiB limit`);
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      const found = dir.children.get(part);
      if (found?.kind === "file") throw new Error(`${where}: '${part}' is already a file`);
      if (found) {
        dir = found;
        continue;
      }
      const made: DirNode = { kind: "dir", name: part, parent: dir, children: new Map(), depth: dir.depth + 1 };
      dir.children.set(part, made);
      dir = made;
    }
    const name = parts[parts.length - 1];
    if (dir.children.has(name)) throw new Error(`${where}: given twice (or also a folder)`);
    dir.children.set(name, { kind: "file", name, data, mode, extent: 0 });
  }
  return root;
}

function byName(a: Node, b: Node): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function subdirs(dir: DirNode): DirNode[] {
  return [...dir.children.values()].filter((n): n is DirNode => n.kind === "dir").sort(byName);
}

/** Every file, depth first in name order: the order of the data area. */
function filesOf(dir: DirNode): FileNode[] {
  const out: FileNode[] = [];
  for (const node of [...dir.children.values()].sort(byName)) {
    if (node.kind === "file") out.push(node);
    else out.push(...filesOf(node));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Names

/**
 * ISO 9660 level 2 identifiers of a directory's children (ECMA-119 7.5, 7.6): d-characters
 * only, directories up to 31, files `NAME.EXT;1` up to 31 in all. Clashes after
 * upper-casing get a numeric tail; Rock Ridge and Joliet carry the real names anyway.
 */
/** NAME+EXT of a file identifier, so that `NAME.EXT;1` is at most 31 characters. */
const FILE_ROOM = 28;

function isoIdentifiers(dir: DirNode): Map<Node, Buffer> {
  const out = new Map<Node, Buffer>();
  const taken = new Set<string>();
  const clean = (s: string) => s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  for (const node of [...dir.children.values()].sort(byName)) {
    let base: string;
    let ext = "";
    if (node.kind === "dir") {
      base = clean(node.name).slice(0, 31);
    } else {
      const dot = node.name.lastIndexOf(".");
      base = clean(dot < 0 ? node.name : node.name.slice(0, dot));
      ext = dot < 0 ? "" : clean(node.name.slice(dot + 1)).slice(0, 8);
      base = base.slice(0, FILE_ROOM - ext.length);
      if (base === "" && ext === "") base = "_";
    }
    const room = node.kind === "dir" ? 31 : FILE_ROOM - ext.length;
    const render = (b: string) => (node.kind === "dir" ? b : `${b}.${ext};1`);
    let id = render(base);
    for (let n = 1; taken.has(id); n++) {
      const tail = String(n);
      id = render(base.slice(0, room - tail.length) + tail);
    }
    taken.add(id);
    out.set(node, Buffer.from(id, "latin1"));
  }
  return out;
}

/** UCS-2 big-endian, as Joliet writes every identifier and text field. */
function ucs2(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

/** ECMA-119 9.3 order: name then extension (both space padded), i.e. bytes with `.` and `;` as low separators. */
function compareIds(a: Buffer, b: Buffer, rockRidge: boolean): number {
  if (!rockRidge) return Buffer.compare(a, b);
  const split = (id: Buffer) => {
    const text = id.toString("latin1").replace(/;1$/, "");
    const dot = text.indexOf(".");
    return dot < 0 ? [text, ""] : [text.slice(0, dot), text.slice(dot + 1)];
  };
  const [an, ae] = split(a);
  const [bn, be] = split(b);
  const pad = (x: string, y: string) => [x.padEnd(y.length, " "), y.padEnd(x.length, " ")];
  const [an2, bn2] = pad(an, bn);
  if (an2 !== bn2) return an2 < bn2 ? -1 : 1;
  const [ae2, be2] = pad(ae, be);
  return ae2 < be2 ? -1 : ae2 > be2 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// Directory records (ECMA-119 9.1) and the Rock Ridge system use entries

interface Continuation {
  sector: number;
  length: number;
}

function planTree(root: DirNode, rockRidge: boolean): TreeLayout {
  const ids = new Map<Node, Buffer>();
  const sorted = new Map<DirNode, Node[]>();
  const all: DirNode[] = [];
  const visit = (dir: DirNode) => {
    all.push(dir);
    const own = rockRidge
      ? isoIdentifiers(dir)
      : new Map([...dir.children.values()].map((n): [Node, Buffer] => [n, ucs2(n.name)]));
    for (const [node, id] of own) ids.set(node, id);
    sorted.set(dir, [...dir.children.values()].sort((a, b) => compareIds(own.get(a) as Buffer, own.get(b) as Buffer, rockRidge)));
    for (const sub of subdirs(dir)) visit(sub);
  };
  visit(root);
  const tree: TreeLayout = { ids, dirs: [], sorted, extent: new Map(), size: new Map(), rockRidge };
  // Path table order (ECMA-119 6.9.1): by level, then parent's number, then identifier.
  const order: DirNode[] = [root];
  for (let i = 0; i < order.length; i++) {
    order.push(...(sorted.get(order[i]) as Node[]).filter((n): n is DirNode => n.kind === "dir"));
  }
  tree.dirs = order;
  for (const dir of all) {
    const lengths = records(tree, dir, Buffer.alloc(7), { sector: 0, length: 0 }).map((r) => r.length);
    tree.size.set(dir, packedSize(lengths));
  }
  return tree;
}

/** Bytes a directory's records take when none may cross a sector boundary (ECMA-119 6.8.1.1). */
function packedSize(lengths: number[]): number {
  let used = 0;
  for (const len of lengths) {
    if ((used % SECTOR) + len > SECTOR) used = Math.ceil(used / SECTOR) * SECTOR;
    used += len;
  }
  return sectors(used) * SECTOR;
}

function directoryExtent(tree: TreeLayout, dir: DirNode, when: Buffer, ce: Continuation): Buffer {
  const out = Buffer.alloc(tree.size.get(dir) as number);
  let used = 0;
  for (const rec of records(tree, dir, when, ce)) {
    if ((used % SECTOR) + rec.length > SECTOR) used = Math.ceil(used / SECTOR) * SECTOR;
    rec.copy(out, used);
    used += rec.length;
  }
  return out;
}

/** The records of one directory: ".", "..", then its children in order. */
function records(tree: TreeLayout, dir: DirNode, when: Buffer, ce: Continuation): Buffer[] {
  const parent = dir.parent ?? dir;
  const rr = tree.rockRidge;
  const isRoot = dir.parent === undefined;
  const out = [
    record(tree, dir, Buffer.from([0]), when, rr ? [...(isRoot ? [sharingProtocol()] : []), posix(dir), ...(isRoot ? [continuationEntry(ce)] : [])] : []),
    record(tree, parent, Buffer.from([1]), when, rr ? [posix(parent)] : []),
  ];
  for (const node of tree.sorted.get(dir) as Node[]) {
    out.push(record(tree, node, tree.ids.get(node) as Buffer, when, rr ? [posix(node), alternateName(node.name)] : []));
  }
  return out;
}

function record(tree: TreeLayout, node: Node, id: Buffer, when: Buffer, systemUse: Buffer[]): Buffer {
  const su = Buffer.concat(systemUse);
  const idPad = id.length % 2 === 0 ? 1 : 0;
  let length = 33 + id.length + idPad + su.length;
  length += length % 2;
  if (length > 255) throw new Error(`config drive: directory record for '${node.name}' is too long`);
  const rec = Buffer.alloc(length);
  rec[0] = length;
  const [extent, size] = node.kind === "dir" ? [tree.extent.get(node) ?? 0, tree.size.get(node) ?? 0] : [node.extent, node.data.length];
  both32(rec, 2, extent);
  both32(rec, 10, size);
  when.copy(rec, 18);
  rec[25] = node.kind === "dir" ? 2 : 0;
  both16(rec, 28, 1);
  rec[32] = id.length;
  id.copy(rec, 33);
  su.copy(rec, 33 + id.length + idPad);
  return rec;
}

/** SUSP 5.3 `SP`: marks the use of SUSP; first entry of the root's "." record. */
function sharingProtocol(): Buffer {
  return Buffer.from([0x53, 0x50, 7, 1, 0xbe, 0xef, 0]);
}

/** SUSP 5.1 `CE`: where the rest of this record's entries continue (here: the `ER`). */
function continuationEntry(ce: Continuation): Buffer {
  const e = Buffer.alloc(28);
  e.write("CE", 0, "latin1");
  e[2] = 28;
  e[3] = 1;
  both32(e, 4, ce.sector);
  both32(e, 12, 0);
  both32(e, 20, ce.length);
  return e;
}

/** SUSP 5.5 `ER`: names the extension in use (Rock Ridge, RRIP 1991A). */
function extensionReference(): Buffer {
  const id = Buffer.from("RRIP_1991A", "latin1");
  const des = Buffer.from("THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS", "latin1");
  const src = Buffer.from("PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.", "latin1");
  const head = Buffer.from([0x45, 0x52, 8 + id.length + des.length + src.length, 1, id.length, des.length, src.length, 1]);
  return Buffer.concat([head, id, des, src]);
}

/** RRIP 4.1.1 `PX` (1991A form, 36 bytes): mode, links, uid 0, gid 0. */
function posix(node: Node): Buffer {
  const e = Buffer.alloc(36);
  e.write("PX", 0, "latin1");
  e[2] = 36;
  e[3] = 1;
  const mode = node.kind === "dir" ? S_IFDIR | DIR_MODE : S_IFREG | node.mode;
  both32(e, 4, mode);
  both32(e, 12, node.kind === "dir" ? 2 + subdirs(node).length : 1);
  return e;
}

/** RRIP 4.1.4 `NM`: the real name. */
function alternateName(name: string): Buffer {
  const bytes = Buffer.from(name, "latin1");
  return Buffer.concat([Buffer.from([0x4e, 0x4d, 5 + bytes.length, 1, 0]), bytes]);
}

// ---------------------------------------------------------------------------------------
// Path tables (ECMA-119 9.4) and volume descriptors (8.4, 8.5)

function pathTableSize(tree: TreeLayout): number {
  return tree.dirs.reduce((sum, dir) => {
    const len = dir.parent ? (tree.ids.get(dir) as Buffer).length : 1;
    return sum + 8 + len + (len % 2);
  }, 0);
}

function pathTable(tree: TreeLayout, order: "L" | "M"): Buffer {
  const out = Buffer.alloc(pathTableSize(tree));
  const number = new Map(tree.dirs.map((d, i) => [d, i + 1]));
  let at = 0;
  for (const dir of tree.dirs) {
    const id = dir.parent ? (tree.ids.get(dir) as Buffer) : Buffer.from([0]);
    out[at] = id.length;
    const parent = number.get(dir.parent ?? dir) as number;
    if (order === "L") {
      out.writeUInt32LE(tree.extent.get(dir) as number, at + 2);
      out.writeUInt16LE(parent, at + 6);
    } else {
      out.writeUInt32BE(tree.extent.get(dir) as number, at + 2);
      out.writeUInt16BE(parent, at + 6);
    }
    id.copy(out, at + 8);
    at += 8 + id.length + (id.length % 2);
  }
  return out;
}

function writeVolumeDescriptor(
  image: Buffer,
  type: 1 | 2,
  label: string,
  totalSectors: number,
  tree: TreeLayout,
  tableSize: number,
  tableL: number,
  tableM: number,
  stamp: Date,
  when: Buffer,
): void {
  const d = Buffer.alloc(SECTOR);
  const joliet = type === 2;
  const text = (value: string, at: number, length: number) => {
    const field = joliet ? ucs2(value.padEnd(length / 2, " ")) : Buffer.from(value.padEnd(length, " "), "latin1");
    field.copy(d, at, 0, length);
  };
  d[0] = type;
  d.write("CD001", 1, "latin1");
  d[6] = 1;
  text("", 8, 32); // system identifier
  text(label, 40, 32); // volume identifier
  both32(d, 80, totalSectors);
  if (joliet) d.write("%/E", 88, "latin1"); // UCS-2 level 3
  both16(d, 120, 1); // volume set size
  both16(d, 124, 1); // volume sequence number
  both16(d, 128, SECTOR);
  both32(d, 132, tableSize);
  d.writeUInt32LE(tableL, 140);
  d.writeUInt32BE(tableM, 148);
  const root = record(tree, tree.dirs[0], Buffer.from([0]), when, []);
  root.copy(d, 156);
  text("", 190, 128); // volume set
  text("", 318, 128); // publisher
  text("", 446, 128); // data preparer
  text(joliet ? "xen-coreos" : "XEN-COREOS", 574, 128); // application
  for (const at of [702, 739, 776]) text("", at, joliet ? 36 : 37); // copyright, abstract, bibliographic files
  descriptorDate(stamp).copy(d, 813); // creation
  descriptorDate(stamp).copy(d, 830); // modification
  descriptorDate(undefined).copy(d, 847); // expiration: none
  descriptorDate(undefined).copy(d, 864); // effective: at once
  d[881] = 1; // file structure version
  d.copy(image, (FIRST_DESCRIPTOR + type - 1) * SECTOR);
}

/** ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" and a GMT offset byte; all zeros means "not given". */
function descriptorDate(stamp: Date | undefined): Buffer {
  const out = Buffer.alloc(17);
  if (!stamp) {
    out.write("0000000000000000", 0, "latin1");
    return out;
  }
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  out.write(
    `${p(stamp.getUTCFullYear(), 4)}${p(stamp.getUTCMonth() + 1)}${p(stamp.getUTCDate())}${p(stamp.getUTCHours())}${p(stamp.getUTCMinutes())}${p(stamp.getUTCSeconds())}00`,
    0,
    "latin1",
  );
  return out;
}

/** ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, GMT offset. */
function recordDate(stamp: Date): Buffer {
  return Buffer.from([
    stamp.getUTCFullYear() - 1900,
    stamp.getUTCMonth() + 1,
    stamp.getUTCDate(),
    stamp.getUTCHours(),
    stamp.getUTCMinutes(),
    stamp.getUTCSeconds(),
    0,
  ]);
}

function sectors(bytes: number): number {
  return Math.ceil(bytes / SECTOR);
}

/** ECMA-119 7.3.3: little-endian then big-endian copy of a 32-bit number. */
function both32(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value, at);
  buf.writeUInt32BE(value, at + 4);
}

/** ECMA-119 7.2.3: both-byte-order 16-bit number. */
function both16(buf: Buffer, at: number, value: number): void {
  buf.writeUInt16LE(value, at);
  buf.writeUInt16BE(value, at + 2);
}
