/**
 * The fleetctl scripts run by a real sh against the fleetctl double (test/sandbox/bin/fleetctl),
 * which follows the 0.11-era CLI and schedules with fleet's rules.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  renderFleetApplyScript,
  renderFleetDestroyScript,
  renderFleetReadyScript,
  renderNodeFileRemoveScript,
  renderNodeFileWriteScript,
} from "../../components/fleet/fleetctl-scripts";
import { expectGolden } from "../golden";
import { describeWith, shellcheck } from "../support/prereq";

const BIN = path.join(__dirname, "..", "sandbox", "bin");
let dir: string;

function sh(script: string, stdin = "", env: Record<string, string> = {}) {
  const r = spawnSync("sh", ["-c", script], {
    encoding: "utf8",
    input: stdin,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, FLEET_STATE: path.join(dir, "fleet.json"), FLEET_SEED: path.join(dir, "seed.json"), HOME: dir, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function units(): Array<{ name: string; machine: string | null; currentState: string }> {
  return JSON.parse(fs.readFileSync(path.join(dir, "fleet.json"), "utf8")).units;
}

const APACHE = "[Unit]\nDescription=apache 1\n\n[Service]\nExecStart=/usr/bin/docker run --rm --name apache-1 httpd:2.4\n";
const GALERA = "[Unit]\nDescription=galera %i\n\n[Service]\nExecStart=/usr/bin/true\n\n[X-Fleet]\nConflicts=galera@*.service\nMachineMetadata=role=db\n";

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-"));
  fs.writeFileSync(
    path.join(dir, "seed.json"),
    JSON.stringify({
      machines: [
        { id: "a".repeat(32), ip: "10.50.0.101", metadata: { role: "web" } },
        { id: "b".repeat(32), ip: "10.50.0.102", metadata: { role: "db" } },
        { id: "c".repeat(32), ip: "10.50.0.103", metadata: { role: "db" } },
      ],
    }),
  );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("fleetctl scripts", () => {
  it("golden scripts", () => {
    expectGolden("fleet/apply-galera.sh", renderFleetApplyScript({ unit: "galera@.service", instances: ["galera@1.service", "galera@2.service"], timeoutSeconds: 300 }));
    expectGolden("fleet/destroy-galera.sh", renderFleetDestroyScript({ unit: "galera@.service", instances: ["galera@1.service", "galera@2.service"] }));
    expectGolden("fleet/ready.sh", renderFleetReadyScript({ machines: 3, timeoutSeconds: 1800 }));
  });

  it("submits and starts a unit and waits until it is active", () => {
    const r = sh(renderFleetApplyScript({ unit: "apache-1.service", instances: [], timeoutSeconds: 20 }), APACHE);
    expect(r.stderr).toContain("active: apache-1.service");
    expect(r.status).toBe(0);
    expect(units().map((u) => [u.name, u.currentState])).toEqual([["apache-1.service", "launched"]]);
  });

  it("starts a template's instances on distinct db machines", () => {
    const r = sh(renderFleetApplyScript({ unit: "galera@.service", instances: ["galera@1.service", "galera@2.service"], timeoutSeconds: 20 }), GALERA);
    expect(r.status).toBe(0);
    const placed = units().filter((u) => u.name.startsWith("galera@") && u.name !== "galera@.service");
    expect(placed.map((u) => u.currentState)).toEqual(["launched", "launched"]);
    expect(new Set(placed.map((u) => u.machine)).size).toBe(2);
    expect(placed.every((u) => u.machine !== "a".repeat(32))).toBe(true);
  });

  it("re-applying the same text changes nothing; a changed text replaces the unit", () => {
    sh(renderFleetApplyScript({ unit: "apache-1.service", instances: [], timeoutSeconds: 20 }), APACHE);
    const same = sh(renderFleetApplyScript({ unit: "apache-1.service", instances: [], timeoutSeconds: 20 }), APACHE);
    expect(same.stderr).not.toContain("replacing");
    const changed = APACHE.replace("httpd:2.4", "httpd:2.4.62");
    const r = sh(renderFleetApplyScript({ unit: "apache-1.service", instances: [], timeoutSeconds: 20 }), changed);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("text changed, replacing it");
    expect(sh("fleetctl cat apache-1.service").stdout).toContain("httpd:2.4.62");
  });

  it("a unit that cannot be placed times out with an error naming it", () => {
    const nowhere = GALERA.replace("role=db", "role=nowhere");
    const r = sh(renderFleetApplyScript({ unit: "galera@.service", instances: ["galera@1.service"], timeoutSeconds: 3 }), nowhere);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("xen-coreos: fleet unit galera@.service: unit galera@1.service is not active after 3s");
  });

  it("destroy removes the unit and its instances; already gone is success", () => {
    sh(renderFleetApplyScript({ unit: "galera@.service", instances: ["galera@1.service"], timeoutSeconds: 20 }), GALERA);
    expect(sh(renderFleetDestroyScript({ unit: "galera@.service", instances: ["galera@1.service"] })).status).toBe(0);
    expect(units()).toEqual([]);
    expect(sh(renderFleetDestroyScript({ unit: "galera@.service", instances: ["galera@1.service"] })).status).toBe(0);
  });

  it("waits for the cluster's machines", () => {
    expect(sh(renderFleetReadyScript({ machines: 3, timeoutSeconds: 5 })).status).toBe(0);
    const r = sh(renderFleetReadyScript({ machines: 4, timeoutSeconds: 1 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("fleet lists 3 of 4 machines after 1s");
  });

  it("writes a file atomically with its mode, and removes it", () => {
    const target = path.join(dir, "etc", "xen-coreos", "galera.env");
    expect(sh(renderNodeFileWriteScript({ path: target, mode: 0o600 }), "SECRET=x\n").status).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe("SECRET=x\n");
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(target))).toEqual(["galera.env"]);
    expect(sh(renderNodeFileRemoveScript({ path: target })).status).toBe(0);
    expect(fs.existsSync(target)).toBe(false);
  });
});

describeWith(["shellcheck"], "lint of generated shell")("shellcheck on the fleetctl scripts", () => {
  it("every script is clean", () => {
    for (const script of [
      renderFleetApplyScript({ unit: "galera@.service", instances: ["galera@1.service"], timeoutSeconds: 300 }),
      renderFleetDestroyScript({ unit: "a.service", instances: [] }),
      renderFleetReadyScript({ machines: 3, timeoutSeconds: 60 }),
      renderNodeFileWriteScript({ path: "/etc/x", mode: 0o600 }),
      renderNodeFileRemoveScript({ path: "/etc/x" }),
    ]) {
      expect(shellcheck(script)).toBe("");
    }
  });
});
