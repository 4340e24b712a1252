import { spawnSync } from "child_process";
import {
  renderConfigDriveCreateScript,
  renderConfigDriveDeleteScript,
  renderGuestAgentScript,
  renderIsoRepositoryScript,
  renderVmConvergeScript,
  renderNodeHaltScript,
  renderVmDeleteScript,
  VmSpec,
} from "../../components/xen/xe-scripts";
import { expectGolden } from "../golden";
import { describeWith, shellcheck } from "../support/prereq";

export const LAB_VM: VmSpec = {
  nameLabel: "coreos1",
  template: "CoreOS",
  storageRepository: "Local storage",
  network: "Pool-wide network associated with eth0",
  isoName: "coreos_production_iso_image.iso",
  vcpus: 1,
  memoryMiB: 1024,
  diskGiB: 8,
};

const DRIVE = { marker: "0123456789abcdef/lab/coreos1/0123456789ab", nameLabel: "coreos1 config-2 (xen-coreos)", storageRepository: "Local storage", imageBytes: 57344, imageSha256: "0".repeat(64), vdiBytes: 2097152 };
const ISO = { name: "ISOS", location: "/var/opt/isos", isoName: "coreos_production_iso_image.iso" };

const SCRIPTS: Record<string, string> = {
  "vm-converge.sh": renderVmConvergeScript(LAB_VM),
  "node-halt.sh": renderNodeHaltScript({ nameLabel: "coreos1", vcpus: 1, memoryMiB: 2048, diskGiB: 8, configDriveVdi: "b1e1a9d2-0000-4000-8000-000000000001" }),
  "vm-delete.sh": renderVmDeleteScript({ marker: "0123456789abcdef/lab/coreos1/89abcdef", nameLabel: "coreos1" }),
  "config-drive-create.sh": renderConfigDriveCreateScript(DRIVE),
  "config-drive-delete.sh": renderConfigDriveDeleteScript(DRIVE),
  "iso-repository.sh": renderIsoRepositoryScript(ISO),
  "guest-agent.sh": renderGuestAgentScript(),
};

describe("xe scripts", () => {
  it.each(Object.keys(SCRIPTS))("%s matches its golden file", (name) => {
    expectGolden(`xen/${name}`, SCRIPTS[name]);
  });

  it("the update script differs from the create script only in the old marker it may take over", () => {
    const create = renderVmConvergeScript(LAB_VM).split("\n");
    const update = renderVmConvergeScript({ ...LAB_VM, legacyMarker: "lab/lab/coreos1" }).split("\n");
    expect(update.filter((line, i) => line !== create[i])).toEqual(["legacy_marker=lab/lab/coreos1"]);
    expect(create).toContain("legacy_marker=''");
  });

  it("puts every setting in one quoted assignment, so a preview diff shows exactly what changed", () => {
    const before = renderVmConvergeScript(LAB_VM).split("\n");
    const after = renderVmConvergeScript({ ...LAB_VM, memoryMiB: 2048 }).split("\n");
    const changed = after.filter((line, i) => line !== before[i]);
    expect(changed).toEqual(["memory_bytes=2147483648"]);
  });

  it.each(["x'; reboot; '", "$(touch /tmp/pwned)", "a\nb", "`id`", "sp ace;|&", "\"dq\" \\ $HOME"])(
    "a hostile value %j reaches the shell as one literal word",
    (hostile) => {
      const script = renderVmConvergeScript({ ...LAB_VM, storageRepository: hostile, network: hostile });
      // Run only the assignment prologue through a real shell and read the values back.
      const prologue = script.split("\nset -eu")[0];
      const r = spawnSync("sh", ["-c", `${prologue}\nprintf '%s\\0%s' "$sr_name" "$network_name"`], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(r.stdout.split("\0")).toEqual([hostile, hostile]);
    },
  );
});

describeWith(["shellcheck"], "lint of every generated shell script")("shellcheck on the xe scripts", () => {
  it.each(Object.keys(SCRIPTS))("%s is clean", (name) => {
    expect(shellcheck(SCRIPTS[name], "sh")).toBe("");
  });
});
