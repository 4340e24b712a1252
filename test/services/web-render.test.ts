import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import {
  apachePort,
  checkAnnounceTiming,
  renderAnnounceScript,
  renderAnnounceUnit,
  renderApacheUnit,
  renderNginxConf,
  renderProxyServerConf,
  renderProxyUnit,
  renderUpstreamConf,
  renderUpstreamScript,
  renderUpstreamUnit,
  renderWebTier,
} from "../../components/services/web-render";
import { expectGolden } from "../golden";
import { have, killStarted, runScript, sandbox, scriptEnv, startScript, terminate, waitFor, Sandbox } from "./support";

describe("web tier: rendered units and files (golden)", () => {
  it("apache instance, announce sidecar, proxy, upstream sidecar", () => {
    expectGolden("services/web/apache-1.service", renderApacheUnit({ index: 1, basePort: 8080 }).text);
    expectGolden("services/web/apache-12.service", renderApacheUnit({ index: 12, basePort: 8080, image: "httpd:2.4.62" }).text);
    expectGolden("services/web/apache-announce-1.service", renderAnnounceUnit({ index: 1, basePort: 8080 }).text);
    expectGolden("services/web/nginx.service", renderProxyUnit({ machineMetadata: ["role=web"] }).text);
    expectGolden("services/web/nginx-upstreams.service", renderUpstreamUnit().text);
  });

  it("nginx.conf, the proxy server block and the upstream file", () => {
    expectGolden("services/web/nginx.conf", renderNginxConf({ workerProcesses: "auto", workerConnections: 1024 }));
    expectGolden("services/web/nginx-2-workers.conf", renderNginxConf({ workerProcesses: 2, workerConnections: 4096, keepaliveTimeout: 30 }));
    expectGolden("services/web/proxy.conf", renderProxyServerConf());
    expectGolden("services/web/upstream-empty.conf", renderUpstreamConf([]));
    expectGolden("services/web/upstream-two.conf", renderUpstreamConf(["10.50.0.12:8082", "10.50.0.11:8081", "10.50.0.12:8082"]));
  });

  it("scripts", () => {
    expectGolden("services/web/web-announce.sh", renderAnnounceScript());
    expectGolden("services/web/web-upstreams.sh", renderUpstreamScript());
  });
});

describe("web tier: fixes of the thesis", () => {
  it("gives instance i the port basePort + i, past 9 too (no 808%i)", () => {
    expect(apachePort(8080, 1)).toBe(8081);
    expect(apachePort(8080, 10)).toBe(8090);
    expect(apachePort(8000, 123)).toBe(8123);
    const unit = renderApacheUnit({ index: 10, basePort: 8080 }).text;
    expect(unit).toContain(" -p 8090:80 ");
    expect(unit).not.toMatch(/%i/);
  });

  it("mounts the share read-only at the image's docroot and stops the container properly", () => {
    const unit = renderApacheUnit({ index: 2, basePort: 8080 }).text;
    expect(unit).toContain("-v /mnt/nfs/www:/usr/local/apache2/htdocs:ro httpd:2.4");
    expect(unit).toContain("ExecStartPre=-/usr/bin/docker rm -f apache-2\n");
    expect(unit).toContain("ExecStop=/usr/bin/docker stop -t 10 apache-2\n");
    expect(unit).toContain("EnvironmentFile=/etc/environment\n");
    expect(unit).toContain("Restart=always\n");
    expect(unit).not.toContain("[X-Fleet]");
  });

  it("publishes port 80 only on the proxy, and no SSH, sed or fixed address anywhere", () => {
    const bundle = renderWebTier({ instances: 3, basePort: 8080 });
    const proxy = bundle.units.find((u) => u.name === "nginx.service")!.text;
    expect(proxy.match(/ -p \S+/g)).toEqual([" -p 80:80"]);
    for (const text of [...bundle.units.map((u) => u.text), ...bundle.files.map((f) => f.content)]) {
      expect(text).not.toMatch(/\bssh\b|\bsed -i\b|10\.50\.0\.\d+|id_rsa/);
    }
  });

  it("binds each sidecar to its target", () => {
    const a = renderAnnounceUnit({ index: 3, basePort: 8080 });
    expect(a.xFleet).toEqual({ machineOf: "apache-3.service" });
    expect(a.text).toMatch(/BindsTo=apache-3\.service\nAfter=apache-3\.service\n/);
    expect(a.text).toContain("Environment=ANNOUNCE_PORT=8083\n");
    const u = renderUpstreamUnit();
    expect(u.xFleet).toEqual({ machineOf: "nginx.service" });
  });

  it("renders a whole tier: N apaches, N sidecars, proxy, renderer, node-local files (only www on the share)", () => {
    const b = renderWebTier({ instances: 2, basePort: 8080 });
    expect(b.units.map((u) => u.name)).toEqual([
      "apache-1.service",
      "apache-announce-1.service",
      "apache-2.service",
      "apache-announce-2.service",
      "nginx.service",
      "nginx-upstreams.service",
    ]);
    expect(b.files.map((f) => `${f.path} ${f.mode.toString(8)}`)).toEqual([
      "/etc/xen-coreos/web/nginx/nginx.conf 644",
      "/etc/xen-coreos/web/nginx/conf.d/proxy.conf 644",
      "/etc/xen-coreos/web/scripts/web-announce.sh 755",
      "/etc/xen-coreos/web/scripts/web-upstreams.sh 755",
    ]);
    // Whatever root runs or reads is off the share; the units touch the share only for www, read-only.
    for (const u of b.units) {
      for (const m of u.text.matchAll(/\/mnt\/nfs\/\S*/g)) expect(m[0]).toMatch(/^\/mnt\/nfs\/www(:|$)/);
    }
    expect(b.units.find((u) => u.name === "apache-1.service")!.text).toContain("/mnt/nfs/www:/usr/local/apache2/htdocs:ro");
  });
});

describe("web tier: validation", () => {
  it("rejects bad indexes and ports", () => {
    expect(() => apachePort(8080, 0)).toThrow(/index 0 must be an integer >= 1/);
    expect(() => apachePort(8080, 1.5)).toThrow(/index 1.5/);
    expect(() => apachePort(65535, 1)).toThrow(/port of instance 1 \(basePort 65535 \+ 1\)/);
    expect(() => apachePort(0, 1)).toThrow(/apache basePort 0 is not a TCP port/);
    expect(() => renderWebTier({ instances: 0, basePort: 8080 })).toThrow(/instances 0 must be an integer >= 1/);
    expect(() => renderApacheUnit({ index: 1, basePort: 8080, image: "Bad Image" })).toThrow(/invalid docker image reference/);
    expect(() => renderApacheUnit({ index: 1, basePort: 8080, wwwDir: "/mnt/nfs/www dir" })).toThrow(/wwwDir .* must be an absolute path/);
  });

  it("keeps TTL within (INTERVAL, 3 x INTERVAL]", () => {
    expect(() => checkAnnounceTiming(5, 15)).not.toThrow();
    expect(() => checkAnnounceTiming(5, 16)).toThrow(/ttl 16 must be at most 3 x interval \(15\)/);
    expect(() => checkAnnounceTiming(5, 5)).toThrow(/ttl 5 must be a whole number of seconds greater than the interval 5/);
    expect(() => checkAnnounceTiming(0, 2)).toThrow(/interval 0 must be a whole number/);
    expect(() => renderAnnounceUnit({ index: 1, basePort: 8080, interval: 10, ttl: 45 })).toThrow(/at most 3 x interval/);
  });

  it("validates nginx settings", () => {
    expect(() => renderNginxConf({ workerProcesses: 0, workerConnections: 1024 })).toThrow(/workerProcesses 0 must be an integer in 1..256/);
    expect(() => renderNginxConf({ workerProcesses: "auto", workerConnections: 1 })).toThrow(/workerConnections 1/);
    expect(() => renderNginxConf({ workerProcesses: "auto", workerConnections: 1024, user: "root; evil" })).toThrow(/nginx user/);
    expect(() => renderProxyServerConf({ clientMaxBodySize: "1 GB" })).toThrow(/clientMaxBodySize/);
    expect(() => renderProxyServerConf({ nextUpstreamTries: 0 })).toThrow(/nextUpstreamTries 0/);
    expect(() => renderProxyServerConf({ serverName: "a;b" })).toThrow(/serverName/);
    expect(() => renderUpstreamConf(["10.0.0.1"])).toThrow(/"10.0.0.1" is not IPv4:port/);
    expect(() => renderUpstreamConf([], { upstreamName: "bad-name" })).toThrow(/upstream name/);
    expect(() => renderUpstreamConf([], { serverParams: "weight=1;" })).toThrow(/serverParams/);
    expect(() => renderUpstreamScript({ pollInterval: 0 })).toThrow(/pollInterval 0/);
  });
});

/** Runs the scripts with a fake etcdctl; they are plain POSIX sh and need no Docker. */
describe("web-announce.sh", () => {
  let sb: Sandbox;
  let script: string;
  const key = "/xen-coreos/web/upstreams/apache-1";
  const env = (code: string, extra: Record<string, string> = {}) =>
    scriptEnv(sb, {
      CURL: sb.exe("curl", `#!/bin/sh\nprintf '%s' "$FAKE_HTTP_CODE"\n[ "$FAKE_HTTP_CODE" != 000 ]\n`),
      FAKE_HTTP_CODE: code,
      ANNOUNCE_NAME: "apache-1",
      ANNOUNCE_PORT: "8081",
      ANNOUNCE_INTERVAL: "1",
      ANNOUNCE_TTL: "3",
      COREOS_PUBLIC_IPV4: "10.50.0.11",
      ...extra,
    });
  beforeEach(() => {
    sb = sandbox("announce");
    script = sb.file("web-announce.sh", renderAnnounceScript());
  });
  afterEach(() => {
    killStarted();
    sb.cleanup();
  });

  it("announces IP:port with the TTL while the backend answers, and removes it on SIGTERM", async () => {
    const child = startScript(script, ["run"], env("200"));
    expect(await waitFor(() => sb.key(key) === "10.50.0.11:8081")).toBe(true);
    expect(fs.readFileSync(sb.etcdLog, "utf8")).toContain(`set --ttl 3 ${key} 10.50.0.11:8081`);
    expect(await terminate(child)).toBe(0);
    expect(sb.key(key)).toBeUndefined();
    expect(child.stderrText()).toMatch(/announced .*apache-1 = 10\.50\.0\.11:8081 \(ttl 3s\)[\s\S]*removed /);
  });

  it("treats a 4xx answer as alive and a 5xx or no answer as dead", async () => {
    const alive = startScript(script, ["run"], env("404"));
    expect(await waitFor(() => sb.key(key) !== undefined)).toBe(true);
    await terminate(alive);
    sb.setKey(key, "10.50.0.11:8081");
    const dead = startScript(script, ["run"], env("503"));
    expect(await waitFor(() => sb.key(key) === undefined)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sb.key(key)).toBeUndefined();
    await terminate(dead);
  });

  it("removes the key in stop mode (the unit's ExecStop)", () => {
    sb.setKey(key, "10.50.0.11:8081");
    const r = runScript(script, ["stop"], env("200"));
    expect(r.status).toBe(0);
    expect(sb.key(key)).toBeUndefined();
  });

  it("refuses a TTL outside (INTERVAL, 3 x INTERVAL] and missing settings", () => {
    expect(runScript(script, ["run"], env("200", { ANNOUNCE_TTL: "4" })).stderr).toMatch(/ANNOUNCE_TTL \(4\) must be greater than ANNOUNCE_INTERVAL \(1\) and at most 3 times it/);
    const noIp = env("200");
    delete noIp.COREOS_PUBLIC_IPV4;
    const r = runScript(script, ["run"], noIp);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/COREOS_PUBLIC_IPV4 is not set/);
    expect(runScript(script, [], env("200")).stderr).toMatch(/usage: .* run\|stop/);
  });
});

describe("web-upstreams.sh", () => {
  let sb: Sandbox;
  let script: string;
  let file: string;
  const prefix = "/xen-coreos/web/upstreams";
  const env = (extra: Record<string, string> = {}) =>
    scriptEnv(sb, { UPSTREAM_FILE: file, POLL_INTERVAL: "1", NGINX_TEST_CMD: "true", NGINX_RELOAD_CMD: `echo reload >>${path.join(sb.dir, "reloads")}`, ...extra });
  const reloads = () => (fs.existsSync(path.join(sb.dir, "reloads")) ? fs.readFileSync(path.join(sb.dir, "reloads"), "utf8").split("\n").filter(Boolean).length : 0);
  beforeEach(() => {
    sb = sandbox("upstreams");
    script = sb.file("web-upstreams.sh", renderUpstreamScript());
    file = path.join(sb.dir, "run", "upstreams", "web.conf");
  });
  afterEach(() => {
    killStarted();
    sb.cleanup();
  });

  it("once: renders exactly what renderUpstreamConf renders, ignoring values that are not IPv4:port", () => {
    sb.setKey(`${prefix}/apache-2`, "10.50.0.12:8082");
    sb.setKey(`${prefix}/apache-1`, "10.50.0.11:8081");
    sb.setKey(`${prefix}/evil`, "1.2.3.4:80; include /etc/passwd");
    const r = runScript(script, ["once"], env());
    expect(r.status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(renderUpstreamConf(["10.50.0.11:8081", "10.50.0.12:8082"]));
    expect(r.stderr).toMatch(/ignoring .*\/evil/);
  });

  it("once: with no key at all, writes the block with the down placeholder", () => {
    expect(runScript(script, ["once"], env()).status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(renderUpstreamConf([]));
  });

  it("once: with etcd down, keeps an existing file and creates a placeholder otherwise", () => {
    expect(runScript(script, ["once"], env({ FAKE_ETCD_DOWN: "1" })).status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(renderUpstreamConf([]));
    fs.writeFileSync(file, renderUpstreamConf(["10.0.0.1:80"]));
    runScript(script, ["once"], env({ FAKE_ETCD_DOWN: "1" }));
    expect(fs.readFileSync(file, "utf8")).toBe(renderUpstreamConf(["10.0.0.1:80"]));
  });

  it("watch: installs, tests and reloads when backends change, and only then", async () => {
    runScript(script, ["once"], env());
    const child = startScript(script, ["watch"], env());
    await new Promise((r) => setTimeout(r, 1500));
    expect(reloads()).toBe(0);
    sb.setKey(`${prefix}/apache-1`, "10.50.0.11:8081");
    expect(await waitFor(() => fs.readFileSync(file, "utf8") === renderUpstreamConf(["10.50.0.11:8081"]) && reloads() === 1)).toBe(true);
    fs.rmSync(path.join(sb.etcdDir, prefix.slice(1), "apache-1"));
    expect(await waitFor(() => fs.readFileSync(file, "utf8") === renderUpstreamConf([]) && reloads() === 2)).toBe(true);
    expect(await terminate(child)).toBe(0);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["web.conf"]);
  });

  it("watch: restores the previous file and does not reload when the test fails", async () => {
    runScript(script, ["once"], env());
    sb.setKey(`${prefix}/apache-1`, "10.50.0.11:8081");
    const child = startScript(script, ["watch"], env({ NGINX_TEST_CMD: "echo 'emerg: bad' >&2; false" }));
    expect(await waitFor(() => /nginx rejected the new upstreams.*emerg: bad/.test(child.stderrText()))).toBe(true);
    await terminate(child);
    expect(fs.readFileSync(file, "utf8")).toBe(renderUpstreamConf([]));
    expect(reloads()).toBe(0);
  });
});

const nginxOk = have("nginx");
(nginxOk ? describe : describe.skip)("nginx -t accepts the rendered configuration (local nginx)", () => {
  if (!nginxOk) console.log("skipping nginx -t checks: nginx is not installed (apt-get install -y nginx-light)");
  let sb: Sandbox;
  beforeEach(() => (sb = sandbox("nginx")));
  afterEach(() => {
    killStarted();
    sb.cleanup();
  });
  const check = (upstream: string) => {
    const conf = sb.file(
      "nginx.conf",
      renderNginxConf({
        workerProcesses: "auto",
        workerConnections: 1024,
        user: "www-data",
        pidFile: path.join(sb.dir, "nginx.pid"),
        errorLog: path.join(sb.dir, "error.log"),
        accessLog: path.join(sb.dir, "access.log"),
        mimeTypes: fs.existsSync("/etc/nginx/mime.types") ? "/etc/nginx/mime.types" : sb.file("mime.types", "types { text/html html; }\n"),
        upstreamFile: sb.file("upstreams/web.conf", upstream),
        serverConfDir: path.dirname(sb.file("conf.d/proxy.conf", renderProxyServerConf({ listenPort: 18080 }))),
      }),
    );
    return spawnSync("nginx", ["-t", "-q", "-c", conf], { encoding: "utf8" });
  };
  it("with zero announced backends", () => {
    const r = check(renderUpstreamConf([]));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
  it("with backends", () => {
    const r = check(renderUpstreamConf(["10.50.0.11:8081", "10.50.0.12:8082"]));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
