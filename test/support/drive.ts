/**
 * Reads a config drive the way a node would see it: the ConfigDrive command's standard input is
 * the config-2 image in base64; its `openstack/latest/user_data` is read back with a real ISO
 * 9660 reader (`isoinfo`, Debian's genisoimage), Rock Ridge names.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function userDataOfDrive(stdinBase64: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drive-"));
  try {
    const image = path.join(dir, "config-2.iso");
    fs.writeFileSync(image, Buffer.from(stdinBase64, "base64"));
    const label = execFileSync("isoinfo", ["-d", "-i", image], { encoding: "utf8" }).match(/^Volume id: (.*)$/m)?.[1];
    if (label !== "config-2") throw new Error(`the drive's volume label is ${JSON.stringify(label)}, not config-2`);
    return execFileSync("isoinfo", ["-i", image, "-R", "-x", "/openstack/latest/user_data"], { encoding: "utf8" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
