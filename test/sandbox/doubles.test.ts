/**
 * Tests of the `xe` and `fleetctl` test doubles in `test/sandbox/bin`: they run the scripts as
 * child processes, each test with its own temporary state directory, and check the grammar errors
 * (texts from the xapi / fleet sources, see xe-grammar.ts), a full VM lifecycle, failure injection,
 * fleet scheduling and concurrent use of the state file.
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { XE_COMMANDS, XE_GRAMMAR, xeGrammarJson } from "./xe-grammar";

const BIN = path.join(__dirname, "bin");
const XE = path.join(BIN, "xe");
const FLEETCTL = path.join(BIN, "fleetctl");
const GiB = 1024 ** 3;

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-doubles-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const xeState = () => path.join(dir, "xe", "state.json");
const fleetState = () => path.join(dir, "fleet", "state.json");

function xe(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Result {
  const r = spawnSync(process.execPath, [XE, ...args], {
    env: { ...process.env, XE_STATE: xeState(), ...opts.env },
    input: opts.input ?? "",
    encoding: "utf8",
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}
/** Runs xe and returns trimmed stdout, failing the test on a non-zero exit. */
function xeOk(args: string[], env?: Record<string, string>): string {
  const r = xe(args, { env });
  if (r.code !== 0) throw new Error(`xe ${args.join(" ")} -> ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}
function fleet(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Result {
  const r = spawnSync(process.execPath, [FLEETCTL, ...args], {
    env: { ...process.env, FLEET_STATE: fleetState(), FLEET_POLL_MS: "5", FLEET_MAX_WAIT_MS: "300", ...opts.env },
    cwd: opts.cwd ?? dir,
    encoding: "utf8",
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}
function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}
interface XeState {
  vms: Array<Record<string, unknown>>;
  vdis: Array<Record<string, unknown>>;
  vbds: Array<Record<string, unknown>>;
  vifs: Array<Record<string, unknown>>;
  srs: Array<Record<string, unknown>>;
}
interface LogLine {
  argv: string[];
  exit: number;
  start: number;
  end: number;
}
const logLines = (file: string): LogLine[] =>
  fs
    .readFileSync(`${file}.log`, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as LogLine);

const INTERNAL =
  "The server failed to handle your request, due to an internal error.  The given message may give details useful for debugging the problem.";

describe("xe grammar table", () => {
  it("bin/xe-grammar.json is generated from xe-grammar.ts", () => {
    const file = path.join(BIN, "xe-grammar.json");
    if (process.env.UPDATE_XE_GRAMMAR === "1") fs.writeFileSync(file, xeGrammarJson());
    expect(fs.readFileSync(file, "utf8")).toBe(xeGrammarJson());
  });

  it("covers every command the project uses, each with its source", () => {
    const needed =
      "vm-list vm-install vm-param-set vm-param-get vm-memory-limits-set vm-start vm-shutdown vm-uninstall vm-cd-add " +
      "vm-cd-remove vm-disk-list vm-vif-list template-list vbd-list vbd-create vbd-destroy vbd-unplug vbd-param-get vbd-param-set vdi-list " +
      "vdi-create vdi-import vdi-resize vdi-destroy vdi-param-set vdi-param-get vif-create vif-list network-list sr-list " +
      "sr-create sr-scan cd-list host-list";
    expect(XE_COMMANDS.map((c) => c.name).sort()).toEqual(needed.split(" ").sort());
    for (const c of XE_COMMANDS) expect(c.source.length).toBeGreaterThan(20);
    expect(XE_GRAMMAR["vm-shutdown"].flags).toEqual(["Standard", "Vm_selectors"]);
    expect(XE_GRAMMAR["vm-param-set"].optn).toEqual(expect.arrayContaining(["VCPUs-max", "other-config:", "HVM-boot-params:"]));
    expect(XE_GRAMMAR["vm-param-set"].optn).not.toContain("power-state");
  });
});

describe("xe double: grammar errors", () => {
  it("rejects an unknown command like xapi_cli.ml does", () => {
    const r = xe(["vm-frobnicate", "uuid=x"]);
    expect(r).toEqual({ stdout: "", stderr: "Unknown command: vm-frobnicate\nFor usage run: 'xe help'\n", code: 1 });
  });

  it("reports the first missing required parameter", () => {
    expect(xe(["vdi-create", "name-label=x"])).toMatchObject({
      stderr: "Required parameter not found: sr-uuid\nFor usage run: 'xe help'\n",
      code: 1,
    });
    expect(xe(["vm-memory-limits-set", "static-min=1", "static-max=1", "dynamic-min=1"]).stderr).toMatch(
      /^Required parameter not found: dynamic-max\n/,
    );
  });

  it("treats unknown keys of selector and list commands as unknown fields", () => {
    xeOk(["vm-install", "template=CoreOS", "new-name-label=coreos1"]);
    const r = xe(["vm-shutdown", "nmae-label=coreos1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${INTERNAL}\nmessage: Failure: Unknown field 'nmae-label'\n`);
    expect(xe(["vm-list", "powerstate=halted"]).stderr).toContain("Failure: Unknown field 'powerstate'");
    const sr = xe(["sr-list", "name-label=Local storage", "--minimal"]).stdout.trim();
    expect(xe(["vm-param-set", `uuid=${sr}`, "VCPUs-max=2"]).stderr).toContain("The uuid you supplied was invalid.\ntype: VM\n");
  });

  it("rejects unknown parameters of ordinary commands (double-only, exit 2) unless XE_LENIENT=1", () => {
    const sr = xeOk(["sr-list", "name-label=Local storage", "--minimal"]);
    const args = ["vdi-create", `sr-uuid=${sr}`, "name-label=d", "virtual-size=1GiB", "sr-name=oops"];
    const strict = xe(args);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^xe-double: unknown parameter 'sr-name' for vdi-create/);
    expect(xe(args, { env: { XE_LENIENT: "1" } }).code).toBe(0);
  });

  it("parses sizes like Record_util.bytes_of_string", () => {
    const sr = xeOk(["sr-list", "name-label=Local storage", "--minimal"]);
    const size = (s: string) => {
      const uuid = xeOk(["vdi-create", `sr-uuid=${sr}`, "name-label=s", `virtual-size=${s}`]);
      return Number(xeOk(["vdi-param-get", `uuid=${uuid}`, "param-name=virtual-size"]));
    };
    expect(size("1GiB")).toBe(GiB);
    expect(size("8G")).toBe(8 * GiB);
    expect(size("512mb")).toBe(512 * 1024 ** 2);
    // A VHD-based SR (Local storage is LVM) rounds up to the 2 MiB VHD block (sm vhdutil.py).
    expect(size("4096")).toBe(2 * 1024 ** 2);
    expect(size("3MiB")).toBe(4 * 1024 ** 2);
    const bad = xe(["vdi-create", `sr-uuid=${sr}`, "name-label=s", "virtual-size=1.5GiB"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "Error: Failed to parse field 'virtual-size': expecting an integer (possibly with suffix KiB, MiB, GiB, TiB), got '1.5GiB'\n",
    );
  });

  it("prints records, --minimal and params= the way cli_printer.ml does", () => {
    const dom0 = xe(["vm-list", "is-control-domain=true"]).stdout;
    expect(dom0).toMatch(
      /^uuid \( RO\) {11}: [0-9a-f-]{36}\n {5}name-label \( RW\): Control domain on host: xenserver\n {4}power-state \( RO\): running\n\n\n$/,
    );
    expect(xe(["network-list", "params=name-label", "--minimal"]).stdout).toBe(
      "Pool-wide network associated with eth0,cluster\n",
    );
    expect(xe(["vm-list", "name-label=nothing", "--minimal"]).stdout).toBe("\n");
  });
});

describe("xe double: VM lifecycle", () => {
  it("goes from an ISO SR to an uninstalled VM, with the state to match", () => {
    const isoDir = path.join(dir, "isos");
    fs.mkdirSync(isoDir);
    fs.writeFileSync(path.join(isoDir, "coreos_production_iso_image.iso"), Buffer.alloc(2048, 1));
    fs.writeFileSync(path.join(isoDir, "notes.txt"), "not an iso");

    const isoSr = xeOk([
      "sr-create",
      "name-label=ISOS",
      "type=iso",
      `device-config:location=${isoDir}`,
      "device-config:legacy_mode=true",
      "content-type=iso",
    ]);
    expect(xeOk(["cd-list", "--minimal"])).toBe("");
    xeOk(["sr-scan", `uuid=${isoSr}`]);
    expect(xeOk(["cd-list", "params=name-label", "--minimal"])).toBe("coreos_production_iso_image.iso");

    const vm = xeOk(["vm-install", "template=CoreOS", "new-name-label=coreos1", "sr-name-label=Local storage"]);
    expect(vm).toMatch(/^[0-9a-f-]{36}$/);
    expect(xeOk(["vm-param-get", `uuid=${vm}`, "param-name=power-state"])).toBe("halted");

    xeOk(["vm-param-set", `uuid=${vm}`, "VCPUs-max=2", "VCPUs-at-startup=2", "other-config:role=web", "HVM-boot-params:order=dc"]);
    expect(xeOk(["vm-param-get", `uuid=${vm}`, "param-name=HVM-boot-params", "param-key=order"])).toBe("dc");
    expect(xeOk(["vm-param-get", `uuid=${vm}`, "param-name=other-config"])).toBe("role: web");
    const tooMany = xe(["vm-param-set", `uuid=${vm}`, "VCPUs-at-startup=3"]);
    expect(tooMany.stderr).toBe(
      "The value given is invalid\nfield: VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max\nvalue: 3\n",
    );
    xeOk(["vm-memory-limits-set", `uuid=${vm}`, "static-min=512MiB", "static-max=1GiB", "dynamic-min=1GiB", "dynamic-max=1GiB"]);
    const inverted = xe(["vm-memory-limits-set", `vm=coreos1`, "static-min=2GiB", "static-max=1GiB", "dynamic-min=1GiB", "dynamic-max=1GiB"]);
    expect(inverted.stderr).toContain(
      "constraint: Memory limits must satisfy: static_min ≤ dynamic_min ≤ dynamic_max ≤ static_max",
    );

    const disk = xeOk(["vbd-list", `vm-uuid=${vm}`, "params=vdi-uuid", "--minimal"]);
    expect(xeOk(["vdi-param-get", `uuid=${disk}`, "param-name=name-description"])).toBe("Created by template provisioner");
    xeOk(["vdi-resize", `uuid=${disk}`, "disk-size=8GiB"]);
    expect(xe(["vdi-resize", `uuid=${disk}`, "disk-size=4GiB"])).toMatchObject({
      code: 1,
      stderr: "Error code: SR_BACKEND_FAILURE_79\nError parameters: , VDI Invalid size [opterr=shrinking not allowed], \n",
    });

    const net = xeOk(["network-list", "name-label=cluster", "--minimal"]);
    const vif = xeOk(["vif-create", `vm-uuid=${vm}`, `network-uuid=${net}`, "device=0"]);
    expect(xeOk(["vm-vif-list", `uuid=${vm}`, "params=uuid", "--minimal"])).toBe(vif);
    xeOk(["vm-cd-add", `uuid=${vm}`, "cd-name=coreos_production_iso_image.iso", "device=3"]);

    // a config-drive disk attached with vbd-create (no 'owner' key: vm-uninstall keeps it)
    const localSr = xeOk(["sr-list", "name-label=Local storage", "--minimal"]);
    const cfg = xeOk(["vdi-create", `sr-uuid=${localSr}`, "name-label=coreos1-config", "virtual-size=16MiB"]);
    const cfgFile = path.join(dir, "config.img");
    // 6.5's rule: a raw import shorter than the VDI is refused; the padded file is taken.
    fs.writeFileSync(cfgFile, Buffer.alloc(4096));
    expect(xe(["vdi-import", `uuid=${cfg}`, `filename=${cfgFile}`, "format=raw"]).stderr).toContain("a raw import must match the VDI's size");
    fs.writeFileSync(cfgFile, Buffer.alloc(16 * 1024 ** 2));
    xeOk(["vdi-import", `uuid=${cfg}`, `filename=${cfgFile}`, "format=raw"]);
    xeOk(["vbd-create", `vm-uuid=${vm}`, `vdi-uuid=${cfg}`, "device=1", "mode=RO", "type=Disk"]);
    expect(xe(["vbd-create", `vm-uuid=${vm}`, `vdi-uuid=${cfg}`, "device=1"]).stderr).toBe(
      "A device with the name given already exists on the selected VM\ndevice: 1\n",
    );

    xeOk(["vm-start", `uuid=${vm}`]);
    expect(xeOk(["vm-param-get", `uuid=${vm}`, "param-name=power-state"])).toBe("running");
    const again = xe(["vm-start", `uuid=${vm}`]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^You attempted an operation on a VM that was not in an appropriate power state/);
    expect(again.stderr).toContain(`vm: ${vm} (coreos1)\nexpected: halted\nactual: running\n`);
    expect(xe(["vm-param-set", `uuid=${vm}`, "VCPUs-max=4"]).stderr).toContain("expected: halted\nactual: running");

    // No guest agent: a clean shutdown is refused (6.5's xapi); once the agent runs, it is taken.
    expect(xe(["vm-shutdown", `uuid=${vm}`]).stderr).toContain("needs the cooperative shutdown feature on a VM which lacks it.");
    xeOk(["xe-double-guest", "name-label=coreos1", "action=agent"]);
    xeOk(["vm-shutdown", `uuid=${vm}`]);
    expect(xe(["vm-shutdown", `uuid=${vm}`]).stderr).toContain("expected: running\nactual: halted\n");

    const out = xeOk(["vm-uninstall", `uuid=${vm}`, "--force"]);
    expect(out.split("\n")).toEqual([
      "The following items are about to be destroyed",
      `VM : ${vm} (coreos1)`,
      `VDI: ${disk} (coreos1 0) `, // cli_operations.ml string_of_vdi leaves a trailing space
      "All objects destroyed",
    ]);

    const state = readJson<XeState>(xeState());
    expect(state.vms.find((v) => v.uuid === vm)).toBeUndefined();
    expect(state.vbds.filter((b) => b.vm === vm)).toEqual([]);
    expect(state.vifs.filter((v) => v.vm === vm)).toEqual([]);
    expect(state.vdis.map((v) => v.uuid)).not.toContain(disk);
    expect(state.vdis.find((v) => v.uuid === cfg)).toMatchObject({ "imported-bytes": 16 * 1024 ** 2 });
    expect(state.vdis.filter((v) => v.sr === isoSr)).toHaveLength(1);
    expect(xe(["vm-shutdown", "vm=coreos1"]).stderr).toBe(`${INTERNAL}\nmessage: Failure: No matching VMs found\n`);
  });

  it("asks before uninstalling unless --force", () => {
    const vm = xeOk(["vm-install", "template=CoreOS", "new-name-label=coreos2"]);
    const no = xe(["vm-uninstall", "vm=coreos2"], { input: "no\n" });
    expect(no.code).toBe(0);
    expect(no.stdout).toContain("Type 'yes' to continue\nAborted (you typed: 'no')\n");
    expect(xeOk(["vm-list", "name-label=coreos2", "--minimal"])).toBe(vm);
    const yes = xe(["vm-uninstall", "vm=coreos2"], { input: "yes\n" });
    expect(yes.stdout).toMatch(/All objects destroyed\n$/);
    expect(xeOk(["vm-list", "name-label=coreos2", "--minimal"])).toBe("");
  });

  it("needs --multiple when a selector matches several VMs", () => {
    xeOk(["vm-install", "template=CoreOS", "new-name-label=a"]);
    xeOk(["vm-install", "template=CoreOS", "new-name-label=b"]);
    expect(xe(["vm-start", "power-state=halted"]).stderr).toContain(
      "Failure: Multiple matches VMs found. --multiple required to complete the operation",
    );
    xeOk(["vm-start", "power-state=halted", "--multiple"]);
    expect(xeOk(["vm-list", "power-state=running", "is-control-domain=false", "params=name-label", "--minimal"]).split(",").sort()).toEqual([
      "a",
      "b",
    ]);
  });
});

describe("xe double: failure injection and logging", () => {
  it("fails the nth matching call with a realistic error and leaves the state alone", () => {
    const a = xeOk(["vm-install", "template=CoreOS", "new-name-label=n1"]);
    const b = xeOk(["vm-install", "template=CoreOS", "new-name-label=n2"]);
    const env = { XE_FAIL_ON: "vm-start@2" };
    expect(xe(["vm-start", `uuid=${a}`], { env }).code).toBe(0);
    const failed = xe(["vm-start", `uuid=${b}`], { env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`${INTERNAL}\nmessage: xe-double: injected failure (vm-start@2)\n`);
    expect(xeOk(["vm-param-get", `uuid=${b}`, "param-name=power-state"])).toBe("halted");
    expect(xe(["vm-start", `uuid=${b}`], { env }).code).toBe(0); // the 3rd call passes

    const coded = xe(["vdi-list"], { env: { XE_FAIL_ON: "vdi-list", XE_FAIL_CODE: "SR_BACKEND_FAILURE_46" } });
    expect(coded.stderr).toBe("Error code: SR_BACKEND_FAILURE_46\nError parameters: xe-double: injected failure (vdi-list)\n");

    const matched = xe(["vm-install", "template=CoreOS", "new-name-label=coreos3"], { env: { XE_FAIL_ON: "vm-install:coreos3" } });
    expect(matched.code).toBe(1);
    expect(xeOk(["vm-list", "name-label=coreos3", "--minimal"])).toBe("");

    const log = logLines(xeState());
    const starts = log.filter((l) => l.argv[0] === "vm-start");
    expect(starts.map((l) => l.exit)).toEqual([0, 1, 0]);
    expect(log.every((l) => l.end >= l.start)).toBe(true);
  });
});

describe("xe double: concurrency", () => {
  it("keeps the state consistent under 10 parallel calls", async () => {
    const sr = xeOk(["sr-list", "name-label=Local storage", "--minimal"]);
    const run = promisify(execFile);
    const env = { ...process.env, XE_STATE: xeState(), XE_DELAY_MS: "800" };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        run(process.execPath, [XE, "vdi-create", `sr-uuid=${sr}`, `name-label=par-${i}`, "virtual-size=1GiB"], { env }),
      ),
    );
    const uuids = results.map((r) => r.stdout.trim());
    expect(new Set(uuids).size).toBe(10);
    const state = readJson<XeState>(xeState());
    expect(state.vdis.map((v) => v["name-label"]).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `par-${i}`).sort());
    const calls = logLines(xeState()).filter((l) => l.argv[0] === "vdi-create");
    expect(calls).toHaveLength(10);
    // they really overlapped: the calls' durations add up to more than the wall-clock span
    const busy = calls.reduce((sum, c) => sum + (c.end - c.start), 0);
    const span = Math.max(...calls.map((c) => c.end)) - Math.min(...calls.map((c) => c.start));
    expect(busy).toBeGreaterThan(2 * span);
    expect(fs.existsSync(`${xeState()}.lock`)).toBe(false);
  });
});

describe("fleetctl double", () => {
  const seed = {
    machines: [
      { id: "1111aaaa0000000000000000000000a1", ip: "10.50.0.11", metadata: { role: "web" } },
      { id: "2222bbbb0000000000000000000000b2", ip: "10.50.0.12", metadata: { role: "web" } },
      { id: "3333cccc0000000000000000000000c3", ip: "10.50.0.13", metadata: { role: "db" } },
    ],
  };
  const unit = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), body);
  beforeEach(() => {
    fs.mkdirSync(path.join(dir, "fleet"));
    fs.writeFileSync(path.join(dir, "fleet", "seed.json"), JSON.stringify(seed));
  });
  interface FleetUnit {
    name: string;
    desiredState: string;
    currentState: string;
    machine: string | null;
  }
  const units = () => readJson<{ units: FleetUnit[] }>(fleetState()).units;
  const placed = (name: string) => units().find((u) => u.name === name)?.machine;

  it("mirrors fleetctl's command-line errors", () => {
    expect(fleet(["frob"])).toMatchObject({ code: 2, stderr: 'fleetctl: unknown subcommand: "frob"\nRun \'fleetctl help\' for usage.\n' });
    const bad = fleet(["start", "--replace", "x.service"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe("flag provided but not defined: -replace");
    expect(fleet(["list-units", "--fields=unit,bogus"])).toMatchObject({ code: 1, stderr: 'Invalid key in output format: "bogus"\n' });
    expect(fleet(["start", "missing.service"])).toMatchObject({
      code: 1,
      stderr: "Error creating units: unable to find Unit(missing.service) in Registry or on filesystem\n",
    });
    expect(fleet(["destroy", "never-submitted.service"])).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(fleet(["cat", "nope.service"])).toMatchObject({ code: 1, stderr: "Unit nope.service not found\n" });
  });

  it("schedules with MachineMetadata, Conflicts and MachineOf, and leaves impossible units inactive", () => {
    unit(
      "apache@.service",
      "[Unit]\nDescription=apache %i\n\n[Service]\nExecStart=/usr/bin/docker run --rm --name apache-%i httpd\n\n" +
        "[X-Fleet]\nConflicts=apache@*.service\nMachineMetadata=role=web\n",
    );
    unit("announce@.service", "[Unit]\nDescription=announce %i\n\n[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=apache@%i.service\n");
    unit("mysql.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=role=db\n");

    expect(fleet(["submit", "apache@.service", "announce@.service"]).code).toBe(0);
    const started = fleet(["start", "apache@1.service", "apache@2.service", "announce@1.service", "announce@2.service", "mysql.service"]);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain("Unit apache@1.service launched on 1111aaaa.../10.50.0.11\n");
    expect(started.stdout).toContain("Unit apache@2.service launched on 2222bbbb.../10.50.0.12\n");

    expect(placed("apache@1.service")).not.toBe(placed("apache@2.service"));
    expect(placed("announce@1.service")).toBe(placed("apache@1.service"));
    expect(placed("announce@2.service")).toBe(placed("apache@2.service"));
    expect(placed("mysql.service")).toBe(seed.machines[2].id);

    // a third apache has no web machine left without a conflict: it stays unscheduled
    const third = fleet(["start", "--block-attempts=2", "apache@3.service"]);
    expect(third.code).toBe(1);
    expect(third.stderr).toBe("Error waiting for units: timed out waiting for unit apache@3.service to report state launched\n");
    expect(units().find((u) => u.name === "apache@3.service")).toMatchObject({ desiredState: "launched", currentState: "inactive", machine: null });
    expect(fleet(["start", "--no-block", "apache@4.service"]).stdout).toContain("Triggered unit apache@4.service start\n");

    const list = fleet(["list-units", "--no-legend", "--fields=unit,machine"]).stdout.trim().split("\n");
    expect(list).toEqual([
      "announce@1.service\t1111aaaa.../10.50.0.11",
      "announce@2.service\t2222bbbb.../10.50.0.12",
      "apache@1.service\t1111aaaa.../10.50.0.11",
      "apache@2.service\t2222bbbb.../10.50.0.12",
      "mysql.service\t\t3333cccc.../10.50.0.13",
    ]);
    const files = fleet(["list-unit-files", "--no-legend", "--fields=unit,dstate,state,target"]).stdout;
    expect(files).toContain("apache@3.service\tlaunched\tinactive\t-\n");

    // destroying apache@1 moves nothing onto its machine that conflicts, and announce@1 loses its peer
    expect(fleet(["destroy", "apache@1.service"]).stdout).toBe("Destroyed apache@1.service\n");
    expect(placed("announce@1.service")).toBeNull();
    expect(placed("apache@3.service")).toBe(seed.machines[0].id);
  });

  it("keeps the registry copy when a unit with the same name is submitted with new content", () => {
    unit("web.service", "[Service]\nExecStart=/bin/echo one\n");
    expect(fleet(["submit", "web.service"]).code).toBe(0);
    unit("web.service", "[Service]\nExecStart=/bin/echo two\n");
    const again = fleet(["submit", "web.service"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe("WARNING: Unit web.service in registry differs from local unit file web.service\n");
    expect(fleet(["cat", "web.service"]).stdout).toBe("[Service]\nExecStart=/bin/echo one\n");
  });

  it("rejects unresolvable requirements and stops/unloads like fleetctl", () => {
    unit("bad.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=bad.service\nConflicts=bad*\n");
    expect(fleet(["submit", "bad.service"]).stderr).toBe(
      'Error creating units: unresolvable requirements: peer "bad.service" matches conflict "bad*"\n',
    );
    unit("g.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\nMachineMetadata=role=web\n");
    expect(fleet(["start", "g.service"]).stdout).toContain("Triggered global unit g.service start\n");
    expect(fleet(["list-units", "--no-legend", "--fields=unit,machine,active"]).stdout.trim().split("\n")).toEqual([
      "g.service\t1111aaaa.../10.50.0.11\tactive",
      "g.service\t2222bbbb.../10.50.0.12\tactive",
    ]);
    unit("one.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineID=3333cccc0000000000000000000000c3\n");
    expect(fleet(["load", "one.service"]).stdout).toContain("Unit one.service loaded on 3333cccc.../10.50.0.13\n");
    expect(fleet(["start", "one.service"]).stdout).toContain("Unit one.service launched on 3333cccc.../10.50.0.13\n");
    expect(fleet(["stop", "one.service"]).stdout).toBe("Unit one.service loaded on 3333cccc.../10.50.0.13\n");
    expect(fleet(["unload", "one.service"]).stdout).toBe("Unit one.service inactive\n");
    expect(fleet(["stop", "one.service"])).toMatchObject({ code: 1, stderr: "Unable to stop unit one.service in state inactive\n" });
    const log = logLines(fleetState());
    expect(log.map((l) => l.argv[0])).toEqual(["submit", "start", "list-units", "load", "start", "stop", "unload", "stop"]);
  });
});
