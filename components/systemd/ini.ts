/**
 * The one writer for systemd-style INI text (unit files, .network files). Sections and
 * their directives are written in the order given, so callers decide a fixed order and
 * the output is byte-for-byte stable; values are checked, never escaped silently.
 */

/** One `Key=Value` line; repeated keys are allowed and kept in order. */
export type Directive = readonly [key: string, value: string];

/** A section name and its directives, e.g. ["Unit", [["Description", "…"]]]. */
export type IniSection = readonly [name: string, directives: ReadonlyArray<Directive>];

const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;
const SECTION = /^[A-Za-z][A-Za-z0-9 _-]*$/;

/** Renders sections as INI text; empty sections are left out. Throws on a key, section or value systemd would misread. */
export function renderIni(sections: ReadonlyArray<IniSection>): string {
  const blocks: string[] = [];
  for (const [name, directives] of sections) {
    if (!SECTION.test(name)) throw new Error(`invalid section name ${JSON.stringify(name)}`);
    if (directives.length === 0) continue;
    const lines = [`[${name}]`];
    for (const [key, value] of directives) {
      if (!KEY.test(key)) throw new Error(`invalid key ${JSON.stringify(key)} in [${name}]`);
      if (typeof value !== "string") throw new Error(`value of ${key} in [${name}] must be a string`);
      if (/[\r\n]/.test(value)) throw new Error(`value of ${key} in [${name}] contains a line break: ${JSON.stringify(value)}`);
      if (value.includes("\0")) throw new Error(`value of ${key} in [${name}] contains a NUL byte`);
      if (value.endsWith("\\")) throw new Error(`value of ${key} in [${name}] ends with a backslash, which systemd reads as a line continuation`);
      lines.push(`${key}=${value}`);
    }
    blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n") + "\n";
}

/**
 * The unit name systemd derives from a path (`systemd-escape --path --suffix=mount`):
 * `/mnt/nfs` → `mnt-nfs.mount`, `/srv/my-data` → `srv-my\x2ddata.mount`.
 */
export function pathToUnitName(path: string, suffix: "mount" | "automount" | "path" = "mount"): string {
  const trimmed = path.replace(/^\/+|\/+$/g, "").replace(/\/+/g, "/");
  if (trimmed === "") return `-.${suffix}`;
  const escaped = trimmed
    .split("/")
    .map((part, partIndex) =>
      Array.from(Buffer.from(part, "utf8"))
        .map((byte, i) => {
          const ch = String.fromCharCode(byte);
          // A dot is escaped only as the very first character of the name.
          const plain = /[A-Za-z0-9:_]/.test(ch) || (ch === "." && (partIndex > 0 || i > 0));
          return plain ? ch : `\\x${byte.toString(16).padStart(2, "0")}`;
        })
        .join(""),
    )
    .join("-");
  return `${escaped}.${suffix}`;
}
