/**
 * A node's file set (a service's config and scripts, its certificates) as one transfer:
 * the standard input of `scripts/node-files-write.sh`, and that script with its header.
 * Pure: plain values in, text out. The standard input stays readable text (a preview diff
 * of a config change shows the changed lines), and each file carries its sha256, which the
 * node checks before anything is replaced.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { scriptWithHeader } from "../shell";

export interface NodeFileSpec {
  /** Absolute path on the node. */
  path: string;
  content: string;
  /** Octal mode, e.g. 0o644; keys 0o600. */
  mode: number;
}

const body = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");

const PATH_RE = /^(\/[A-Za-z0-9_.@+-]+)+$/;

/** Checks a set: absolute normalised paths of safe characters, no duplicates, modes in range. */
export function checkFileSet(files: ReadonlyArray<Pick<NodeFileSpec, "path" | "mode">>, protectedDirs: string[] = []): void {
  if (files.length === 0) throw new Error("a file set needs at least one file");
  const seen = new Set<string>();
  for (const f of files) {
    if (!PATH_RE.test(f.path) || f.path.split("/").some((s) => s === "." || s === ".."))
      throw new Error(`file path ${JSON.stringify(f.path)} must be an absolute, normalised path of [A-Za-z0-9_.@+-] segments`);
    if (seen.has(f.path)) throw new Error(`file ${f.path} appears twice in the set`);
    seen.add(f.path);
    if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777) throw new Error(`file ${f.path}: mode ${f.mode} is not a file mode`);
    for (const dir of protectedDirs) {
      if (f.path === dir || f.path.startsWith(dir.replace(/\/+$/, "") + "/"))
        throw new Error(`${f.path} is under ${dir}, which holds customer data: the program never writes or deletes there`);
    }
  }
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

/** The write script's standard input for the set (see the script's header comment). */
export function renderNodeFilesStdin(files: ReadonlyArray<NodeFileSpec>): string {
  checkFileSet(files);
  const out: string[] = [];
  for (const f of files) {
    out.push(`==> ${f.mode.toString(8).padStart(4, "0")} ${sha256(f.content)} ${f.path}`);
    if (f.content !== "") {
      const text = f.content.endsWith("\n") ? f.content.slice(0, -1) : f.content;
      for (const line of text.split("\n")) out.push(`|${line}`);
    }
  }
  out.push("==> end");
  return out.join("\n") + "\n";
}

/** Directory mode of the folders the set creates: root-owned, not writable by others. */
export const NODE_FILES_DIR_MODE = "0755";

export function renderNodeFilesWriteScript(setName: string, paths: string[], restartUnits: string[] = []): string {
  for (const unit of restartUnits) if (!/^[A-Za-z0-9@._:-]+\.(service|socket|target|timer)$/.test(unit)) throw new Error(`${JSON.stringify(unit)} is not a systemd unit name`);
  return scriptWithHeader(body("node-files-write.sh"), {
    title: `files ${setName}`,
    what: "files $set_name",
    params: [["set_name", setName], ["dir_mode", NODE_FILES_DIR_MODE], ["paths", paths.join("\n")], ["restart_units", restartUnits.join(" ")]],
  });
}

export function renderNodeFilesRemoveScript(setName: string, paths: string[]): string {
  return scriptWithHeader(body("node-files-remove.sh"), {
    title: `remove files ${setName}`,
    what: "files $set_name",
    params: [["set_name", setName], ["paths", paths.join("\n")]],
  });
}
