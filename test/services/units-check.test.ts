/**
 * Checks across every unit and script the service renderers produce:
 * - `systemd-analyze verify` on every unit (templates as `name@1.service`);
 * - shellcheck (`-s sh`) on every script and every `sh -c` body found in a unit;
 * - no password value in any unit text, share file or node config file (only the password files hold them).
 */
import { RenderedFile, RenderedUnit } from "../../components/fleet/unit-file";
import { renderFtp } from "../../components/services/ftp-render";
import { renderGalera, renderGaleraSecretFiles } from "../../components/services/galera-render";
import { renderWebTier } from "../../components/services/web-render";
import { describeWith, shellcheck } from "../support/prereq";
import { shellSnippets, systemdVerify } from "./support";

const secrets = {
  rootPassword: "Root-Pw-7f3a91",
  sstPassword: "Sst-Pw-2b77c0",
  appPassword: "App-Pw-d41e55",
  ftp: ["Ftp-Pw-acme-0193", "Ftp-Pw-shop-88aa"],
};

function everything(): { units: RenderedUnit[]; files: RenderedFile[] } {
  const web = renderWebTier({ instances: 3, basePort: 8080, proxyMachineMetadata: ["role=web"] });
  const galera = renderGalera({
    clusterName: "xen-coreos",
    nodes: [
      { name: "db1", address: "10.50.0.21" },
      { name: "db2", address: "10.50.0.22" },
      { name: "db3", address: "10.50.0.23" },
    ],
    proxy: { listenPort: 3306, machineMetadata: ["role=web"] },
  });
  const ftp = renderFtp({
    image: "xen-coreos/vsftpd:1",
    users: [
      { name: "acme", password: secrets.ftp[0] },
      { name: "shop", password: secrets.ftp[1] },
    ],
    machineMetadata: ["role=web"],
  });
  return { units: [...web.units, ...galera.units, ...ftp.units], files: [...web.files, ...galera.files, ...Object.values(galera.nodeFiles)[0], ...ftp.files] };
}

describe("no password in any unit, share file or node config file", () => {
  it("holds for web, galera and ftp", () => {
    const { units, files } = everything();
    // The password files hold them (and only they): root-only node files, a Pulumi secret.
    const env = renderGaleraSecretFiles({ rootPassword: secrets.rootPassword, sstPassword: secrets.sstPassword, appPassword: secrets.appPassword }).map((f) => f.content).join("");
    const values = [secrets.rootPassword, secrets.sstPassword, secrets.appPassword, ...secrets.ftp];
    for (const v of values.slice(0, 3)) expect(env).toContain(v);
    for (const u of units) for (const v of values) expect(u.text).not.toContain(v);
    for (const f of files) for (const v of values) expect(f.content).not.toContain(v);
    for (const u of units) expect(u.text).not.toMatch(/zurmo|PASSWORD=|wsrep_sst_auth/i);
  });
});

describeWith(["systemd-analyze"], "verifies the rendered units")("systemd-analyze verify", () => {
  it("accepts every rendered unit, with only the X-Fleet warning filtered", () => {
    const { units } = everything();
    const r = systemdVerify(units);
    expect(r.verified).toEqual(expect.arrayContaining(["galera@1.service", "galera-discovery@1.service", "apache-1.service", "nginx.service", "vsftpd.service"]));
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("catches a broken unit (the check is live)", () => {
    const broken: RenderedUnit = { name: "broken.service", text: "[Unit]\nDescription=x\n\n[Service]\nExecStrat=/usr/bin/docker run x\n" };
    const r = systemdVerify([broken]);
    expect(r.output).toMatch(/Unknown key 'ExecStrat'|ExecStrat/);
  });
});

describeWith(["shellcheck"], "checks the rendered shell scripts")("shellcheck -s sh", () => {
  const { units, files } = everything();
  const scripts = files.filter((f) => f.path.endsWith(".sh"));
  it("finds every script", () => {
    expect(scripts.map((f) => f.path.split("/").pop()).sort()).toEqual([
      "10-xen-coreos-users.sh",
      "galera-discovery.sh",
      "galera-prestart.sh",
      "web-announce.sh",
      "web-upstreams.sh",
    ]);
  });
  it.each(scripts.map((f) => [f.path, f.content]))("%s is clean", (_path, content) => {
    expect(shellcheck(content, "sh")).toBe("");
  });
  it("every sh -c body in a unit is clean (the renderers write none: logic lives in scripts)", () => {
    const snippets = units.flatMap((u) => shellSnippets(u.text));
    for (const s of snippets) expect(shellcheck(s, "sh")).toBe("");
    expect(snippets).toEqual([]);
  });
});
