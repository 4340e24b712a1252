/**
 * The lab's web tier, for real, minus Docker: a real etcd; the rendered announce and
 * upstream scripts running as their units run them (the units' own Exec and Environment
 * lines, the script paths moved from the share into a temp dir, the etcdctl/nginx commands
 * pointed at this machine through the scripts' environment variables); a real nginx with
 * the rendered nginx.conf and proxy.conf; three real apache2 on the rendered ports
 * (basePort + i), all on one private loopback address.
 *
 * Unit order is kept: the proxy's ExecStartPre (`web-upstreams.sh once`) before nginx,
 * the upstream sidecar after it; a stop is announce (ExecStop, then SIGTERM) before apache
 * (the announcer is After= its apache, so systemd stops it first); a start is apache, then
 * its announcer.
 */
import * as fs from "fs";
import * as path from "path";
import { WebServiceSettings } from "../../../components/config/services-settings";
import { ServiceBundle } from "../../../components/fleet/unit-file";
import { apachePort, renderUpstreamConf, UPSTREAM_SCRIPT, WEB_DEFAULTS } from "../../../components/services/web-render";
import { createCa, issueCertificate } from "../../../components/pki/x509";
import { describeWith, which } from "../../support/prereq";
import {
  cleanupAll,
  Daemon,
  freePort,
  httpGet,
  loopbackAddress,
  portIsFree,
  runOk,
  sleep,
  startDaemon,
  tempDir,
  waitFor,
  waitForPort,
} from "../../support/real";
import {
  announceUnitText,
  ApacheInstance,
  bundleFile,
  nginxRun,
  openDir,
  readIf,
  remap,
  remapRenderedNginxConf,
  remapRenderedProxyConf,
  SCRIPT_PATHS,
  startApache,
  startNginx,
  unitEnvironment,
  writeWww,
} from "./stack";

/**
 * Clients requesting `url` back to back until stopped, as a user would through a backend's
 * stop: every non-200 answer or error is kept, with the time it happened.
 */
function clientLoops(url: string, clients = 2) {
  let stopped = false;
  let total = 0;
  const failures: string[] = [];
  const client = async () => {
    while (!stopped) {
      try {
        const r = await httpGet(url, { timeoutMs: 10000 });
        if (r.status !== 200) failures.push(`${new Date().toISOString()} HTTP ${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push(`${new Date().toISOString()} ${(e as Error).message}`);
      }
      total++;
    }
  };
  const loops = Array.from({ length: clients }, client);
  return {
    failures,
    get total() {
      return total;
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describeWith(["etcd", "etcdctl", "nginx", "apache2", "curl", "sh"], "the rendered web tier with real etcd, nginx and apache2")(
  "the lab web tier: announce → etcd → upstream file → nginx → apache",
  () => {
    let web: WebServiceSettings;
    let bundle: ServiceBundle;
    let dir: string;
    let www: string;
    const addr = loopbackAddress("web-tier");
    let etcdUrl: string;
    let nginxPort: number;
    let upstreamFile: string;
    let scriptEnv: Record<string, string>;
    const instances: ApacheInstance[] = [];
    const announcers: Record<string, Daemon> = {};
    let upstreamWatcher: Daemon;
    const announceExec: Record<number, { start: string[]; stop: string[]; env: Record<string, string> }> = {};

    const backends = () => instances.map((i) => `${addr}:${i.port}`);
    const upstreamHas = (address: string) => readIf(upstreamFile).includes(`server ${address} `);

    /** The words of a unit's Exec line, with the share's script dir moved into the temp dir. */
    const execWords = (unitText: string, key: "ExecStart" | "ExecStop"): string[] => {
      const line = unitText.split("\n").find((l) => l.startsWith(`${key}=`));
      if (!line) throw new Error(`no ${key} in unit`);
      return line.slice(key.length + 1).split(" ").map((w) => (w.startsWith(`${WEB_DEFAULTS.scriptDir}/`) ? path.join(dir, "scripts", path.basename(w)) : w));
    };

    const startAnnouncer = (index: number) => {
      const a = announceExec[index];
      announcers[index] = startDaemon({ name: `announce-${index}`, command: a.start[0], args: a.start.slice(1), env: a.env, logFile: path.join(dir, `announce-${index}.log`) });
    };

    /** Stops instance `index` as systemd does on `fleetctl stop apache-<index>`: announcer first (ExecStop, SIGTERM), then apache. */
    const stopInstance = async (index: number) => {
      const a = announceExec[index];
      runOk(a.stop[0], a.stop.slice(1), { env: a.env });
      await announcers[index].stop();
      await instances[index - 1].daemon!.stop();
    };

    beforeAll(async () => {
      ({ web, bundle } = (await import("./stack")).stackWeb("lab"));
      dir = openDir(tempDir("web"));
      www = writeWww(path.join(dir, "www"));
      openDir(path.join(dir, "scripts"));
      fs.writeFileSync(path.join(dir, "scripts", path.basename(SCRIPT_PATHS.announce)), bundleFile(bundle, SCRIPT_PATHS.announce), { mode: 0o755 });
      fs.writeFileSync(path.join(dir, "scripts", path.basename(SCRIPT_PATHS.upstream)), bundleFile(bundle, SCRIPT_PATHS.upstream), { mode: 0o755 });

      // etcd (v2 API, as the scripts' etcdctl of the etcd2 era speaks it)
      const [clientPort, peerPort] = [await freePort(addr), await freePort(addr)];
      etcdUrl = `http://${addr}:${clientPort}`;
      const peer = `http://${addr}:${peerPort}`;
      startDaemon({
        name: "web-etcd",
        command: "etcd",
        args: ["--name", "web", "--data-dir", path.join(dir, "etcd"), "--enable-v2", "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
          "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `web=${peer}`],
        logFile: path.join(dir, "etcd.log"),
      });
      await waitForPort(addr, clientPort);
      // What /etc/environment and the scripts' environment variables give the units on a node.
      // The scripts' etcd helper always passes the node's certificate files (etcd-tls.ts); this
      // tier's etcd is plain http (its TLS is the etcd tiers' subject), so any CA-signed pair does.
      const ca = createCa({ commonName: "web tier test CA", validityDays: 2 });
      const client = issueCertificate(ca, { commonName: "web-node", ipAddresses: [addr], usages: ["client"], validityDays: 1 });
      const tlsDir = path.join(dir, "tls");
      fs.mkdirSync(tlsDir, { recursive: true });
      fs.writeFileSync(path.join(tlsDir, "ca.pem"), ca.certPem);
      fs.writeFileSync(path.join(tlsDir, "etcd.pem"), client.certPem);
      fs.writeFileSync(path.join(tlsDir, "etcd-key.pem"), client.keyPem, { mode: 0o600 });
      scriptEnv = {
        ETCDCTL: which("etcdctl")!, ETCDCTL_API: "2", ETCD_ENDPOINT: etcdUrl, COREOS_PUBLIC_IPV4: addr, CURL: which("curl")!,
        ETCD_CA_FILE: path.join(tlsDir, "ca.pem"), ETCD_CERT_FILE: path.join(tlsDir, "etcd.pem"), ETCD_KEY_FILE: path.join(tlsDir, "etcd-key.pem"),
      };

      // apache-1..N on basePort + i
      for (let i = 1; i <= web.instances; i++) {
        const port = apachePort(web.basePort, i);
        expect(await portIsFree(addr, port)).toBe(true);
        instances.push({ name: `apache-${i}`, address: addr, port, dir: path.join(dir, `apache-${i}`) });
      }
      for (const inst of instances) await startApache(inst, www);

      // nginx: its config dir (the share's nginx/), the node-local upstream dir
      const nginxDir = openDir(path.join(dir, "nginx"));
      const confD = openDir(path.join(nginxDir, "conf.d"));
      upstreamFile = path.join(openDir(path.join(dir, "upstreams")), WEB_DEFAULTS.upstreamFileName);
      nginxPort = await freePort(addr);
      const conf = path.join(nginxDir, "nginx.conf");
      fs.writeFileSync(conf, remapRenderedNginxConf(bundleFile(bundle, `${WEB_DEFAULTS.nginxDir}/nginx.conf`), nginxDir, upstreamFile, confD));
      fs.writeFileSync(path.join(confD, "proxy.conf"), remapRenderedProxyConf(bundleFile(bundle, `${WEB_DEFAULTS.nginxDir}/conf.d/proxy.conf`), addr, nginxPort));
      const run = nginxRun(nginxDir, conf);
      const upstreamEnv = {
        ...scriptEnv,
        UPSTREAM_FILE: upstreamFile,
        NGINX_TEST_CMD: ["nginx", ...run.args, "-t", "-q"].join(" "),
        NGINX_RELOAD_CMD: ["nginx", ...run.args, "-s", "reload"].join(" "),
      };

      // The proxy unit: ExecStartPre=/bin/sh …/web-upstreams.sh once, then nginx; then the sidecar.
      const proxyUnit = bundle.units.find((u) => u.name === WEB_DEFAULTS.proxyUnit)!.text;
      const once = proxyUnit.split("\n").find((l) => l.startsWith("ExecStartPre=/bin/sh") && l.includes(UPSTREAM_SCRIPT))!;
      const onceWords = once.slice("ExecStartPre=".length).split(" ").map((w) => (w.startsWith(`${WEB_DEFAULTS.scriptDir}/`) ? path.join(dir, "scripts", path.basename(w)) : w));
      runOk(onceWords[0], onceWords.slice(1), { env: upstreamEnv });
      await startNginx("nginx", run, addr, nginxPort);
      const upstreamUnit = bundle.units.find((u) => u.name === WEB_DEFAULTS.upstreamUnit)!.text;
      const watch = execWords(upstreamUnit, "ExecStart");
      upstreamWatcher = startDaemon({ name: "web-upstreams", command: watch[0], args: watch.slice(1), env: upstreamEnv, logFile: path.join(dir, "upstreams.log") });

      for (let i = 1; i <= web.instances; i++) {
        const unit = announceUnitText(bundle, i);
        announceExec[i] = { start: execWords(unit, "ExecStart"), stop: execWords(unit, "ExecStop"), env: { ...unitEnvironment(unit), ...scriptEnv } };
      }
    }, 120000);

    afterAll(async () => {
      await cleanupAll();
    }, 60000);

    it("the announcers run with their units' environment: name, port basePort+i, prefix, interval < ttl", () => {
      expect(announceExec[2].env).toMatchObject({
        ANNOUNCE_NAME: "apache-2",
        ANNOUNCE_PORT: String(web.basePort + 2),
        ANNOUNCE_PREFIX: WEB_DEFAULTS.etcdPrefix,
        ANNOUNCE_INTERVAL: String(web.announceIntervalSeconds),
        ANNOUNCE_TTL: String(web.announceTtlSeconds),
      });
      expect(announceExec[2].start.slice(-1)).toEqual(["run"]);
      expect(announceExec[2].stop.slice(-1)).toEqual(["stop"]);
    });

    it("all 3 backends reach etcd and the upstream file, which nginx serves through", async () => {
      const start = Date.now();
      for (let i = 1; i <= web.instances; i++) startAnnouncer(i);
      const expected = renderUpstreamConf(backends());
      await waitFor(() => readIf(upstreamFile) === expected, { what: "the upstream file with 3 backends", timeoutMs: 20000 }).catch((e) => {
        throw new Error(`${e.message}\nupstream file:\n${readIf(upstreamFile)}\nwatcher:\n${upstreamWatcher.log()}\nannounce-1:\n${announcers[1].log()}`);
      });
      // eslint-disable-next-line no-console
      console.log(`3 backends announced → upstream file in ${Date.now() - start} ms`);
      const keys = runOk("etcdctl", ["--endpoints", etcdUrl, "ls", WEB_DEFAULTS.etcdPrefix], { env: { ETCDCTL_API: "2" } }).trim().split("\n").sort();
      expect(keys).toEqual(instances.map((i) => `${WEB_DEFAULTS.etcdPrefix}/${i.name}`));
      await waitFor(() => /reloaded nginx with 3 backend/.test(upstreamWatcher.log()), { what: "the reload with 3 backends", timeoutMs: 10000 });

      const seen = new Set<string>();
      await waitFor(
        async () => {
          const r = await httpGet(`http://${addr}:${nginxPort}/whoami`);
          expect(r.status).toBe(200);
          seen.add(r.body.trim());
          return seen.size === 3;
        },
        { what: "each backend to answer through nginx", timeoutMs: 10000, intervalMs: 1 },
      );
      expect([...seen].sort()).toEqual(["apache-1", "apache-2", "apache-3"]);
      const page = await httpGet(`http://${addr}:${nginxPort}/`);
      expect(page.status).toBe(200);
      expect(page.body).toBe(fs.readFileSync(path.join(www, "index.html"), "utf8"));
      expect(page.headers["x-backend"]).toMatch(/^apache-[123]$/);
    }, 60000);

    it("a stopped backend leaves the upstream within its TTL and returns when started; a client sees no failed request", async () => {
      const ttlMs = web.announceTtlSeconds * 1000;
      const clients = clientLoops(`http://${addr}:${nginxPort}/`);
      try {
        await sleep(1000);
        const leaving = `${addr}:${instances[1].port}`;
        const t0 = Date.now();
        await stopInstance(2);
        const leaveMs = await waitFor(() => !upstreamHas(leaving), { what: `${leaving} to leave the upstream file`, timeoutMs: ttlMs + 5000 }).then(() => Date.now() - t0);
        await waitFor(() => /reloaded nginx with 2 backend/.test(upstreamWatcher.log()), { what: "the reload with 2 backends", timeoutMs: 10000 });
        expect(readIf(upstreamFile)).toBe(renderUpstreamConf([backends()[0], backends()[2]]));
        await sleep(2000);

        const t1 = Date.now();
        await startApache(instances[1], www);
        startAnnouncer(2);
        const returnMs = await waitFor(() => readIf(upstreamFile) === renderUpstreamConf(backends()), { what: `${leaving} to return to the upstream file`, timeoutMs: ttlMs + 5000 }).then(() => Date.now() - t1);
        await waitFor(() => (upstreamWatcher.log().match(/reloaded nginx with 3 backend/g) ?? []).length >= 2, { what: "the reload with 3 backends again", timeoutMs: 10000 });
        await sleep(1000);
        // eslint-disable-next-line no-console
        console.log(
          `apache-2 stopped → left the upstream file in ${leaveMs} ms (TTL ${web.announceTtlSeconds} s); started → back in ${returnMs} ms ` +
            `(announce interval ${web.announceIntervalSeconds} s, poll ${WEB_DEFAULTS.pollInterval} s)`,
        );
        expect(leaveMs).toBeLessThan(ttlMs);
        expect(returnMs).toBeLessThan(ttlMs);
      } finally {
        await clients.stop();
      }
      // eslint-disable-next-line no-console
      console.log(`client loop through the stop and the start: ${clients.total} requests, ${clients.failures.length} failed`);
      expect(clients.failures).toEqual([]);
      expect(clients.total).toBeGreaterThan(100);

      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) seen.add((await httpGet(`http://${addr}:${nginxPort}/whoami`)).body.trim());
      expect([...seen].sort()).toEqual(["apache-1", "apache-2", "apache-3"]);
    }, 90000);

    it("an apache that dies (SIGKILL, its announcer still running) is withdrawn by the announcer's check and returns after a restart; no failed request", async () => {
      const ttlMs = web.announceTtlSeconds * 1000;
      const clients = clientLoops(`http://${addr}:${nginxPort}/`);
      try {
        await sleep(500);
        const dying = `${addr}:${instances[2].port}`;
        const t0 = Date.now();
        await instances[2].daemon!.kill();
        const leaveMs = await waitFor(() => !upstreamHas(dying), { what: `${dying} to be withdrawn`, timeoutMs: ttlMs + 5000 }).then(() => Date.now() - t0);
        expect(announcers[3].alive()).toBe(true);
        const t1 = Date.now();
        await startApache(instances[2], www); // the unit's Restart=always
        const returnMs = await waitFor(() => readIf(upstreamFile) === renderUpstreamConf(backends()), { what: `${dying} to return`, timeoutMs: ttlMs + 5000 }).then(() => Date.now() - t1);
        await sleep(2500);
        // eslint-disable-next-line no-console
        console.log(`apache-3 killed → withdrawn by its announcer in ${leaveMs} ms; restarted → back in ${returnMs} ms; client: ${clients.total} requests`);
        expect(leaveMs).toBeLessThan(ttlMs);
        expect(returnMs).toBeLessThan(ttlMs);
      } finally {
        await clients.stop();
      }
      expect(clients.failures).toEqual([]);
      expect(clients.total).toBeGreaterThan(100);
    }, 90000);

    it("the remap touched only paths, the user and the listen address", () => {
      const rendered = bundleFile(bundle, `${WEB_DEFAULTS.nginxDir}/nginx.conf`);
      expect(() => remap(rendered, [["worker_processes auto;", "worker_processes auto;"]], "nginx.conf")).not.toThrow();
      const used = fs.readFileSync(path.join(dir, "nginx", "nginx.conf"), "utf8");
      const differing = rendered.split("\n").filter((l, i) => l !== used.split("\n")[i]);
      expect(differing.map((l) => l.trim().split(" ")[0])).toEqual(["user", "pid", "error_log", "access_log", "include", "include"]);
    });
  },
);
