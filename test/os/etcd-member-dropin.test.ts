import { ETCD_CONTAINER_SSL_DIR, ETCD_DATA_DIR, renderEtcdMemberDiscoveryDropIn, renderEtcdMemberDropIn } from "../../components/os/flatcar";
import { ETCD_TLS, ETCD_TLS_DIR } from "../../components/etcd/etcd-tls";

const members = [
  { name: "core1", ip: "10.0.0.11" },
  { name: "core2", ip: "10.0.0.12" },
  { name: "core3", ip: "10.0.0.13" },
];

/** Parses the drop-in back: section names and the ETCD_ variables of its Environment= lines. */
function parse(text: string): { sections: string[]; env: Record<string, string>; other: string[] } {
  const sections: string[] = [];
  const env: Record<string, string> = {};
  const other: string[] = [];
  for (const line of text.split("\n").filter((l) => l !== "")) {
    const section = /^\[(.+)\]$/.exec(line);
    if (section) { sections.push(section[1]); continue; }
    const m = /^Environment="([A-Z0-9_]+)=([^"]*)"$/.exec(line);
    if (m) env[m[1]] = m[2];
    else other.push(line);
  }
  return { sections, env, other };
}

describe("etcd-member drop-in (flatcar profile)", () => {
  const text = renderEtcdMemberDropIn({ name: "core2", ip: "10.0.0.12", initialCluster: members, clusterState: "new", token: "prod-etcd" });
  const { sections, env, other } = parse(text);

  it("is one [Service] section of Environment=\"ETCD_…\" lines only", () => {
    expect(sections).toEqual(["Service"]);
    expect(other).toEqual([]);
    for (const key of Object.keys(env)) expect(key.startsWith("ETCD_")).toBe(true);
  });

  it("names the member, keeps data on the disk, turns the v2 API on and pins a 3.5 image", () => {
    expect(env.ETCD_NAME).toBe("core2");
    expect(env.ETCD_DATA_DIR).toBe(ETCD_DATA_DIR);
    expect(env.ETCD_DATA_DIR.startsWith("/var/")).toBe(true);
    expect(env.ETCD_ENABLE_V2).toBe("true");
    expect(env.ETCD_IMAGE_TAG).toMatch(/^v3\.5\.\d+$/);
  });

  it("builds the initial cluster from every declared member, at its static address", () => {
    const entries = env.ETCD_INITIAL_CLUSTER.split(",");
    expect(entries).toHaveLength(members.length);
    for (const m of members) expect(entries).toContain(`${m.name}=https://${m.ip}:2380`);
    expect(env.ETCD_INITIAL_CLUSTER_STATE).toBe("new");
    expect(env.ETCD_INITIAL_CLUSTER_TOKEN).toBe("prod-etcd");
    expect(env.ETCD_INITIAL_ADVERTISE_PEER_URLS).toBe("https://10.0.0.12:2380");
    expect(env.ETCD_LISTEN_PEER_URLS).toBe("https://10.0.0.12:2380");
    expect(env.ETCD_ADVERTISE_CLIENT_URLS).toBe("https://10.0.0.12:2379");
    // The node's address and loopback only: never 0.0.0.0, never plain http.
    expect(env.ETCD_LISTEN_CLIENT_URLS.split(",")).toEqual(["https://10.0.0.12:2379", "https://127.0.0.1:2379"]);
  });

  it("serves clients and peers over TLS with client certificates required, files from the wrapper's mount", () => {
    // etcd-wrapper mounts ETCD_SSL_DIR at /etc/ssl/certs inside etcd's container.
    expect(env.ETCD_SSL_DIR).toBe(ETCD_TLS_DIR);
    const inContainer = (f: string) => `${ETCD_CONTAINER_SSL_DIR}/${f.slice(ETCD_TLS_DIR.length + 1)}`;
    expect(env).toMatchObject({
      ETCD_CLIENT_CERT_AUTH: "true",
      ETCD_PEER_CLIENT_CERT_AUTH: "true",
      ETCD_TRUSTED_CA_FILE: inContainer(ETCD_TLS.caFile),
      ETCD_PEER_TRUSTED_CA_FILE: inContainer(ETCD_TLS.caFile),
      ETCD_CERT_FILE: inContainer(ETCD_TLS.certFile),
      ETCD_PEER_CERT_FILE: inContainer(ETCD_TLS.certFile),
      ETCD_KEY_FILE: inContainer(ETCD_TLS.keyFile),
      ETCD_PEER_KEY_FILE: inContainer(ETCD_TLS.keyFile),
    });
    for (const v of Object.values(env)) expect(v).not.toMatch(/http:\/\//);
  });

  it("the discovery drop-in has the same TLS settings, and verifies an https discovery service with the public roots", () => {
    const disc = parse(renderEtcdMemberDiscoveryDropIn({ name: "core2", ip: "10.0.0.12", discoveryUrl: "https://discovery.example/abc" }));
    for (const k of Object.keys(env).filter((k) => /CERT|KEY_FILE|CA_FILE|SSL_DIR|_URLS/.test(k))) expect(disc.env[k]).toBe(env[k]);
    expect(disc.env.SSL_CERT_FILE).toBe("/usr/share/ca-certificates/ca-certificates.crt");
  });

  it("renders a joining member with state existing", () => {
    const join = parse(renderEtcdMemberDropIn({ name: "core3", ip: "10.0.0.13", initialCluster: members, clusterState: "existing", token: "t" })).env;
    expect(join.ETCD_INITIAL_CLUSTER_STATE).toBe("existing");
  });

  it("refuses a member missing from its own initial cluster, a bad address or a duplicate name", () => {
    expect(() => renderEtcdMemberDropIn({ name: "core9", ip: "10.0.0.19", initialCluster: members, clusterState: "new", token: "t" })).toThrow(/must list this member/);
    expect(() => renderEtcdMemberDropIn({ name: "core1", ip: "10.0.0.300", initialCluster: members, clusterState: "new", token: "t" })).toThrow(/IPv4/);
    expect(() => renderEtcdMemberDropIn({ name: "core1", ip: "10.0.0.11", initialCluster: [...members, members[0]], clusterState: "new", token: "t" })).toThrow(/twice/);
    expect(() => renderEtcdMemberDropIn({ name: "core1", ip: "10.0.0.11", initialCluster: members, clusterState: "new", token: "a b" })).toThrow(/token/);
  });
});
