/**
 * The discovery token request, run for real (sh + curl) against a discovery double on
 * 127.0.0.1 that answers as the public service did in June 2026 (503), or with no token, or
 * with one; and against a port where nothing listens. Every failure names the static mode.
 */
import { execFile } from "child_process";
import * as http from "http";
import { AddressInfo } from "net";
import { renderDiscoveryKeepScript, renderDiscoveryRequestScript } from "../../components/etcd/etcd-scripts";
import { describeWith } from "../support/prereq";

function sh(script: string, env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("sh", ["-c", script], { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeWith(["curl"], "runs the token request with curl")("discovery token request", () => {
  let server: http.Server;
  let base: string;
  let answer: { status: number; body: string } = { status: 503, body: "Service Unavailable" };
  const requests: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? "");
      res.writeHead(answer.status, { "content-type": "text/plain" });
      res.end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("an error answer (503) fails, says what the service answered and names the static mode", async () => {
    answer = { status: 503, body: "Service Unavailable" };
    const r = await sh(renderDiscoveryRequestScript(base, 3));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`the discovery service ${base} did not answer with a token`);
    expect(r.stderr).toContain("503");
    expect(r.stderr).toContain("xen-coreos:discovery.mode to static");
  }, 120000);

  it("no answer at all (nothing listens) fails the same way", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await sh(renderDiscoveryRequestScript(`http://127.0.0.1:${port}`, 3));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/did not answer with a token \(curl: \(7\)/);
    expect(r.stderr).toContain("xen-coreos:discovery.mode to static");
  }, 120000);

  it("an answer that is no token URL is refused, naming the static mode", async () => {
    answer = { status: 200, body: "<html>maintenance</html>" };
    const r = await sh(renderDiscoveryRequestScript(base, 3));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("answered no token URL: <html>maintenance</html>");
    expect(r.stderr).toContain("xen-coreos:discovery.mode to static");
  });

  it("a token URL is printed; the update keeps the token in state and asks nothing", async () => {
    answer = { status: 200, body: `${base}/0123456789abcdef\n` };
    const r = await sh(renderDiscoveryRequestScript(base, 3));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${base}/0123456789abcdef`);
    expect(requests[requests.length - 1]).toBe("/new?size=3");
    const before = requests.length;
    const kept = await sh(renderDiscoveryKeepScript(base, 3), { PULUMI_COMMAND_STDOUT: `${base}/feedc0de` });
    expect(kept).toMatchObject({ status: 0, stdout: `${base}/feedc0de` });
    expect(requests.length).toBe(before);
    // Without a previous token it asks, as create does.
    const fresh = await sh(renderDiscoveryKeepScript(base, 3), { PULUMI_COMMAND_STDOUT: "" });
    expect(fresh.stdout).toBe(`${base}/0123456789abcdef`);
    expect(requests.length).toBe(before + 1);
  });
});
