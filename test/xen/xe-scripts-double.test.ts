/**
 * The generated xe scripts run by a real sh against the xe double (test/sandbox/bin/xe),
 * which accepts only the real xapi CLI grammar and keeps VM/VDI/VBD state. This is the
 * whole node lifecycle without SSH: the engine tests add sshd and Pulumi on top.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  missingTemplateFix,
  renderConfigDriveCreateScript,
  renderConfigDriveDeleteScript,
  renderIsoRepositoryScript,
  renderVmConvergeScript,
  renderVmDeleteScript,
  vmConvergeInput,
  VmSpec,
} from "../../components/xen/xe-scripts";
import { buildUserDataImage, encodeForStdin, imageSha256, paddedSize } from "../../components/xen/config-drive-image";
import { describeWith } from "../support/prereq";

const XE_BIN = path.join(__dirname, "..", "sandbox", "bin");
let dir: string;

interface Run { status: number | null; stdout: string; stderr: string }

function sh(script: string, opts: { stdin?: string; env?: Record<string, string> } = {}): Run {
  const env = { ...process.env, PATH: `${XE_BIN}:${process.env.PATH}`, XE_STATE: path.join(dir, "state.json"), HOME: dir, ...opts.env };
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", input: opts.stdin ?? "", env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function xe(...args: string[]): string {
  const r = spawnSync(path.join(XE_BIN, "xe"), args, { encoding: "utf8", env: { ...process.env, XE_STATE: path.join(dir, "state.json"), HOME: dir } });
  if (r.status !== 0) throw new Error(`xe ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

function calls(): string[][] {
  const log = path.join(dir, "state.json.log");
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l).argv) : [];
}

const lastLine = (s: string) => s.trim().split("\n").pop()!;

/** What the node does when XenVm's halt request reaches it: it powers itself off (the xe double's guest hook). */
const guestPowerOff = (name = "coreos1") => xe("xe-double-guest", `name-label=${name}`, "action=poweroff");

type VmWithDrive = VmSpec & { configDriveVdi: string; marker: string };

/** Runs the converge script with the config drive's uuid and the marker on standard input, as XenVm does. */
function converge(spec: VmWithDrive, opts: { env?: Record<string, string> } = {}): Run {
  const { configDriveVdi, marker, ...vm } = spec;
  return sh(renderVmConvergeScript(vm), { ...opts, stdin: vmConvergeInput(configDriveVdi, marker) });
}

function vmSpec(overrides: Partial<VmWithDrive> = {}): VmWithDrive {
  return {
    marker: "lab/lab/coreos1",
    nameLabel: "coreos1",
    template: "CoreOS",
    storageRepository: "Local storage",
    network: "cluster",
    isoName: "coreos_production_iso_image.iso",
    configDriveVdi: "",
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB: 8,
    ...overrides,
  };
}

/** A config drive's create script and its standard input, as ConfigDrive builds them from a cloud-config. */
function driveCreate(marker: string, userData: string): { script: string; stdin: string } {
  const image = buildUserDataImage(userData);
  return {
    script: renderConfigDriveCreateScript({ ...DRIVE(marker), imageBytes: image.length, imageSha256: imageSha256(image), vdiBytes: paddedSize(image.length) }),
    stdin: userData === "" ? "" : encodeForStdin(image),
  };
}
const DRIVE = (marker: string) => ({ marker, nameLabel: "coreos1 config-2 (xen-coreos)", storageRepository: "Local storage" });
const createDrive = (marker: string, userData: string, opts: { env?: Record<string, string> } = {}) => {
  const d = driveCreate(marker, userData);
  return sh(d.script, { ...opts, stdin: d.stdin });
};

/** ISO library with the install ISO, and one config drive: what a VM needs before it is created. */
function prepareHost(): { drive: string } {
  fs.mkdirSync(path.join(dir, "isos"));
  fs.writeFileSync(path.join(dir, "isos", "coreos_production_iso_image.iso"), Buffer.alloc(4096));
  const iso = sh(renderIsoRepositoryScript({ name: "ISOS", location: path.join(dir, "isos"), isoName: "coreos_production_iso_image.iso" }));
  expect(iso.stderr).toBe("");
  expect(iso.status).toBe(0);
  const drive = createDrive("lab/lab/coreos1/aaaa", "#cloud-config\nhostname: coreos1\n");
  expect(drive.status).toBe(0);
  return { drive: lastLine(drive.stdout) };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xe-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describeWith(["openssl", "base64"], "checks the config-2 image on the host")("xe scripts against the xe double", () => {
  it("the ISO library is created once, scanned, and must hold the install ISO", () => {
    const spec = { name: "ISOS", location: path.join(dir, "isos"), isoName: "coreos_production_iso_image.iso" };
    const missing = sh(renderIsoRepositoryScript(spec));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("the CoreOS install ISO coreos_production_iso_image.iso is not in");
    fs.writeFileSync(path.join(spec.location, spec.isoName), Buffer.alloc(1024));
    const first = sh(renderIsoRepositoryScript(spec));
    const second = sh(renderIsoRepositoryScript(spec));
    expect(first.status).toBe(0);
    expect(lastLine(second.stdout)).toBe(lastLine(first.stdout));
    expect(xe("sr-list", "type=iso", "--minimal").split(",")).toHaveLength(1);
  });

  it("a config drive is a config-2 ISO in a marked VDI; re-running finds it; delete removes it and tolerates it gone", () => {
    prepareHost();
    const again = createDrive("lab/lab/coreos1/aaaa", "#cloud-config\n");
    const vdis = xe("vdi-list", "other-config:xen-coreos-config-drive=lab/lab/coreos1/aaaa", "--minimal");
    expect(vdis.split(",")).toHaveLength(1);
    expect(lastLine(again.stdout)).toBe(vdis);
    expect(calls().filter((c) => c[0] === "vdi-import")).toHaveLength(1);
    expect(sh(renderConfigDriveDeleteScript(DRIVE("lab/lab/coreos1/aaaa"))).status).toBe(0);
    expect(xe("vdi-list", "other-config:xen-coreos-config-drive=lab/lab/coreos1/aaaa", "--minimal")).toBe("");
    const gone = sh(renderConfigDriveDeleteScript(DRIVE("lab/lab/coreos1/aaaa")));
    expect(gone.status).toBe(0);
    expect(gone.stderr).toContain("already gone");
  });

  it("an image cut short on standard input is refused and leaves no VDI", () => {
    const r = createDrive("lab/lab/coreos1/bbbb", "");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/config-2 image arrived with 0 bytes, expected \d+/);
    expect(xe("vdi-list", "other-config:xen-coreos-config-drive=lab/lab/coreos1/bbbb", "--minimal")).toBe("");
  });

  it("converge creates a running VM with the settings, its VIF, CD and config drive", () => {
    const { drive } = prepareHost();
    const r = converge(vmSpec({ configDriveVdi: drive, vcpus: 2, memoryMiB: 1536, diskGiB: 10 }));
    expect(r.stderr).toContain("applying");
    expect(r.status).toBe(0);
    const vm = lastLine(r.stdout);
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=power-state")).toBe("running");
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=VCPUs-max")).toBe("2");
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=memory-static-max")).toBe(String(1536 * 1024 * 1024));
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=other-config", "param-key=xen-coreos-node")).toBe("lab/lab/coreos1");
    const sysVdi = xe("vbd-list", `vm-uuid=${vm}`, "userdevice=0", "params=vdi-uuid", "--minimal");
    expect(xe("vdi-param-get", `uuid=${sysVdi}`, "param-name=virtual-size")).toBe(String(10 * 1024 ** 3));
    expect(xe("vbd-list", `vm-uuid=${vm}`, "userdevice=1", "params=vdi-uuid", "--minimal")).toBe(drive);
    expect(xe("vbd-list", `vm-uuid=${vm}`, "type=CD", "--minimal")).not.toBe("");
    expect(xe("vif-list", `vm-uuid=${vm}`, "params=network-name-label", "--minimal")).toBe("cluster");
  });

  it("a second converge with the same settings changes nothing", () => {
    const { drive } = prepareHost();
    const spec = vmSpec({ configDriveVdi: drive });
    const first = lastLine(converge(spec).stdout);
    const before = calls().length;
    const second = converge(spec);
    expect(second.status).toBe(0);
    expect(lastLine(second.stdout)).toBe(first);
    const writes = calls().slice(before).filter((c) => !/-(list|param-get)$/.test(c[0]));
    expect(writes).toEqual([]);
  });

  it("a memory change is applied in place once the node has powered itself off: set, start; the VM keeps its uuid", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive })).stdout);
    guestPowerOff();
    const before = calls().length;
    const r = converge(vmSpec({ configDriveVdi: drive, memoryMiB: 2048 }));
    expect(r.status).toBe(0);
    expect(lastLine(r.stdout)).toBe(vm);
    const writes = calls().slice(before).filter((c) => !/-(list|param-get)$/.test(c[0])).map((c) => c[0]);
    expect(writes).toEqual(["vm-memory-limits-set", "vm-start"]);
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=memory-dynamic-max")).toBe(String(2048 * 1024 * 1024));
  });

  it("fewer vCPUs lowers VCPUs-at-startup before VCPUs-max", () => {
    const { drive } = prepareHost();
    converge(vmSpec({ configDriveVdi: drive, vcpus: 4 }));
    guestPowerOff();
    const before = calls().length;
    expect(converge(vmSpec({ configDriveVdi: drive, vcpus: 2 })).status).toBe(0);
    const sets = calls().slice(before).filter((c) => c[0] === "vm-param-set").map((c) => c[2]);
    expect(sets).toEqual(["VCPUs-at-startup=2", "VCPUs-max=2"]);
  });

  it("a new config drive is swapped in with a reboot", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive })).stdout);
    const next = lastLine(createDrive("lab/lab/coreos1/cccc", "#cloud-config\nhostname: new\n").stdout);
    guestPowerOff();
    expect(converge(vmSpec({ configDriveVdi: next })).status).toBe(0);
    expect(xe("vbd-list", `vm-uuid=${vm}`, "userdevice=1", "params=vdi-uuid", "--minimal")).toBe(next);
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=power-state")).toBe("running");
    // The old drive is now unattached; its own delete removes it.
    expect(sh(renderConfigDriveDeleteScript(DRIVE("lab/lab/coreos1/aaaa"))).status).toBe(0);
    expect(xe("vdi-list", `uuid=${drive}`, "--minimal")).toBe("");
  });

  it("a smaller disk is refused with the fix, and nothing is changed", () => {
    const { drive } = prepareHost();
    converge(vmSpec({ configDriveVdi: drive, diskGiB: 10 }));
    const before = calls().length;
    const r = converge(vmSpec({ configDriveVdi: drive, diskGiB: 8 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("xen-coreos: node coreos1: the system disk is 10737418240 bytes, larger than diskGiB asks (8589934592): a disk cannot shrink.");
    expect(calls().slice(before).filter((c) => !/-(list|param-get)$/.test(c[0]))).toEqual([]);
  });

  it("a shrink refused after the node halted for it starts the node again", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive, diskGiB: 10 })).stdout);
    guestPowerOff();
    const r = converge(vmSpec({ configDriveVdi: drive, diskGiB: 8 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("a disk cannot shrink");
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=power-state")).toBe("running");
  });

  it("a running node without the guest agent: xapi refuses a clean shutdown, so converge never asks for one", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive })).stdout);
    // The rule the double keeps (XenServer 6.5's xapi): clean shutdown needs the agent.
    const clean = spawnSync(path.join(XE_BIN, "xe"), ["vm-shutdown", `uuid=${vm}`], { encoding: "utf8", env: { ...process.env, XE_STATE: path.join(dir, "state.json") } });
    expect(clean.status).toBe(1);
    expect(clean.stderr).toContain("You attempted an operation which needs the cooperative shutdown feature on a VM which lacks it.");
    // The node never powers off: converge waits its bounded time, then fails naming the fix, and changes nothing.
    const before = calls().length;
    const r = converge(vmSpec({ configDriveVdi: drive, memoryMiB: 2048, haltTimeoutSeconds: 2 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("xen-coreos: node coreos1: the VM is still running 2s after the node was asked to power off");
    expect(r.stderr).toContain("xen-coreos:xenserver.hardPowerOff");
    expect(calls().slice(before).map((c) => c[0]).filter((c) => !/-(list|param-get)$/.test(c))).toEqual([]);
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=memory-static-max")).toBe(String(1024 * 1024 * 1024));
  });

  it("with hardPowerOff, a node that does not halt in time is powered off hard, then changed and started", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive })).stdout);
    const before = calls().length;
    const r = converge(vmSpec({ configDriveVdi: drive, memoryMiB: 2048, haltTimeoutSeconds: 2, hardPowerOff: true }));
    expect(r.status).toBe(0);
    expect(calls().slice(before).map((c) => c.join(" ")).filter((c) => !/^\S+-(list|param-get)/.test(c))).toEqual([
      `vm-shutdown uuid=${vm} force=true`,
      `vm-memory-limits-set uuid=${vm} static-min=2147483648 dynamic-min=2147483648 dynamic-max=2147483648 static-max=2147483648`,
      `vm-start uuid=${vm}`,
    ]);
  });

  it("a node that powers itself off while converge waits is changed and started", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive })).stdout);
    // As the node does after XenVm's halt request: it goes down a few seconds later.
    const later = spawnSync("sh", ["-c", `(sleep 3; "${path.join(XE_BIN, "xe")}" xe-double-guest name-label=coreos1 action=poweroff) >/dev/null 2>&1 &`], { env: { ...process.env, XE_STATE: path.join(dir, "state.json") } });
    expect(later.status).toBe(0);
    const r = converge(vmSpec({ configDriveVdi: drive, memoryMiB: 2048, haltTimeoutSeconds: 30 }));
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("waiting up to 30s for the node to halt");
    expect(calls().some((c) => c[0] === "vm-shutdown")).toBe(false);
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=memory-static-max")).toBe(String(2048 * 1024 * 1024));
    expect(xe("vm-param-get", `uuid=${vm}`, "param-name=power-state")).toBe("running");
  });

  it("a config drive VDI is sized to a 2 MiB multiple and holds the padded image; the double refuses a shorter file", () => {
    const { drive } = prepareHost();
    const size = Number(xe("vdi-param-get", `uuid=${drive}`, "param-name=virtual-size"));
    expect(size % (2 * 1024 * 1024)).toBe(0);
    const imported = calls().find((c) => c[0] === "vdi-import");
    expect(imported).toBeDefined();
    // The double's 6.5 rule: a raw file shorter than the VDI is refused (xscontainer pads for it).
    const short = path.join(dir, "short.img");
    fs.writeFileSync(short, Buffer.alloc(1024));
    const sr = xe("sr-list", "name-label=Local storage", "--minimal");
    const vdi = xe("vdi-create", `sr-uuid=${sr}`, "name-label=short", "type=user", "virtual-size=1024");
    expect(xe("vdi-param-get", `uuid=${vdi}`, "param-name=virtual-size")).toBe(String(2 * 1024 * 1024));
    const r = spawnSync(path.join(XE_BIN, "xe"), ["vdi-import", `uuid=${vdi}`, `filename=${short}`], { encoding: "utf8", env: { ...process.env, XE_STATE: path.join(dir, "state.json") } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("a raw import must match the VDI's size");
  });

  it("in a pool, 'Local storage' names one SR per host, and a local sr-create needs host-uuid", () => {
    fs.writeFileSync(path.join(dir, "seed.json"), JSON.stringify({ hosts: [{ "name-label": "xs1" }, { "name-label": "xs2" }, { "name-label": "xs3" }] }));
    const env = { ...process.env, XE_STATE: path.join(dir, "state.json"), XE_SEED: path.join(dir, "seed.json") };
    const run = (...args: string[]) => spawnSync(path.join(XE_BIN, "xe"), args, { encoding: "utf8", env });
    expect(run("sr-list", "name-label=Local storage", "--minimal").stdout.trim().split(",")).toHaveLength(3);
    fs.mkdirSync(path.join(dir, "isos2"));
    const noHost = run("sr-create", "name-label=ISOS", "type=iso", `device-config:location=${path.join(dir, "isos2")}`, "device-config:legacy_mode=true", "content-type=iso");
    expect(noHost.status).toBe(1);
    expect(noHost.stderr).toContain("Required parameter not found: host-uuid");
    // The VM converge script refuses the ambiguous name instead of picking one host's disk.
    fs.mkdirSync(path.join(dir, "isos"));
    const { drive } = { drive: "" };
    expect(drive).toBe("");
    const r = sh(renderVmConvergeScript(vmSpec()), { stdin: vmConvergeInput("some-vdi", "m/lab/coreos1/1"), env: { XE_SEED: path.join(dir, "seed.json") } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("storage repository 'Local storage' (xen-coreos:xenserver.storageRepository) matches several objects");
  });

  it("a failure halfway names the node; the re-run finishes without a second VM", () => {
    const { drive } = prepareHost();
    const failed = converge(vmSpec({ configDriveVdi: drive }), { env: { XE_FAIL_ON: "vm-cd-add" } });
    expect(failed.status).not.toBe(0);
    const again = converge(vmSpec({ configDriveVdi: drive }));
    expect(again.status).toBe(0);
    expect(xe("vm-list", "other-config:xen-coreos-node=lab/lab/coreos1", "--minimal").split(",")).toHaveLength(1);
    expect(xe("vm-list", "name-label=coreos1", "--minimal").split(",")).toHaveLength(1);
  });

  it("a missing network or template is named with its setting", () => {
    const { drive } = prepareHost();
    const r = converge(vmSpec({ configDriveVdi: drive, network: "no such net" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("xen-coreos: node coreos1: network 'no such net' (xen-coreos:xenserver.network) not found");
    expect(xe("vm-list", "name-label=coreos1", "--minimal")).toBe("");
  });

  it("a missing template fails with the fix for the host version (no \"CoreOS\" on XenServer 8 / XCP-ng 8.3)", () => {
    const { drive } = prepareHost();
    for (const version of ["6.5", "xcp-ng-8.3"] as const) {
      const r = converge(vmSpec({ configDriveVdi: drive, template: "No Such Template", templateFix: missingTemplateFix(version) }));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("xen-coreos: node coreos1: template 'No Such Template' not found on this host (xen-coreos:xenserver.template). Fix: ");
      expect(r.stderr).toContain(version === "6.5" ? "xen-coreos:xenserver.version to 8 or xcp-ng-8.3" : 'XCP-ng 8.3 installs from "Generic Linux BIOS"');
      expect(xe("vm-list", "name-label=coreos1", "--minimal")).toBe("");
    }
  });

  it("delete shuts down and uninstalls with the system disk, keeps the ISO, and tolerates a VM already gone", () => {
    const { drive } = prepareHost();
    const vm = lastLine(converge(vmSpec({ configDriveVdi: drive })).stdout);
    const sysVdi = xe("vbd-list", `vm-uuid=${vm}`, "userdevice=0", "params=vdi-uuid", "--minimal");
    const del = sh(renderVmDeleteScript({ marker: "lab/lab/coreos1", nameLabel: "coreos1" }));
    expect(del.stderr).toBe("");
    expect(del.status).toBe(0);
    expect(xe("vm-list", `uuid=${vm}`, "--minimal")).toBe("");
    expect(xe("vdi-list", `uuid=${sysVdi}`, "--minimal")).toBe("");
    expect(xe("vdi-list", "name-label=coreos_production_iso_image.iso", "--minimal")).not.toBe("");
    expect(sh(renderConfigDriveDeleteScript(DRIVE("lab/lab/coreos1/aaaa"))).status).toBe(0);
    expect(xe("vdi-list", "--minimal")).toBe(xe("vdi-list", "name-label=coreos_production_iso_image.iso", "--minimal"));
    const gone = sh(renderVmDeleteScript({ marker: "lab/lab/coreos1", nameLabel: "coreos1" }));
    expect(gone.status).toBe(0);
    expect(gone.stderr).toContain("VM already gone");
  });

  it("a template without a disk gets a system disk that uninstall removes too", () => {
    fs.writeFileSync(path.join(dir, "seed.json"), JSON.stringify({ templates: [{ "name-label": "CoreOS", disks: [] }] }));
    const env = { XE_SEED: path.join(dir, "seed.json") };
    fs.mkdirSync(path.join(dir, "isos"));
    fs.writeFileSync(path.join(dir, "isos", "coreos_production_iso_image.iso"), Buffer.alloc(4096));
    sh(renderIsoRepositoryScript({ name: "ISOS", location: path.join(dir, "isos"), isoName: "coreos_production_iso_image.iso" }), { env });
    const drive = lastLine(createDrive("m/aaaa", "#cloud-config\n", { env }).stdout);
    const r = converge(vmSpec({ configDriveVdi: drive }), { env });
    expect(r.status).toBe(0);
    const vm = lastLine(r.stdout);
    const sysVdi = xe("vbd-list", `vm-uuid=${vm}`, "userdevice=0", "params=vdi-uuid", "--minimal");
    expect(xe("vdi-param-get", `uuid=${sysVdi}`, "param-name=virtual-size")).toBe(String(8 * 1024 ** 3));
    expect(sh(renderVmDeleteScript({ marker: "lab/lab/coreos1", nameLabel: "coreos1" }), { env }).status).toBe(0);
    expect(xe("vdi-list", `uuid=${sysVdi}`, "--minimal")).toBe("");
  });

  it.each(["it's a net", "$(touch pwned)", "semi;colon & pipe|", "back`tick`", "dq\"net\" \\ x"])(
    "a hostile XenServer name %j reaches xe as one argument",
    (hostile) => {
      fs.writeFileSync(path.join(dir, "seed.json"), JSON.stringify({ networks: [{ "name-label": hostile }] }));
      const { drive } = prepareHost();
      const r = converge(vmSpec({ configDriveVdi: drive, network: hostile }), { env: { XE_SEED: path.join(dir, "seed.json") } });
      expect(r.stderr).not.toContain("not found");
      expect(r.status).toBe(0);
      const vm = lastLine(r.stdout);
      // The seed holds just this one network.
      expect(xe("vif-list", `vm-uuid=${vm}`, "params=network-uuid", "--minimal")).toBe(xe("network-list", "--minimal"));
      expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
      expect(calls().find((c) => c[0] === "network-list")).toEqual(["network-list", `name-label=${hostile}`, "--minimal"]);
    },
  );
});
