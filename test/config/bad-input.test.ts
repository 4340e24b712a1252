/**
 * Issue 10, "Bad input": values that were accepted and must be refused before any resource,
 * each with a message naming the setting and the fix.
 */
import { SettingsError, parseSettings } from "../../components/config/settings";
import { XEN_MAX_MEMORY_MIB, XEN_MAX_VHD_DISK_GIB } from "../../components/config/limits";
import { WITH_KEY, labRaw, stackRawSettings } from "../fixtures/settings";

function problems(raw: any, secrets = WITH_KEY, options = {}): string[] {
  try {
    parseSettings(raw, secrets, options);
    return [];
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
}

const ED25519 = labRaw().ssh.authorizedKeys[0] as string;

describe("numbers past what the target takes", () => {
  it("memoryMiB past 2^53 is refused, not rounded", () => {
    const raw = labRaw();
    raw.clusters[0].nodes[0].memoryMiB = 9007199254740993;
    expect(problems(raw)).toEqual([
      "xen-coreos:clusters[0].nodes[0].memoryMiB: is too large: whole numbers past 9007199254740991 (2^53 - 1) cannot be read exactly. Fix: set a value within the setting's range (README, Settings).",
    ]);
  });

  it("the same number written as text", () => {
    const raw = labRaw();
    raw.clusters[0].nodeDefaults.memoryMiB = "9007199254740993";
    const list = problems(raw);
    expect(list[0]).toBe(
      "xen-coreos:clusters[0].nodeDefaults.memoryMiB: is too large: whole numbers past 9007199254740991 (2^53 - 1) cannot be read exactly. Fix: set a value within the setting's range (README, Settings).",
    );
    expect(list).toHaveLength(1);
  });

  it("memory past XenServer's 1.5 TiB per VM, disk past its 2040 GiB VHD", () => {
    const raw = labRaw();
    raw.clusters[0].nodes[0].memoryMiB = XEN_MAX_MEMORY_MIB + 1;
    raw.clusters[0].nodes[1].diskGiB = 10 ** 12;
    expect(problems(raw)).toEqual([
      "xen-coreos:clusters[0].nodes[0].memoryMiB: 1572865 MiB is past the most memory XenServer gives a VM (1572864 MiB, 1.5 TiB). Fix: set memoryMiB to at most 1572864.",
      "xen-coreos:clusters[0].nodes[1].diskGiB: 1000000000000 GiB is past XenServer's largest virtual disk (2040 GiB on NFS, LVM and EXT storage). Fix: set diskGiB to at most 2040.",
    ]);
  });

  it("the limits themselves are accepted", () => {
    const raw = labRaw();
    raw.clusters[0].nodes[0].memoryMiB = XEN_MAX_MEMORY_MIB;
    raw.clusters[0].nodes[0].diskGiB = XEN_MAX_VHD_DISK_GIB;
    raw.clusters[0].nodes[0].vcpus = 64;
    expect(problems(raw)).toEqual([]);
  });

  it("vCPUs past XenServer's 64", () => {
    const raw = labRaw();
    raw.clusters[0].nodes[2].vcpus = 65;
    expect(problems(raw)).toEqual([
      "xen-coreos:clusters[0].nodes[2].vcpus: 65 vCPUs is out of range: XenServer gives a VM 1 to 64. Fix: set vcpus between 1 and 64.",
    ]);
  });
});

describe("addresses", () => {
  it("a node on the NAS's, the XenServer host's or the gateway's address", () => {
    const raw = labRaw();
    raw.network.cidr = "192.168.0.0/16";
    raw.network.gateway = "192.168.0.1";
    raw.nas.server = "192.168.0.200";
    raw.clusters[0].nodes[0].ip = "192.168.0.200";
    raw.clusters[0].nodes[1].ip = "192.168.2.105";
    raw.clusters[0].nodes[2].ip = "192.168.0.1";
    raw.services.web.cluster = "lab";
    expect(problems(raw)).toEqual([
      "xen-coreos:clusters[0].nodes[2].ip: 192.168.0.1 is the gateway's address. Fix: choose another address.",
      "xen-coreos:clusters[0].nodes[0].ip: 192.168.0.200 is the NAS's address (nas.server). Fix: give the node an address no other machine uses.",
      "xen-coreos:clusters[0].nodes[1].ip: 192.168.2.105 is the XenServer host's address (xenserver.host). Fix: give the node an address no other machine uses.",
    ]);
  });

  it("the gateway on the NAS's address", () => {
    const raw = labRaw();
    raw.nas.server = "10.50.0.1";
    expect(problems(raw)).toEqual([
      "xen-coreos:nas.server: 10.50.0.1 is the gateway's address (network.gateway): the NAS and the nodes' router are different machines. Fix: set nas.server to the NAS's own address, or network.gateway to the router's.",
    ]);
  });

  it.each([
    ["0.0.0.0/0", "xen-coreos:network.cidr: 0.0.0.0/0: a /0 is not a cluster network: every address would count as on-link, and a managed NAS would export the share to all of them. Fix: write the network's real prefix, /8 to /30 (e.g. 10.50.0.0/24)."],
    ["10.50.0.0/31", "xen-coreos:network.cidr: 10.50.0.0/31: a /31 leaves no address for the nodes beside the gateway. Fix: write the network's real prefix, /8 to /30 (e.g. 10.50.0.0/24)."],
    ["10.50.0.101/32", "xen-coreos:network.cidr: 10.50.0.101/32: a /32 leaves no address for the nodes beside the gateway. Fix: write the network's real prefix, /8 to /30 (e.g. 10.50.0.0/24)."],
  ])("network.cidr %s, reported once (no follow-on errors about each node)", (cidr, message) => {
    const raw = labRaw();
    raw.network.cidr = cidr;
    expect(problems(raw)).toEqual([message]);
  });

  it("a managed NAS with a /0 network: the export would reach every address", () => {
    const raw = stackRawSettings("production") as any;
    raw.network.cidr = "0.0.0.0/0";
    expect(problems(raw)).toContain(
      "xen-coreos:network.cidr: 0.0.0.0/0: a /0 is not a cluster network: every address would count as on-link, and a managed NAS would export the share to all of them. Fix: write the network's real prefix, /8 to /30 (e.g. 10.50.0.0/24).",
    );
  });

  it("a routed network that is the default route", () => {
    const raw = labRaw();
    raw.network.routedNetworks = ["0.0.0.0/0"];
    expect(problems(raw)).toEqual([
      "xen-coreos:network.routedNetworks[0]: 0.0.0.0/0 is the default route, which the gateway already is. Fix: list only the networks behind the gateway the nodes must reach (e.g. the NAS's, 172.16.0.0/16).",
    ]);
  });

  it("an empty DNS list; 0.0.0.0 and 255.255.255.255 as DNS servers", () => {
    const raw = labRaw();
    raw.network.dns = [];
    expect(problems(raw)).toEqual([
      "xen-coreos:network.dns: is empty: the nodes could resolve no name (image registries, the discovery service). Fix: list at least one DNS server, or remove network.dns to use the gateway.",
    ]);
    raw.network.dns = ["0.0.0.0", "255.255.255.255", "8.8.8.8"];
    expect(problems(raw)).toEqual([
      "xen-coreos:network.dns[0]: 0.0.0.0 is the unspecified address, not a DNS server. Fix: use your resolver's address (e.g. the gateway 10.50.0.1).",
      "xen-coreos:network.dns[1]: 255.255.255.255 is the broadcast address, not a DNS server. Fix: use your resolver's address (e.g. the gateway 10.50.0.1).",
    ]);
  });
});

describe("service ports that collide with the node's own daemons or each other", () => {
  it("galera.proxyPort on sshd, ftp.listenPort on etcd, web.basePort whose range covers etcd", () => {
    const raw = labRaw();
    raw.services.galera.proxyPort = 22;
    raw.services.ftp.listenPort = 2379;
    raw.services.web.basePort = 2378;
    expect(problems(raw)).toEqual([
      "xen-coreos:services.web.basePort: apache instance 1 would listen on 2379, which etcd (2379, 2380, 4001, 7001) holds on every node. Fix: choose basePort so that basePort+1 … basePort+instances avoids it (e.g. 8080).",
      "xen-coreos:services.galera.proxyPort: 22, which sshd (port 22) holds on every node. Fix: use another port, e.g. 3307.",
      "xen-coreos:services.ftp.listenPort: 2379, which etcd (2379, 2380, 4001, 7001) holds on every node. Fix: use another port, e.g. 21.",
      "xen-coreos:services.ftp: port 2379 is published by both web and ftp on cluster lab. Fix: move one of them (basePort, proxyPort, listenPort or passivePorts).",
    ]);
  });

  it("a port on the nodes' ssh.port, the FTP passive range over etcd's legacy port", () => {
    const raw = labRaw();
    raw.ssh.port = 2222;
    raw.services.galera.proxyPort = 2222;
    raw.services.ftp.passivePorts = { min: 3995, max: 4005 };
    expect(problems(raw)).toEqual([
      "xen-coreos:services.galera.proxyPort: 2222, which sshd (ssh.port 2222) holds on every node. Fix: use another port, e.g. 3307.",
      "xen-coreos:services.ftp.passivePorts: port 4001 of the range 3995-4005, which etcd (2379, 2380, 4001, 7001) holds on every node. Fix: move the range (e.g. min 30000, max 30009).",
    ]);
  });

  it("the FTP control port inside its own passive range", () => {
    const raw = labRaw();
    raw.services.ftp.listenPort = 30005;
    expect(problems(raw)).toEqual([
      "xen-coreos:services.ftp.listenPort: 30005 lies inside the passive range 30000-30009. Fix: move listenPort (e.g. 21) or the range.",
    ]);
  });
});

describe("the installer", () => {
  it("installDevice on the config drive's slot", () => {
    const raw = labRaw();
    raw.coreos.installDevice = "/dev/xvdb";
    expect(problems(raw)).toEqual([
      "xen-coreos:coreos.installDevice: /dev/xvdb is the config drive's slot (userdevice 1): the installer would overwrite the node's cloud-config. Fix: install to the system disk, /dev/xvda (the default).",
    ]);
  });

  it("installBaseUrl ending in a backslash, or holding % or $", () => {
    const raw = labRaw();
    raw.coreos.installBaseUrl = "https://mirror.example/coreos\\";
    expect(problems(raw)).toEqual([
      'xen-coreos:coreos.installBaseUrl: ends in "\\", which systemd reads as a line continuation in the installer unit. Fix: remove it: the base URL ends in its path (e.g. https://mirror.example/coreos/amd64-usr).',
    ]);
    raw.coreos.installBaseUrl = "https://mirror.example/core%20os";
    expect(problems(raw)).toEqual([
      'xen-coreos:coreos.installBaseUrl: holds "%", which systemd expands as a specifier (%n, %i, ...) in the installer unit; an unknown one makes the unit fail to load. Fix: write the URL without percent-escapes (rename the mirror folder if it needs them).',
    ]);
    raw.coreos.installBaseUrl = "https://mirror.example/$HOME";
    expect(problems(raw)).toEqual([
      "xen-coreos:coreos.installBaseUrl: holds \"$\", which systemd expands or unquotes in the installer unit's command line. Fix: remove it from the URL.",
    ]);
    raw.coreos.installBaseUrl = "https://mirror.example/coreos/amd64-usr";
    expect(problems(raw)).toEqual([]);
  });

  it("installBaseUrl with credentials, without echoing them", () => {
    const raw = labRaw();
    raw.coreos.installBaseUrl = "https://op:hunter2@mirror.example/coreos";
    const list = problems(raw);
    expect(list).toEqual([
      "xen-coreos:coreos.installBaseUrl: holds credentials (user:password@host): they would sit in plain text in every node's cloud-config. Fix: remove them (serve the mirror to the cluster network without a login).",
    ]);
  });
});

describe("keys and credentials", () => {
  it.each([
    ["AAAAC3NzaC1lZDI1NTE5", 'is not an SSH public key: it is not one line of the form "ssh-ed25519 AAAA… [comment]"'],
    ["ssh-foo AAAA", 'is not an SSH public key: "ssh-foo" is not an SSH key type (ssh-ed25519, ssh-rsa, ssh-dss, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com)'],
    ["ssh-ed25519 not*base64", "is not an SSH public key: the key field is not base64"],
    [`ssh-rsa ${ED25519.split(" ")[1]}`, 'is not an SSH public key: the key field is a "ssh-ed25519" key, not ssh-rsa'],
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "is not an SSH public key: the key field holds no key"],
  ])("xenserver.hostKey %j", (hostKey, reason) => {
    const raw = labRaw();
    raw.xenserver.hostKey = hostKey;
    expect(problems(raw)).toEqual([
      `xen-coreos:xenserver.hostKey: ${reason}. Fix: set the host's own key line, e.g. from the host: cat /etc/ssh/ssh_host_ed25519_key.pub (or ssh-keyscan -t ed25519 <host> without the host name).`,
    ]);
  });

  it("a real host key line is accepted, with or without a comment", () => {
    const raw = labRaw();
    raw.xenserver.hostKey = ED25519.split(" ").slice(0, 2).join(" ");
    expect(problems(raw)).toEqual([]);
    raw.xenserver.hostKey = `${ED25519} root@xenserver`;
    expect(problems(raw)).toEqual([]);
  });

  it("a secret key set without --secret", () => {
    expect(problems(labRaw(), new Set(["sshPrivateKey", "nasPrivateKey"]), { plainSecretKeys: new Set(["sshPrivateKey"]) })).toEqual([
      "xen-coreos:sshPrivateKey: is set in plain text (without --secret), so the private key is written unencrypted in Pulumi.<stack>.yaml. Fix: rotate the key, remove it with pulumi config rm xen-coreos:sshPrivateKey, then set it with pulumi config set --secret xen-coreos:sshPrivateKey < key",
    ]);
  });

  it("a PRIVATE KEY block pasted into any plain setting", () => {
    const raw = labRaw();
    raw.xenserver.hostKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    raw.clusters[0].nodes[0].metadata = { note: "-----BEGIN RSA PRIVATE KEY-----" };
    const list = problems(raw);
    const fix = "holds a private key in plain text in the stack file. Fix: delete it from the stack file and rotate it (it stays in the file's history); a private key is only ever set as a secret: pulumi config set --secret xen-coreos:sshPrivateKey < key";
    expect(list).toContain(`xen-coreos:xenserver.hostKey: ${fix}`);
    expect(list).toContain(`xen-coreos:clusters[0].nodes[0].metadata.note: ${fix}`);
    // The key never appears in a message.
    expect(list.join("\n")).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
  });

  it("credentials inside discovery.endpoint are refused without echoing them", () => {
    const raw = labRaw();
    raw.discovery.endpoint = "https://user:s3cret@discovery.example:8087";
    const list = problems(raw);
    expect(list).toEqual([
      "xen-coreos:discovery.endpoint: holds credentials (user:password@host): they would sit in plain text in the stack file, the program's state and every node's cloud-config. Fix: remove them from the URL (protect a self-hosted etcd-discovery by its network, or put it behind a proxy that adds them).",
    ]);
    expect(list.join("\n")).not.toContain("s3cret");
  });
});

describe("service accounts and folders", () => {
  it.each(["root", "haproxy_check", "mariabackup"])("galera.user %s", (user) => {
    const raw = labRaw();
    raw.services.galera.user = user;
    expect(problems(raw)).toEqual([
      `xen-coreos:services.galera.user: "${user}" is an account MariaDB or the platform already has (root, haproxy_check, mariabackup, mariadb.sys, mysql: the administrator, the HAProxy health check, the SST, the server's own): the application must not share or replace it. Fix: name the application's own user (default app).`,
    ]);
  });

  it.each(["mysql", "information_schema", "performance_schema", "sys", "MySQL"])("galera.database %s", (database) => {
    const raw = labRaw();
    raw.services.galera.database = database;
    expect(problems(raw)).toEqual([
      `xen-coreos:services.galera.database: "${database}" is a MariaDB system schema (mysql, information_schema, performance_schema, sys). Fix: name the application's own database (default app).`,
    ]);
  });

  it.each(["0:0", "101:0", "0:101", "00:101"])("ftp.homeOwner %s", (homeOwner) => {
    const raw = labRaw();
    raw.services.ftp.homeOwner = homeOwner;
    expect(problems(raw)).toEqual([
      `xen-coreos:services.ftp.homeOwner: "${homeOwner}" has uid or gid 0: every customer's home would belong to root (or its group), and FTP users would write as it. Fix: the image's unprivileged ftp account: docker run --rm <image> id ftp, then e.g. homeOwner: "101:101".`,
    ]);
  });

  it.each(["yes", 1, "TLS"])("ftp.tls %s", (tls) => {
    const raw = labRaw();
    raw.services.ftp.tls = tls;
    expect(problems(raw)).toEqual([
      `xen-coreos:services.ftp.tls: ${JSON.stringify(tls)} must be true (FTPS required, the default) or false (plain-text FTP: passwords and files readable on the network; a closed lab only).`,
    ]);
  });

  it("ftp.tls defaults to true and may be turned off", () => {
    expect(parseSettings(labRaw(), WITH_KEY).services.ftp!.tls).toBe(true);
    const raw = labRaw();
    raw.services.ftp.tls = false;
    expect(parseSettings(raw, WITH_KEY).services.ftp!.tls).toBe(false);
  });

  it.each(["/nfs/../etc", "/nfs/./NFS", "/nfs//NFS", "/nfs/NFS/", "/.."])("nas.export %s (not normalised)", (exportPath) => {
    const raw = labRaw();
    raw.nas.export = exportPath;
    expect(problems(raw)).toEqual([
      `xen-coreos:nas.export: ${JSON.stringify(exportPath)} must be a normalised absolute path: no "." or ".." segments, no "//", no trailing "/" (e.g. /nfs/NFS).`,
    ]);
  });

  it("a managed export of / or of a system folder; a folder inside /srv is fine", () => {
    const raw = stackRawSettings("production") as any;
    raw.nas.export = "/";
    expect(problems(raw)).toEqual([
      'xen-coreos:nas.export: "/" would export the NAS\'s whole file system read-write to the cluster network (and the program creates www/, nginx/ and services/ in it). Fix: export a folder of its own, e.g. /nfs/NFS.',
    ]);
    raw.nas.export = "/etc/nfs";
    expect(problems(raw)).toEqual([
      "xen-coreos:nas.export: /etc/nfs is inside the NAS's system folder /etc: a managed export would open it read-write to the cluster network. Fix: export a folder of its own, e.g. /nfs/NFS.",
    ]);
    raw.nas.export = "/srv";
    expect(problems(raw)).toEqual([
      "xen-coreos:nas.export: /srv is the NAS's system folder /srv: a managed export would open it read-write to the cluster network. Fix: export a folder of its own, e.g. /nfs/NFS.",
    ]);
    raw.nas.export = "/srv/nfs";
    expect(problems(raw)).toEqual([]);
  });

  it("an appliance's export of / (NFSv4 pseudo-root) is the appliance's business", () => {
    const raw = labRaw();
    raw.nas.export = "/";
    expect(problems(raw)).toEqual([]);
  });
});

describe("how an in-place change halts a node", () => {
  it("defaults: wait 300 s for the node to power itself off, never a hard power-off", () => {
    const s = parseSettings(labRaw(), WITH_KEY);
    expect([s.xenserver.haltTimeoutSeconds, s.xenserver.hardPowerOff]).toEqual([300, false]);
  });

  it("a wait outside 10-3600 s and a hardPowerOff that is not a boolean are refused", () => {
    const raw = labRaw();
    raw.xenserver.haltTimeoutSeconds = 5;
    raw.xenserver.hardPowerOff = "yes please";
    const list = problems(raw);
    expect(list).toContain("xen-coreos:xenserver.haltTimeoutSeconds: 5 is outside 10-3600 seconds (how long to wait for a node to power itself off).");
    expect(list.some((p) => p.startsWith("xen-coreos:xenserver.hardPowerOff:"))).toBe(true);
  });
});
