import { SettingsError, parseSettings } from "../../components/config/settings";
import { WITH_KEY, labRaw, stackRawSettings } from "../fixtures/settings";

/** Parses and returns the problem list (empty when valid). */
function problems(raw: any, secrets = WITH_KEY): string[] {
  try {
    parseSettings(raw, secrets);
    return [];
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
}

describe("stack settings", () => {
  it.each(["lab", "dev", "production"])("the %s stack file is valid", (stack) => {
    expect(problems(stackRawSettings(stack))).toEqual([]);
  });

  it("applies the documented defaults", () => {
    const s = parseSettings(stackRawSettings("dev"), WITH_KEY);
    expect(s.xenserver).toMatchObject({ port: 22, user: "root", storageRepository: "Local storage", template: "CoreOS" });
    expect(s.xenserver.isoRepository).toEqual({ name: "ISOS", location: "/var/opt/isos", coreosIso: "coreos_production_iso_image.iso" });
    expect(s.network.dns).toEqual(["192.0.2.1"]);
    expect(s.network.interface).toBe("eth0");
    expect(s.nas).toMatchObject({ mountPoint: "/mnt/nfs", options: ["rw", "acl"], managed: false });
    expect(s.coreos).toMatchObject({ channel: "alpha", rebootStrategy: "etcd-lock", installDevice: "/dev/xvda" });
    expect(s.discovery.endpoint).toBe("https://discovery.etcd.io");
    expect(s.clusters[0].nodes[0]).toEqual({ name: "dev1", ip: "192.0.2.11", vcpus: 1, memoryMiB: 1024, diskGiB: 8, metadata: { cluster: "dev", role: "web" }, join: false });
  });

  it("lab settings carry the thesis lab's facts", () => {
    const s = parseSettings(stackRawSettings("lab"), WITH_KEY);
    expect(s.xenserver.host).toBe("192.168.2.105");
    expect(s.network).toMatchObject({ cidr: "10.50.0.0/24", gateway: "10.50.0.1", dns: ["8.8.8.8"] });
    expect(s.nas).toMatchObject({ server: "10.50.0.200", export: "/nfs/NFS", mountPoint: "/mnt/nfs" });
    expect(s.clusters[0].nodes.map((n) => [n.name, n.vcpus, n.memoryMiB])).toEqual([
      ["coreos1", 1, 1024], ["coreos2", 1, 1024], ["coreos3", 1, 1024],
    ]);
  });

  it("production has a 7-node web cluster and a 3-node db cluster with more memory", () => {
    const s = parseSettings(stackRawSettings("production"), new Set(["sshPrivateKey"]));
    const [web, db] = s.clusters;
    expect(web.nodes).toHaveLength(7);
    expect(db.nodes).toHaveLength(3);
    expect(Math.min(...db.nodes.map((n) => n.memoryMiB))).toBeGreaterThan(Math.max(...web.nodes.map((n) => n.memoryMiB)));
    expect(db.nodes.every((n) => n.metadata.role === "db")).toBe(true);
  });

  describe("bad input names the setting and the fix", () => {
    it("an IP outside the network", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[1].ip = "10.60.0.5";
      expect(problems(raw)).toEqual([
        "xen-coreos:clusters[0].nodes[1].ip: 10.60.0.5 is outside network.cidr 10.50.0.0/24. Fix: choose an address in 10.50.0.0/24 or change xen-coreos:network.cidr.",
      ]);
    });

    it("a malformed IP, the network and broadcast addresses, the gateway", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[0].ip = "10.50.0.300";
      raw.clusters[0].nodes[1].ip = "10.50.0.255";
      raw.clusters[0].nodes[2].ip = "10.50.0.1";
      const list = problems(raw);
      expect(list[0]).toMatch(/nodes\[0\]\.ip: "10\.50\.0\.300" is not an IPv4 address/);
      expect(list[1]).toMatch(/nodes\[1\]\.ip: 10\.50\.0\.255 is the network or broadcast address/);
      expect(list[2]).toMatch(/nodes\[2\]\.ip: 10\.50\.0\.1 is the gateway's address/);
    });

    it("a duplicate node name", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[2].name = "coreos1";
      expect(problems(raw)).toEqual([
        'xen-coreos:clusters[0].nodes[2].name: duplicate node name "coreos1" (also clusters[0].nodes[0]). Fix: node names are hostnames and must be unique in the stack.',
      ]);
    });

    it("a duplicate node IP, across clusters too", () => {
      const raw = labRaw();
      raw.clusters.push({ name: "db", nodes: [{ name: "db1", ip: "10.50.0.102" }] });
      expect(problems(raw)).toEqual([
        "xen-coreos:clusters[1].nodes[0].ip: duplicate node IP 10.50.0.102 (also clusters[0].nodes[1]). Fix: give every node its own address.",
      ]);
    });

    it.each([["CoreOS1"], ["core_os"], ["-node"], ["node-"], ["a".repeat(64)], ["x;reboot"], ["$(id)"], ["two words"], ["nl\nx"]])(
      "a node name that is not a hostname: %j",
      (name) => {
        const raw = labRaw();
        raw.clusters[0].nodes[0].name = name;
        const list = problems(raw);
        expect(list).toHaveLength(1);
        expect(list[0]).toContain("xen-coreos:clusters[0].nodes[0].name:");
        expect(list[0]).toContain("is not a valid hostname: use 1-63 lower-case letters, digits and '-'");
      },
    );

    it("an even cluster size, with the fault tolerance it gives", () => {
      const raw = labRaw();
      raw.clusters[0].nodes.push({ name: "coreos4", ip: "10.50.0.104" });
      expect(problems(raw)).toEqual([
        "xen-coreos:clusters[0].nodes: 4 nodes is an even etcd cluster size: it tolerates 1 failure, no more than 3 nodes. Fix: use 3 or 5 nodes, or set clusters[0].allowUnsafeSize: true (e.g. while growing one node at a time).",
      ]);
    });

    it("more than 9 nodes", () => {
      const raw = labRaw();
      raw.clusters[0].nodes = Array.from({ length: 11 }, (_, i) => ({ name: `n${i}`, ip: `10.50.0.${20 + i}` }));
      expect(problems(raw)).toEqual([
        "xen-coreos:clusters[0].nodes: 11 nodes: etcd clusters above 9 members slow every write and add little safety. Fix: use at most 9, or set clusters[0].allowUnsafeSize: true.",
      ]);
    });

    it("an even size is accepted with the explicit override", () => {
      const raw = labRaw();
      raw.clusters[0].nodes.push({ name: "coreos4", ip: "10.50.0.104" });
      raw.clusters[0].allowUnsafeSize = true;
      expect(problems(raw)).toEqual([]);
    });

    it("joining nodes come after the bootstrap nodes", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[0].join = true;
      expect(problems(raw)).toEqual([
        "xen-coreos:clusters[0].nodes[0].join: the first node cannot join: a cluster is bootstrapped by its leading nodes through discovery. Fix: remove join from the bootstrap nodes.",
      ]);
      const mixed = labRaw();
      mixed.clusters[0].nodes[1].join = true;
      expect(problems(mixed)).toEqual([
        "xen-coreos:clusters[0].nodes[2].join: node coreos3 comes after a joining node but does not join. Fix: list the bootstrap nodes first, then the nodes added later with join: true, in the order they were added.",
      ]);
    });

    it("memory below 1024 MiB", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[0].memoryMiB = 512;
      expect(problems(raw)).toEqual([
        "xen-coreos:clusters[0].nodes[0].memoryMiB: 512 MiB is below the 1024 MiB CoreOS needs to run etcd, fleet and containers. Fix: set memoryMiB to 1024 or more.",
      ]);
    });

    it("a disk below 8 GiB, also through nodeDefaults", () => {
      const raw = labRaw();
      raw.clusters[0].nodeDefaults.diskGiB = 4;
      const list = problems(raw);
      expect(list).toHaveLength(3);
      expect(list[0]).toBe(
        "xen-coreos:clusters[0].nodes[0].diskGiB: 4 GiB is below the 8 GiB the CoreOS image needs (thesis Annex 2). Fix: set diskGiB to 8 or more.",
      );
    });

    it("no SSH public key", () => {
      const raw = labRaw();
      raw.ssh.authorizedKeys = [];
      expect(problems(raw)).toEqual([
        "xen-coreos:ssh.authorizedKeys: missing SSH key: list at least one public key for user core. Fix: add the contents of ~/.ssh/id_ed25519.pub.",
      ]);
    });

    it("a private key pasted where a public key belongs", () => {
      const raw = labRaw();
      raw.ssh.authorizedKeys = ["-----BEGIN OPENSSH PRIVATE KEY-----"];
      expect(problems(raw)[0]).toMatch(/ssh\.authorizedKeys\[0\]: is not an OpenSSH public key line.*A private key never goes here/);
    });

    it("no SSH private key secret", () => {
      expect(problems(labRaw(), new Set())).toEqual([
        "xen-coreos:sshPrivateKey: missing SSH private key (used for core@nodes and, unless xenserverPrivateKey is set, root@XenServer). Fix: pulumi config set --secret xen-coreos:sshPrivateKey < ~/.ssh/id_ed25519",
      ]);
    });

    it("a NAS outside every reachable network", () => {
      const raw = labRaw();
      raw.nas.server = "172.16.9.9";
      expect(problems(raw)).toEqual([
        "xen-coreos:nas.server: 172.16.9.9 is not reachable from the nodes: it is outside network.cidr 10.50.0.0/24 and every network.routedNetworks entry. Fix: correct the address or add its network to xen-coreos:network.routedNetworks.",
      ]);
    });

    it("a NAS on a routed network is accepted", () => {
      const raw = labRaw();
      raw.nas.server = "172.16.9.9";
      raw.network.routedNetworks = ["172.16.0.0/16"];
      expect(problems(raw)).toEqual([]);
    });

    it("unknown setting keys, with a did-you-mean", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[0].memoryMb = 2048;
      raw.xenserver.tempalte = "CoreOS";
      raw.nsa = {};
      const list = problems(raw);
      expect(list).toContain('xen-coreos:nsa: unknown setting. Did you mean "nas"? Known keys here: xenserver, network, ssh, discovery, os, coreos, nas, clusters, services, security, sshPrivateKey, xenserverPrivateKey, nasPrivateKey.');
      expect(list).toContain('xen-coreos:xenserver.tempalte: unknown setting. Did you mean "template"? Known keys here: host, port, user, hostKey, network, storageRepository, version, template, isoRepository, haltTimeoutSeconds, hardPowerOff.');
      expect(list.find((l) => l.includes("memoryMb"))).toMatch(/clusters\[0\]\.nodes\[0\]\.memoryMb: unknown setting\. Did you mean "memoryMiB"\?/);
    });

    it("missing required sections", () => {
      const list = problems({}, WITH_KEY);
      expect(list).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^xen-coreos:network: is required/),
          expect.stringMatching(/^xen-coreos:xenserver: is required/),
          expect.stringMatching(/^xen-coreos:clusters: is required/),
          expect.stringMatching(/^xen-coreos:nas: is required/),
        ]),
      );
    });

    it("a gateway outside the network, a bad discovery endpoint, an unknown channel", () => {
      const raw = labRaw();
      raw.network.gateway = "10.9.9.1";
      raw.discovery.endpoint = "discovery.etcd.io";
      raw.coreos.channel = "nightly";
      const list = problems(raw);
      expect(list).toEqual([
        "xen-coreos:network.gateway: 10.9.9.1 is outside network.cidr 10.50.0.0/24. Fix: use the router address of 10.50.0.0/24.",
        'xen-coreos:discovery.endpoint: "discovery.etcd.io" is not an http(s) base URL. Fix: use https://discovery.etcd.io or http://<your etcd-discovery>:8087.',
        'xen-coreos:coreos.channel: must be one of alpha, beta, stable, lts, got "nightly".',
      ]);
    });

    it("services with the share mounted elsewhere than /mnt/nfs", () => {
      const raw = labRaw();
      raw.nas.mountPoint = "/srv/share";
      expect(problems(raw)).toEqual([
        "xen-coreos:nas.mountPoint: /srv/share: the services (web, galera, ftp) expect the share at /mnt/nfs. Fix: set nas.mountPoint to /mnt/nfs, or run no services on this stack.",
      ]);
      delete raw.services;
      expect(problems(raw)).toEqual([]);
    });

    it("service settings: port overflow, unknown cluster, placement no node has, bad FTP users", () => {
      const raw = labRaw();
      raw.services.web.basePort = 65533;
      raw.services.galera.cluster = "db";
      raw.services.ftp.placement = { role: "ftp" };
      raw.services.ftp.users = ["customer1", "Bad User", "customer1"];
      expect(problems(raw)).toEqual([
        "xen-coreos:services.web.basePort: instance 3 would listen on port 65536, past 65535. Fix: lower basePort to at most 65532 or run fewer instances.",
        'xen-coreos:services.galera.cluster: there is no cluster "db". Fix: use one of lab.',
        "xen-coreos:services.ftp.users[1]: \"Bad User\" is not a valid FTP user name: 1-32 of a-z, 0-9, '_' and '-', starting with a letter (it is also the folder www/<user>).",
        'xen-coreos:services.ftp.users[2]: duplicate user "customer1". Fix: list each user once.',
        "xen-coreos:services.ftp.placement: no node of cluster lab has metadata role=ftp, so fleet could place nothing. Fix: use metadata the nodes carry (cluster=lab, role=web) or add it to the nodes.",
      ]);
    });

    it("galera members: even, or more than the nodes they may run on; a proxy port the members use", () => {
      const raw = labRaw();
      raw.services.galera.members = 4;
      raw.services.galera.proxyPort = 4567;
      const list = problems(raw);
      expect(list).toContain("xen-coreos:services.galera.members: 4 members: an even Galera cluster loses quorum on a split into halves. Fix: use 5 (or 3).");
      expect(list).toContain("xen-coreos:services.galera.members: 4 members need 4 nodes (members conflict with each other), but only 3 node(s) of cluster lab match cluster=lab. Fix: lower members or add db nodes.");
      expect(list).toContain("xen-coreos:services.galera.proxyPort: 4567 is used by the members themselves (3306, 4444, 4567, 4568). Fix: use another port, e.g. 3307.");
    });

    it("two services publishing one port on a cluster", () => {
      const raw = labRaw();
      raw.services.ftp.listenPort = 8082;
      expect(problems(raw)).toEqual([
        "xen-coreos:services.ftp: port 8082 is published by both web and ftp on cluster lab. Fix: move one of them (basePort, proxyPort, listenPort or passivePorts).",
      ]);
    });

    it("reports every problem at once in one error", () => {
      const raw = labRaw();
      raw.clusters[0].nodes[0].memoryMiB = 10;
      raw.clusters[0].nodes[1].diskGiB = 1;
      expect(() => parseSettings(raw, WITH_KEY)).toThrow(/Invalid stack settings \(2 problems\):\n  - .*memoryMiB.*\n  - .*diskGiB/);
    });
  });
});

describe("OS profiles, bootstrap mode and host version", () => {
  const flatcar = (edit: (raw: any) => void = () => {}) => {
    const raw: any = JSON.parse(JSON.stringify(stackRawSettings("production")));
    edit(raw);
    return raw;
  };

  it("lab stays the thesis: coreos, XenServer 6.5 and its CoreOS template, token discovery", () => {
    const s = parseSettings(stackRawSettings("lab"), WITH_KEY);
    expect(s.os.profile).toBe("coreos");
    expect(s.xenserver).toMatchObject({ version: "6.5", template: "CoreOS" });
    expect(s.discovery.mode).toBe("token");
  });

  it("production is flatcar on XCP-ng 8.3 with static bootstrap; the template and ISO default by version and profile", () => {
    const s = parseSettings(stackRawSettings("production"), WITH_KEY);
    expect(s.os.profile).toBe("flatcar");
    expect(s.xenserver).toMatchObject({ version: "xcp-ng-8.3", template: "Generic Linux BIOS" });
    expect(s.discovery.mode).toBe("static");
    expect(s.os.fleet.url).toMatch(/fleet-v1\.0\.0-linux-amd64\.tar\.gz$/);
    const raw = flatcar((r) => { delete r.xenserver.isoRepository.coreosIso; r.xenserver.version = "8"; });
    const s8 = parseSettings(raw, WITH_KEY);
    expect(s8.xenserver.template).toBe("Generic Linux BIOS");
    expect(s8.xenserver.isoRepository.coreosIso).toBe("flatcar_production_iso_image.iso");
  });

  it("refuses a flatcar node below 2048 MiB, naming the install boot and the fix", () => {
    const list = problems(flatcar((r) => { r.clusters[0].nodeDefaults.memoryMiB = 1024; }));
    expect(list).toContain("xen-coreos:clusters[0].nodes[0].memoryMiB: 1024 MiB is below the 2048 MiB Flatcar's install ISO needs to boot (os.profile is flatcar; the install boot runs from RAM). Fix: set memoryMiB (or clusters[0].nodeDefaults.memoryMiB) to 2048 or more.");
    expect(list.filter((l) => l.includes("memoryMiB"))).toHaveLength(7);
    // The same memory is fine for coreos (the thesis ran 1024 MiB nodes).
    expect(problems(stackRawSettings("lab"))).toEqual([]);
  });

  it("requires the fleet tarball's sha256 for flatcar, and refuses one that is not a sha256", () => {
    const missing = problems(flatcar((r) => { delete r.os.fleet.sha256; }));
    expect(missing.find((l) => l.startsWith("xen-coreos:os.fleet.sha256: is required for os.profile flatcar"))).toMatch(/pulumi config set --path xen-coreos:os\.fleet\.sha256/);
    expect(problems(flatcar((r) => { r.os.fleet.sha256 = "abc"; }))).toContainEqual(expect.stringMatching(/^xen-coreos:os\.fleet\.sha256: "abc" is not a sha256/));
    expect(problems(flatcar((r) => { r.os.fleet.url = "ftp://mirror/fleet.tar.gz"; }))).toContainEqual(expect.stringMatching(/^xen-coreos:os\.fleet\.url: .* must be an http\(s\) or file URL/));
    expect(problems(flatcar((r) => { r.os.fleet.url = "http://mirror.lab/fleet-v1.0.0-linux-amd64.tar.gz"; }))).toEqual([]);
    expect(problems(flatcar((r) => { r.os.fleet.url = "file:///srv/fleet-v1.0.0-linux-amd64.tar.gz"; }))).toEqual([]);
  });

  it("refuses flatcar-only settings on coreos, and the CoreOS template on an 8.x host", () => {
    const lab = (edit: (raw: any) => void) => { const raw: any = JSON.parse(JSON.stringify(stackRawSettings("lab"))); edit(raw); return problems(raw); };
    expect(lab((r) => { r.coreos.channel = "lts"; })).toContainEqual(expect.stringMatching(/^xen-coreos:coreos\.channel: lts is a Flatcar channel/));
    expect(lab((r) => { r.os = { version: "4593.1.0" }; })).toContainEqual(expect.stringMatching(/^xen-coreos:os\.version: pins a Flatcar release, but os\.profile is coreos/));
    expect(lab((r) => { r.os = { fleet: { sha256: "0".repeat(64) } }; })).toContainEqual(expect.stringMatching(/^xen-coreos:os\.fleet: is for the flatcar profile only/));
    expect(lab((r) => { r.xenserver.version = "xcp-ng-8.3"; })).toContainEqual(expect.stringMatching(/^xen-coreos:xenserver\.template: "CoreOS" is not a template of XCP-ng 8\.3.*Fix: remove xen-coreos:xenserver\.template to use "Generic Linux BIOS"/));
    expect(lab((r) => { r.discovery.mode = "dns"; })).toContain('xen-coreos:discovery.mode: must be one of token, static, got "dns".');
    expect(problems(flatcar((r) => { r.os.version = "4593.1.0"; r.coreos.channel = "lts"; }))).toEqual([]);
    expect(problems(flatcar((r) => { r.os.version = "latest"; }))).toContainEqual(expect.stringMatching(/^xen-coreos:os\.version: "latest" is not a Flatcar release number/));
  });
});

describe("security settings", () => {
  it("secure defaults: host keys required, firewall on, SSH from the cluster network", () => {
    const raw = labRaw();
    delete raw.security;
    const list = problems(raw);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatch(/^xen-coreos:xenserver\.hostKey: is required: .*prefers ECDSA, then RSA, then Ed25519.*ssh_host_ecdsa_key\.pub.*ssh-keyscan -t ecdsa,rsa 192\.168\.2\.105.*security\.requireHostKeys false/);
    raw.xenserver.hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtWTMxmpgBHFFPkeAzxpzMB7ItNnD87pCqP8owiZhoa";
    const s = parseSettings(raw, WITH_KEY);
    expect(s.security).toEqual({ requireHostKeys: true, tlsRotation: "1", hostKeyRotation: "1", caValidityDays: 3650, certValidityDays: 825, sshAllowedFrom: ["10.50.0.0/24"], firewall: true });
  });

  it("a managed NAS needs its host key too, unless host keys are not required", () => {
    const raw = labRaw();
    delete raw.security;
    raw.xenserver.hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtWTMxmpgBHFFPkeAzxpzMB7ItNnD87pCqP8owiZhoa";
    raw.nas.managed = true;
    expect(problems(raw)).toEqual([expect.stringMatching(/^xen-coreos:nas\.hostKey: is required for a managed NAS/)]);
    raw.nas.hostKey = "not a key";
    expect(problems(raw)[0]).toMatch(/^xen-coreos:nas\.hostKey: is not an SSH public key/);
    raw.security = { requireHostKeys: false };
    delete raw.nas.hostKey;
    expect(problems(raw)).toEqual([]);
  });

  it("bad security values name the setting and the fix", () => {
    const raw = labRaw();
    raw.security = { ...raw.security, tlsRotation: "a b", caValidityDays: 100, certValidityDays: 200, sshAllowedFrom: ["10.0.0.1"], firewal: true };
    const list = problems(raw);
    expect(list).toEqual(expect.arrayContaining([
      expect.stringMatching(/security\.firewal: unknown setting\. Did you mean "firewall"/),
      expect.stringMatching(/security\.tlsRotation: "a b" must be a short word/),
      expect.stringMatching(/security\.certValidityDays: 200 must be between 1 and security\.caValidityDays \(100\)/),
      expect.stringMatching(/security\.sshAllowedFrom\[0\]: "10\.0\.0\.1" is not an IPv4 network/),
    ]));
    raw.security = { sshAllowedFrom: [] , requireHostKeys: false};
    expect(problems(raw)).toEqual([expect.stringMatching(/security\.sshAllowedFrom: is empty: the firewall would lock the program itself out/)]);
  });
});
