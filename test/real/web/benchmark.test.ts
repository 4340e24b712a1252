/**
 * The thesis's own benchmark (§11.2: ApacheBench, 100 000 requests, concurrency 20, a
 * static html page; no keep-alive, as the thesis ran `ab` without -k), three runs:
 *   1. directly to one apache backend;
 *   2. through nginx with the thesis's proxy config (fixtures/thesis-nginx.conf and
 *      thesis-apache.conf, §10.5.1 Il·lustracions 17-19: one worker, no upstream keepalive);
 *   3. through nginx with the program's rendered nginx.conf and proxy.conf.
 * Both proxies have the same upstream of 3 apache2 backends (basePort + i). The rendered
 * upstream file is renderUpstreamConf(backends): the bytes web-upstreams.sh writes (the web
 * tier test checks that equality on the live file). Each run has its own fresh network
 * namespace (backends, proxy and ab inside it), where both proxies keep their `listen 80`.
 *
 * A benchmark, not a timed test: it asserts only that every run completed every request
 * with 0 failed and 0 non-2xx; it prints the rates, the ratios and the load average.
 * XENCOREOS_AB_REQUESTS overrides the request count (default 100000) for a quick local run.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { apachePort, renderUpstreamConf, WEB_DEFAULTS } from "../../../components/services/web-render";
import { describeWith } from "../../support/prereq";
import { cleanupAll, createNetns, Daemon, deleteNetns, Netns, run, tempDir } from "../../support/real";
import {
  ApacheInstance,
  bundleFile,
  nginxRun,
  openDir,
  remap,
  remapRenderedNginxConf,
  startApache,
  startNginx,
  stackWeb,
  writeWww,
} from "./stack";

const REQUESTS = Number(process.env.XENCOREOS_AB_REQUESTS ?? 100000);
const CONCURRENCY = 20;
const FIXTURES = path.join(__dirname, "fixtures");

interface AbResult {
  target: string;
  complete: number;
  failed: number;
  non2xx: number;
  rps: number;
  seconds: number;
  raw: string;
}

function ab(target: string, url: string, requests: number, netns: string): AbResult {
  const r = run("ab", ["-r", "-n", String(requests), "-c", String(CONCURRENCY), url], { timeoutMs: 600000, netns });
  const raw = `${r.stdout}${r.stderr}`;
  const num = (re: RegExp) => Number(re.exec(raw)?.[1] ?? NaN);
  return {
    target,
    complete: num(/^Complete requests:\s+(\d+)/m),
    failed: num(/^Failed requests:\s+(\d+)/m),
    non2xx: /^Non-2xx responses:\s+(\d+)/m.test(raw) ? num(/^Non-2xx responses:\s+(\d+)/m) : 0,
    rps: num(/^Requests per second:\s+([\d.]+)/m),
    seconds: num(/^Time taken for tests:\s+([\d.]+)/m),
    raw,
  };
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(", ");

type Kind = "direct" | "thesis" | "rendered";
const TARGETS: Record<Kind, string> = { direct: "direct to apache-1", thesis: "thesis nginx config", rendered: "rendered nginx config" };

describeWith(["ab", "nginx", "apache2", "ip"], "ApacheBench through the thesis's and the rendered nginx configs")(
  "benchmark (thesis §11.2): ab -n 100000 -c 20, direct vs thesis proxy vs rendered proxy",
  () => {
    // Each run gets a fresh network namespace: its own loopback and its own TIME_WAIT table,
    // so the ~100 000-300 000 closed connections of one run (or of other tests) cannot slow
    // the connect() calls of the next. Inside it, 127.0.0.1 and port 80 are private.
    const addr = "127.0.0.1";
    let dir: string;
    let www: string;
    let pageBytes = 0;
    let web: ReturnType<typeof stackWeb>["web"];
    let bundle: ReturnType<typeof stackWeb>["bundle"];

    beforeAll(() => {
      ({ web, bundle } = stackWeb("lab"));
      dir = openDir(tempDir("bench"));
      www = writeWww(path.join(dir, "www"));
      pageBytes = fs.statSync(path.join(www, "index.html")).size;
    });

    afterAll(async () => {
      await cleanupAll();
    }, 60000);

    /** Starts 3 backends (and the proxy of `kind`) in a fresh namespace; returns the URL and the daemons. */
    async function setUp(kind: Kind): Promise<{ ns: Netns; url: string; daemons: Daemon[] }> {
      const ns = createNetns(`ab-${kind}`);
      const base = openDir(path.join(dir, kind));
      const daemons: Daemon[] = [];
      const backends: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const inst: ApacheInstance = { name: `apache-${i}`, address: addr, port: apachePort(web.basePort, i), dir: path.join(base, `apache-${i}`) };
        daemons.push(await startApache(inst, www, ns.name));
        backends.push(`${addr}:${inst.port}`);
      }
      if (kind === "direct") return { ns, url: `http://${backends[0]}/index.html`, daemons };

      const nDir = openDir(path.join(base, "nginx"));
      const confD = openDir(path.join(nDir, "conf.d"));
      const conf = path.join(nDir, "nginx.conf");
      if (kind === "thesis") {
        // nginx.conf + conf.d/apache.conf (unchanged: `listen 80`) + conf.d/upstream.conf (its form, our 3 backends).
        fs.writeFileSync(
          conf,
          remap(
            fs.readFileSync(path.join(FIXTURES, "thesis-nginx.conf"), "utf8"),
            [
              ["user nginx;", "user www-data;"],
              ["error_log /var/log/nginx/error.log warn;", `error_log ${nDir}/logs/error.log warn;`],
              ["pid /var/run/nginx.pid;", `pid ${nDir}/nginx.pid;`],
              ["access_log /var/log/nginx/access.log main;", `access_log ${nDir}/logs/access.log main;`],
              ["include /etc/nginx/conf.d/*.conf;", `include ${confD}/*.conf;`],
            ],
            "thesis nginx.conf",
          ),
        );
        fs.copyFileSync(path.join(FIXTURES, "thesis-apache.conf"), path.join(confD, "apache.conf"));
        fs.writeFileSync(path.join(confD, "upstream.conf"), `upstream cluster {\n${backends.map((b) => `    server ${b};\n`).join("")}}\n`);
        // The official nginx image's command is `nginx -g 'daemon off;'`.
        daemons.push(await startNginx("nginx-thesis", nginxRun(nDir, conf), addr, 80, ["-g", "daemon off;"], ns.name));
      } else {
        const upstreamFile = path.join(openDir(path.join(nDir, "upstreams")), WEB_DEFAULTS.upstreamFileName);
        fs.writeFileSync(upstreamFile, renderUpstreamConf(backends));
        fs.writeFileSync(conf, remapRenderedNginxConf(bundleFile(bundle, `${WEB_DEFAULTS.nginxDir}/nginx.conf`), nDir, upstreamFile, confD));
        // proxy.conf unchanged: `listen 80 default_server`, private to the namespace.
        fs.writeFileSync(path.join(confD, "proxy.conf"), bundleFile(bundle, `${WEB_DEFAULTS.nginxDir}/conf.d/proxy.conf`));
        daemons.push(await startNginx("nginx-rendered", nginxRun(nDir, conf), addr, 80, [], ns.name));
      }
      return { ns, url: `http://${addr}:80/index.html`, daemons };
    }

    it(`${REQUESTS} requests at concurrency ${CONCURRENCY}, no keep-alive: every run completes with 0 failed and 0 non-2xx`, async () => {
      const loadBefore = load();
      const results: AbResult[] = [];
      for (const kind of ["direct", "thesis", "rendered"] as Kind[]) {
        const { ns, url, daemons } = await setUp(kind);
        ab("warm-up", url, Math.min(2000, REQUESTS), ns.name); // first connections, page cache, workers
        results.push(ab(TARGETS[kind], url, REQUESTS, ns.name));
        for (const d of daemons) await d.stop();
        deleteNetns(ns.name);
      }
      const loadAfter = load();
      const [d, t, r] = results;
      // eslint-disable-next-line no-console
      console.log(
        [
          `ab -n ${REQUESTS} -c ${CONCURRENCY} (no -k), static page of ${pageBytes} bytes, ${os.cpus().length} CPUs, each run in a fresh network namespace`,
          ...results.map((x) => `  ${x.target.padEnd(24)} ${x.rps.toFixed(1).padStart(9)} req/s  (${x.seconds.toFixed(1)} s, complete ${x.complete}, failed ${x.failed}, non-2xx ${x.non2xx})`),
          `  thesis / direct   = ${(t.rps / d.rps).toFixed(2)}`,
          `  rendered / direct = ${(r.rps / d.rps).toFixed(2)}   (goal >= 0.70)`,
          `  rendered / thesis = ${(r.rps / t.rps).toFixed(2)}   (goal >= 1.80)`,
          `  load average before: ${loadBefore}; after: ${loadAfter}`,
        ].join("\n"),
      );
      for (const x of results) {
        expect({ target: x.target, complete: x.complete, failed: x.failed, non2xx: x.non2xx }).toEqual({ target: x.target, complete: REQUESTS, failed: 0, non2xx: 0 });
        expect(x.rps).toBeGreaterThan(0);
      }
    }, 600000);
  },
);
