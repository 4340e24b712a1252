import { spawnSync } from "child_process";
import { FTPS_CIPHERS, FTP_DEFAULTS, ftpFilePaths, ftpSalt, renderFtp, renderFtpUnit, renderOpensslConf, renderPamFile, renderSitesEnv, renderUsersFile, renderVsftpdConf, sha512Crypt, siteVolumes } from "../../components/services/ftp-render";
import { expectGolden } from "../golden";
import { have } from "./support";

const users = [
  { name: "prova2", password: "second secret" },
  { name: "acme", password: "first:secret" },
  { name: "zeta-shop", password: "s3cr3t with spaces & $signs" },
];

describe("ftp: rendered unit and files (golden)", () => {
  it("vsftpd.service, vsftpd.conf (plain and FTPS), PAM file, users file, sites list, OpenSSL settings", () => {
    expectGolden("services/ftp/vsftpd.service", renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: users.map((u) => u.name), machineMetadata: ["role=web"] }).text);
    expectGolden("services/ftp/vsftpd.env", renderSitesEnv(users.map((u) => u.name)));
    expectGolden("services/ftp/openssl.cnf", renderOpensslConf());
    expectGolden("services/ftp/vsftpd.conf", renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009 }));
    expectGolden(
      "services/ftp/vsftpd-ftps.conf",
      renderVsftpdConf({
        listenPort: 2121,
        pasvMinPort: 31000,
        pasvMaxPort: 31019,
        pasvAddress: "203.0.113.10",
        userConfigDir: "/etc/vsftpd/users",
        ftps: { certFile: "/etc/vsftpd/tls/cert.pem", keyFile: "/etc/vsftpd/tls/key.pem" },
      }),
    );
    expectGolden("services/ftp/vsftpd-virtual.pam", renderPamFile({ usersFile: "/etc/vsftpd/users.passwd" }));
    expectGolden("services/ftp/users.passwd", renderUsersFile(users));
  });
});

describe("ftp: users file", () => {
  it("is sorted by name and byte-identical on every render", () => {
    const a = renderUsersFile(users);
    expect(renderUsersFile([...users].reverse())).toBe(a);
    expect(a.split("\n").filter(Boolean).map((l) => l.split(":")[0])).toEqual(["acme", "prova2", "zeta-shop"]);
    expect(a).toMatch(/^acme:\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}\n/);
  });

  it("adding a user changes no other line (the thesis's htpasswd -c wiped them)", () => {
    const before = renderUsersFile(users).split("\n");
    const after = renderUsersFile([...users, { name: "newcomer", password: "pw" }]).split("\n");
    for (const line of before.filter(Boolean)) expect(after).toContain(line);
    expect(after.filter(Boolean)).toHaveLength(4);
  });

  it("changes a user's line when the password or the salt key changes", () => {
    const base = renderUsersFile([{ name: "acme", password: "one" }]);
    expect(renderUsersFile([{ name: "acme", password: "two" }])).not.toBe(base);
    expect(renderUsersFile([{ name: "acme", password: "one" }], { saltKey: "k" })).not.toBe(base);
    expect(ftpSalt("acme", "one", "k")).toBe(ftpSalt("acme", "one", "k"));
    expect(ftpSalt("acme", "one")).not.toBe(ftpSalt("acme2", "one"));
  });

  it("never contains a password", () => {
    const text = renderUsersFile(users);
    for (const u of users) expect(text).not.toContain(u.password);
  });

  it("rejects bad names, duplicates and empty passwords with clear messages", () => {
    expect(() => renderUsersFile([{ name: "Acme", password: "x" }])).toThrow(/ftp user name "Acme" is invalid: use 1-32 characters, a lowercase letter then \[a-z0-9_-\]/);
    expect(() => renderUsersFile([{ name: "1acme", password: "x" }])).toThrow(/"1acme" is invalid/);
    expect(() => renderUsersFile([{ name: "a".repeat(33), password: "x" }])).toThrow(/is invalid/);
    expect(() => renderUsersFile([{ name: "acme:x", password: "x" }])).toThrow(/is invalid/);
    expect(() => renderUsersFile([{ name: "acme", password: "x" }, { name: "acme", password: "y" }])).toThrow(/ftp user "acme" is listed twice/);
    expect(() => renderUsersFile([{ name: "acme", password: "" }])).toThrow(/ftp user "acme" has an empty password/);
    expect(() => renderUsersFile([{ name: "acme", password: "a\nb" }])).toThrow(/newline/);
  });
});

describe("sha512Crypt", () => {
  it("matches known glibc values", () => {
    expect(sha512Crypt("pw", "abcdefgh")).toBe("$6$abcdefgh$KQeXafAQAaOoKTevphVU215RvJdgzyfASRasIOuh12hO8u0r1bGW92ZnTmC9IjsiQ8VPiTXBiZF49dFL1U4wX/");
    expect(sha512Crypt("a much longer password with ünïcode and more than sixty-four bytes of text to cover the loop", "saltsaltsaltsalt", 10000)).toBe(
      "$6$rounds=10000$saltsaltsaltsalt$x4WDoPlkpKiAXUp9XaR1IMRQ9T81GWNH3.vvtkXKEkRS6/IVyglHOE0vqJb0tMwQbKksoZrQKlT4c0j0XEvXf0",
    );
  });

  it("rejects a bad salt or round count", () => {
    expect(() => sha512Crypt("pw", "bad salt")).toThrow(/salt must be 1-16 characters/);
    expect(() => sha512Crypt("pw", "abc", 10)).toThrow(/rounds 10 must be 1000/);
  });

  (have("openssl") ? it : it.skip)("agrees with openssl passwd -6 on every rendered line", () => {
    for (const line of renderUsersFile(users).split("\n").filter(Boolean)) {
      const [name, hash] = [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)];
      const salt = hash.split("$")[2];
      const password = users.find((u) => u.name === name)!.password;
      const r = spawnSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: password, encoding: "utf8" });
      expect(r.stdout.trim()).toBe(hash);
    }
  });
});

const names = users.map((u) => u.name);
const PEM = { certPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", keyPem: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" };

describe("ftp: unit and vsftpd.conf", () => {
  it("publishes the control port and the passive range port for port; mounts the node-local conf read-only and each user's site", () => {
    const text = renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: names }).text;
    expect(text).toContain(" -p 21:21 -p 30000-30009:30000-30009 ");
    expect(text).toContain(" -v /etc/xen-coreos/ftp:/etc/vsftpd:ro ");
    expect(text).toContain(" -v /etc/xen-coreos/ftp/vsftpd-virtual.pam:/etc/pam.d/vsftpd-virtual:ro ");
    expect(text).toContain("\nEnvironmentFile=/etc/xen-coreos/ftp/vsftpd.env\n");
    expect(text).toContain(" $XC_FTP_SITES xen-coreos/vsftpd:1 ");
    expect(text).toContain(" -opasv_address=${COREOS_PUBLIC_IPV4}\n");
    expect(text).toContain("\nRequiresMountsFor=/mnt/nfs/www\n");
    // Nothing the container runs or reads as config comes from the share.
    expect(text).not.toContain("/mnt/nfs/services");
    expect(renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: names, fixedPasvAddress: true }).text).not.toContain("pasv_address");
  });

  it("gives the container OPENSSL_CONF by name with TLS on, and not with TLS off", () => {
    const on = renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: names }).text;
    expect(on).toContain("\nEnvironment=OPENSSL_CONF=/etc/vsftpd/openssl.cnf\n");
    expect(on).toContain(" -e OPENSSL_CONF ");
    expect(renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: names, tls: false }).text).not.toContain("OPENSSL_CONF");
  });

  it("the sites list mounts www/<user> at /srv/ftp/<user>/www, sorted; the unit changes with the users, never with their passwords", () => {
    expect(siteVolumes(["zeta", "acme"])).toEqual(["/mnt/nfs/www/acme:/srv/ftp/acme/www", "/mnt/nfs/www/zeta:/srv/ftp/zeta/www"]);
    expect(renderSitesEnv(["zeta", "acme"])).toContain("\nXC_FTP_SITES=-v /mnt/nfs/www/acme:/srv/ftp/acme/www -v /mnt/nfs/www/zeta:/srv/ftp/zeta/www\n");
    const unit = (list: string[]) => renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: list }).text;
    expect(unit(["acme", "zeta"])).toBe(unit(["zeta", "acme"]));
    expect(unit(["acme", "zeta", "new"])).not.toBe(unit(["acme", "zeta"]));
    const a = renderFtp({ image: "xen-coreos/vsftpd:1", users, certificate: PEM }).units[0].text;
    const b = renderFtp({ image: "xen-coreos/vsftpd:1", users: users.map((u) => ({ ...u, password: `${u.password}!` })), certificate: PEM }).units[0].text;
    expect(b).toBe(a);
    expect(() => siteVolumes(["Acme"])).toThrow(/ftp user name "Acme" is invalid/);
    expect(() => siteVolumes(["acme", "acme"])).toThrow(/listed twice/);
  });

  it("keeps every unit line short however many users (fleet's parser reads 2048 bytes a line)", () => {
    const many = Array.from({ length: 500 }, (_, i) => `customer${i}`);
    const text = renderFtpUnit({ image: "xen-coreos/vsftpd:1", users: many }).text;
    expect(Math.max(...text.split("\n").map((l) => Buffer.byteLength(l)))).toBeLessThan(2048);
    expect(renderSitesEnv(many).split("-v ").length - 1).toBe(500);
  });

  it("has every virtual-user setting and a chroot root the user cannot write (never allow_writeable_chroot)", () => {
    const conf = renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009 }).split("\n");
    for (const line of [
      "guest_enable=YES",
      "guest_username=ftp",
      "virtual_use_local_privs=YES",
      "user_sub_token=$USER",
      "local_root=/srv/ftp/$USER",
      "chroot_local_user=YES",
      "allow_writeable_chroot=NO",
      "pam_service_name=vsftpd-virtual",
      "pasv_enable=YES",
      "pasv_min_port=30000",
      "pasv_max_port=30009",
      "hide_ids=YES",
      "anonymous_enable=NO",
    ]) {
      expect(conf).toContain(line);
    }
    expect(conf).not.toContain("allow_writeable_chroot=YES");
    expect(renderPamFile({ usersFile: "/etc/vsftpd/users.passwd" })).toContain("auth required pam_pwdfile.so pwdfile=/etc/vsftpd/users.passwd\naccount required pam_permit.so\n");
  });

  it("FTPS requires TLS for logins and data, TLS 1.2 only with AEAD suites; without it, plain text is said", () => {
    const conf = renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009, ftps: { certFile: "/etc/vsftpd/tls/cert.pem", keyFile: "/etc/vsftpd/tls/key.pem" } }).split("\n");
    for (const line of ["ssl_enable=YES", "force_local_logins_ssl=YES", "force_local_data_ssl=YES", "allow_anon_ssl=NO", "ssl_sslv2=NO", "ssl_sslv3=NO", "ssl_tlsv1=NO", "require_ssl_reuse=YES", `ssl_ciphers=${FTPS_CIPHERS.join(":")}`]) {
      expect(conf).toContain(line);
    }
    for (const c of FTPS_CIPHERS) expect(c).toMatch(/^(ECDHE|DHE)-RSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
    // Options vsftpd 3.0.3 does not know stop it: none may appear.
    expect(conf.join("\n")).not.toMatch(/ssl_tlsv1_[123]/);
    expect(renderOpensslConf()).toMatch(/\nMinProtocol = TLSv1\.2\nMaxProtocol = TLSv1\.2\n/);
    const plain = renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009 });
    expect(plain).toContain("ssl_enable=NO");
    expect(plain).toContain("plain text");
  });

  it("rejects bad settings", () => {
    expect(() => renderVsftpdConf({ pasvMinPort: 30010, pasvMaxPort: 30000 })).toThrow(/pasvMinPort 30010 is above pasvMaxPort 30000/);
    expect(() => renderVsftpdConf({ pasvMinPort: 20000, pasvMaxPort: 30000 })).toThrow(/wider than 1000 ports/);
    expect(() => renderVsftpdConf({ listenPort: 30005, pasvMinPort: 30000, pasvMaxPort: 30009 })).toThrow(/listenPort 30005 is inside the passive range/);
    expect(() => renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009, localRoot: "/srv/ftp" })).toThrow(/must be an absolute path containing \$USER/);
    expect(() => renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009, pasvAddress: "ftp.example.com" })).toThrow(/pasvAddress/);
    expect(() => renderPamFile({ usersFile: "users.passwd" })).toThrow(/usersFile/);
    expect(() => renderFtpUnit({ image: "", users: names })).toThrow(/invalid docker image reference/);
    expect(() => renderFtp({ image: "xen-coreos/vsftpd:1", users, tls: false, certificate: PEM })).toThrow(/certificate was given with tls off/);
    expect(() => renderFtp({ image: "xen-coreos/vsftpd:1", users, certificate: { ...PEM, keyPem: "not a key" } })).toThrow(/FTPS key is not one PEM block/);
  });

  it("renders the bundle node-local: users file and key 0600, the rest 0644; the certificate files only with TLS", () => {
    const b = renderFtp({ image: "xen-coreos/vsftpd:1", users, certificate: PEM });
    expect(b.units.map((u) => u.name)).toEqual(["vsftpd.service"]);
    expect(b.files.map((f) => f.path).sort()).toEqual(ftpFilePaths(true).sort());
    for (const f of b.files) expect(f.path.startsWith(`${FTP_DEFAULTS.confDir}/`)).toBe(true);
    const modes = Object.fromEntries(b.files.map((f) => [f.path.slice(FTP_DEFAULTS.confDir.length + 1), f.mode.toString(8)]));
    expect(modes).toEqual({ "vsftpd.conf": "644", "vsftpd-virtual.pam": "644", "users.passwd": "600", "vsftpd.env": "644", "openssl.cnf": "644", "tls/cert.pem": "644", "tls/key.pem": "600" });
    expect(b.files.find((f) => f.path.endsWith("/vsftpd.conf"))!.content).toContain("rsa_private_key_file=/etc/vsftpd/tls/key.pem\n");
    const plain = renderFtp({ image: "xen-coreos/vsftpd:1", users, tls: false });
    expect(plain.files.map((f) => f.path).sort()).toEqual(ftpFilePaths(false).sort());
    expect(ftpFilePaths(false).some((p) => /tls|openssl/.test(p))).toBe(false);
  });
});
