import { compileGlob, expandSpecifiers, placementUnits, validatePlacement, PlacementMachine } from "../../components/fleet/placement";
import { parseUnitName, UnitNameParts } from "../../components/fleet/unit-file";
import { renderGalera } from "../../components/services/galera-render";
import { renderWebTier } from "../../components/services/web-render";
import { renderFtp } from "../../components/services/ftp-render";

const web: PlacementMachine[] = [
  { name: "coreos1", metadata: { role: "web" } },
  { name: "coreos2", metadata: { role: "web" } },
];
const db: PlacementMachine[] = [
  { name: "db1", metadata: { role: "db", disk: "ssd" } },
  { name: "db2", metadata: { role: "db", disk: "hdd" } },
  { name: "db3", metadata: { role: "db", disk: "ssd" } },
];

describe("validatePlacement: fleet's combination rules", () => {
  const id = "0123456789abcdef0123456789abcdef";
  it.each([
    [{ machineId: id, machineOf: "b.service" }, /MachineID cannot be used with MachineOf/],
    [{ machineId: id, conflicts: ["b*"] }, /MachineID cannot be used with Conflicts/],
    [{ machineId: id, global: true }, /MachineID cannot be used with Global/],
    [{ global: true, machineOf: "b.service" }, /Global cannot be used with MachineOf/],
    [{ global: true, conflicts: ["b*"] }, /Global cannot be used with Conflicts/],
    [{ global: true, replaces: "b.service" }, /Global cannot be used with Replaces/],
  ])("rejects %j", (xFleet, message) => {
    const errors = validatePlacement([{ name: "a.service", xFleet }, { name: "b.service" }], web);
    expect(errors.join("\n")).toMatch(message);
    expect(errors.join("\n")).toMatch(/^unit "a\.service": /);
  });

  it("accepts Global with MachineMetadata, and MachineOf with MachineMetadata", () => {
    expect(validatePlacement([{ name: "a.service", xFleet: { global: true, machineMetadata: ["role=web"] } }], web)).toEqual([]);
    expect(
      validatePlacement(
        [
          { name: "a.service", xFleet: { machineMetadata: ["role=web"] } },
          { name: "b.service", xFleet: { machineOf: "a.service", machineMetadata: ["role=web"] } },
        ],
        web,
      ),
    ).toEqual([]);
  });

  it("names unknown [X-Fleet] options and the valid ones", () => {
    const errors = validatePlacement([{ name: "a.service", xFleet: { machineof: "b.service" } as never }], web);
    expect(errors).toEqual([expect.stringMatching(/unit "a\.service": \[X-Fleet\] option "machineof" is not a fleet option; use one of MachineID, MachineOf/)]);
  });

  it("rejects a malformed MachineID", () => {
    expect(validatePlacement([{ name: "a.service", xFleet: { machineId: "a9e89f8b" } }], web)).toEqual([
      expect.stringMatching(/MachineID "a9e89f8b" is not a full 32-hex machine id; copy it from "fleetctl list-machines -l"/),
    ]);
  });

  it("rejects invalid and duplicate unit names", () => {
    const errors = validatePlacement([{ name: "nginx" }, { name: "a.service" }, { name: "a.service" }], web);
    expect(errors).toEqual([expect.stringMatching(/unit "nginx": .*no "\.type" suffix.*rename/), expect.stringMatching(/unit "a\.service": listed twice/)]);
  });
});

describe("validatePlacement: MachineOf targets", () => {
  it("accepts a target that is a listed unit or an instance of a listed template", () => {
    const units = [
      { name: "apache@.service" },
      { name: "apache@1.service" },
      { name: "announce-1.service", xFleet: { machineOf: "apache@1.service" } },
      { name: "announce-7.service", xFleet: { machineOf: "apache@7.service" } },
    ];
    expect(validatePlacement(units, web)).toEqual([]);
  });

  it("rejects a missing target, the unit itself, a template and a global target", () => {
    const errors = validatePlacement(
      [
        { name: "a.service", xFleet: { machineOf: "missing.service" } },
        { name: "b.service", xFleet: { machineOf: "b.service" } },
        { name: "t@.service" },
        { name: "c.service", xFleet: { machineOf: "t@.service" } },
        { name: "g.service", xFleet: { global: true } },
        { name: "d.service", xFleet: { machineOf: "g.service" } },
        { name: "e.service", xFleet: { machineOf: "not a unit" } },
      ],
      web,
    );
    expect(errors).toEqual([
      expect.stringMatching(/unit "a\.service": MachineOf "missing\.service" is not one of the units being deployed; add that unit or fix the name/),
      expect.stringMatching(/unit "b\.service": MachineOf names the unit itself/),
      expect.stringMatching(/unit "c\.service": MachineOf "t@\.service" is a template, which never runs; name an instance such as "t@1\.service"/),
      expect.stringMatching(/unit "d\.service": MachineOf "g\.service" is a Global unit/),
      expect.stringMatching(/unit "e\.service": MachineOf "not a unit": unit name "not a unit" has no/),
    ]);
  });

  it("rejects a bidirectional MachineOf", () => {
    const errors = validatePlacement(
      [
        { name: "a.service", xFleet: { machineOf: "b.service" } },
        { name: "b.service", xFleet: { machineOf: "a.service" } },
      ],
      web,
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/unit "a\.service": MachineOf "b\.service" and that unit's MachineOf "a\.service" point at each other/);
  });

  it("rejects a MachineOf target matching the unit's own Conflicts", () => {
    const errors = validatePlacement([{ name: "web-1.service" }, { name: "side.service", xFleet: { machineOf: "web-1.service", conflicts: ["web-*.service"] } }], web);
    expect(errors).toEqual([expect.stringMatching(/unit "side\.service": MachineOf "web-1\.service" matches its own Conflicts pattern "web-\*\.service"; the requirements cannot both hold/)]);
  });

  it("expands %i in templates for each instance and checks the instance's target", () => {
    const units = [
      { name: "db@.service", xFleet: { machineMetadata: ["role=db"] } },
      { name: "db@1.service" },
      { name: "side@.service", xFleet: { machineOf: "db@%i.service" } },
      { name: "side@1.service" },
      { name: "side@2.service", xFleet: { machineOf: "other@%i.service" } },
    ];
    const errors = validatePlacement(units, db);
    expect(errors).toEqual([expect.stringMatching(/unit "side@2\.service": MachineOf "other@2\.service" is not one of the units being deployed/)]);
  });

  it("reports a template whose %i target template is absent", () => {
    expect(validatePlacement([{ name: "side@.service", xFleet: { machineOf: "db@%i.service" } }], db)).toEqual([
      expect.stringMatching(/unit "side@\.service": MachineOf "db@%i\.service" refers to template "db@\.service", which is not among the units being deployed/),
    ]);
  });

  it("reports a follower whose metadata excludes every machine of its target", () => {
    const errors = validatePlacement(
      [
        { name: "a.service", xFleet: { machineMetadata: ["disk=hdd"] } },
        { name: "b.service", xFleet: { machineOf: "a.service", machineMetadata: ["disk=ssd"] } },
      ],
      db,
    );
    expect(errors).toEqual([expect.stringMatching(/unit "b\.service": no machine satisfies both its MachineMetadata and that of its MachineOf target "a\.service"/)]);
  });
});

describe("validatePlacement: MachineMetadata", () => {
  it("ORs values of one key and ANDs different keys", () => {
    expect(validatePlacement([{ name: "a.service", xFleet: { machineMetadata: ["role=web", "role=db"] } }], db)).toEqual([]);
    expect(validatePlacement([{ name: "a.service", xFleet: { machineMetadata: ["role=db", "disk=ssd"] } }], db)).toEqual([]);
    const errors = validatePlacement([{ name: "a.service", xFleet: { machineMetadata: ["role=web", "disk=ssd"] } }], [...web, ...db]);
    expect(errors).toEqual([
      expect.stringMatching(/unit "a\.service": MachineMetadata role=web disk=ssd matches none of the machines \[coreos1 \(role=web\), coreos2 \(role=web\), db1 \(disk=ssd,role=db\)/),
    ]);
  });

  it("names the fix when no machine has the metadata", () => {
    expect(validatePlacement([{ name: "galera@.service", xFleet: { machineMetadata: ["role=db"] } }], web)[0]).toMatch(
      /MachineMetadata role=db matches none of the machines \[coreos1 \(role=web\), coreos2 \(role=web\)\]; fix the metadata or give a machine that metadata/,
    );
  });

  it("rejects a malformed pair", () => {
    expect(validatePlacement([{ name: "a.service", xFleet: { machineMetadata: ["role"] } }], web)).toEqual([
      expect.stringMatching(/unit "a\.service": MachineMetadata "role" is not one key=value pair; write it as key=value/),
    ]);
  });
});

describe("validatePlacement: Conflicts", () => {
  it.each(["[", "[]", "a[b", "[z-", "x\\", "]x", "[-a]"])("rejects the malformed pattern %j", (pattern) => {
    const errors = validatePlacement([{ name: "a.service", xFleet: { conflicts: [pattern] } }], web);
    expect(errors).toEqual([expect.stringMatching(/unit "a\.service": Conflicts pattern .* is malformed \(.*\); write a glob such as "galera@\*\.service"/)]);
  });

  it("needs as many eligible machines as mutually conflicting units", () => {
    const units = [{ name: "galera@.service", xFleet: { machineMetadata: ["role=db"], conflicts: ["galera@*.service"] } }, ...[1, 2, 3, 4].map((i) => ({ name: `galera@${i}.service` }))];
    const errors = validatePlacement(units, db);
    expect(errors).toEqual([
      expect.stringMatching(/4 units \(galera@1\.service, galera@2\.service, galera@3\.service, galera@4\.service\) conflict with each other through "galera@\*\.service" and need distinct machines, but only 3 machine\(s\) are eligible/),
    ]);
    expect(validatePlacement(units.slice(0, 4), db)).toEqual([]);
  });
});

describe("compileGlob (Go path.Match)", () => {
  const m = (p: string, s: string) => {
    const g = compileGlob(p);
    if (typeof g === "string") throw new Error(g);
    return g.test(s);
  };
  it("matches like path.Match", () => {
    expect(m("galera@*.service", "galera@1.service")).toBe(true);
    expect(m("galera@*.service", "galera-discovery@1.service")).toBe(false);
    expect(m("web-?.service", "web-1.service")).toBe(true);
    expect(m("web-?.service", "web-10.service")).toBe(false);
    expect(m("db[0-9].service", "db7.service")).toBe(true);
    expect(m("db[^0-9].service", "db7.service")).toBe(false);
    expect(m("a\\*b", "a*b")).toBe(true);
    expect(m("a\\*b", "axb")).toBe(false);
    expect(m("x.service", "xyservice")).toBe(false);
  });
});

describe("expandSpecifiers", () => {
  it("expands %n %N %p %i like fleet", () => {
    const parts = parseUnitName("foo@bar.service") as UnitNameParts;
    expect(expandSpecifiers("%n|%N|%p|%i|%H", parts)).toBe("foo@bar.service|foo@bar|foo|bar|%H");
  });
});

describe("the rendered services place cleanly", () => {
  it("web, galera and ftp on a lab-like cluster", () => {
    const machines: PlacementMachine[] = [...web, { name: "coreos3", metadata: { role: "web" } }, ...db];
    const units = [
      ...renderWebTier({ instances: 3, basePort: 8080, proxyMachineMetadata: ["role=web"] }).units,
      ...renderGalera({
        clusterName: "lab",
        nodes: db.map((d, i) => ({ name: d.name, address: `10.50.0.2${i + 1}` })),
        proxy: { listenPort: 3306, machineMetadata: ["role=web"] },
      }).units,
      ...renderFtp({ image: "xen-coreos/vsftpd:1", users: [], machineMetadata: ["role=web"] }).units,
    ];
    expect(validatePlacement(placementUnits(units), machines)).toEqual([]);
  });
});
