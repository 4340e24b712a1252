import { spawnSync } from "child_process";
import { ftpSalt, renderFtp, renderFtpUnit, renderPamFile, renderUsersFile, renderVsftpdConf, sha512Crypt } from "../../components/services/ftp-render";
import { expectGolden } from "../golden";
import { have } from "./support";

const users = [
  { name: "prova2", password: "second secret" },
  { name: "acme", password: "first:secret" },
  { name: "zeta-shop", password: "s3cr3t with spaces & $signs" },
];

describe("ftp: rendered unit and files (golden)", () => {
  it("vsftpd.service, vsftpd.conf (plain and FTPS), PAM file, users file", () => {
    expectGolden("services/ftp/vsftpd.service", renderFtpUnit({ image: "xen-coreos/vsftpd:1", machineMetadata: ["role=web"] }).text);
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

describe("ftp: unit and vsftpd.conf", () => {
  it("publishes the control port and the passive range port for port, and mounts the share", () => {
    const text = renderFtpUnit({ image: "xen-coreos/vsftpd:1" }).text;
    expect(text).toContain(" -p 21:21 -p 30000-30009:30000-30009 ");
    expect(text).toContain(" -v /mnt/nfs/www:/srv/www ");
    expect(text).toContain(" -v /mnt/nfs/services/ftp/conf:/etc/vsftpd:ro ");
    expect(text).toContain(" -opasv_address=${COREOS_PUBLIC_IPV4}\n");
    expect(renderFtpUnit({ image: "xen-coreos/vsftpd:1", fixedPasvAddress: true }).text).not.toContain("pasv_address");
  });

  it("has every virtual-user setting", () => {
    const conf = renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009 }).split("\n");
    for (const line of [
      "guest_enable=YES",
      "guest_username=ftp",
      "virtual_use_local_privs=YES",
      "user_sub_token=$USER",
      "local_root=/srv/www/$USER",
      "chroot_local_user=YES",
      "allow_writeable_chroot=YES",
      "pam_service_name=vsftpd-virtual",
      "pasv_enable=YES",
      "pasv_min_port=30000",
      "pasv_max_port=30009",
      "hide_ids=YES",
      "anonymous_enable=NO",
    ]) {
      expect(conf).toContain(line);
    }
    expect(renderPamFile({ usersFile: "/etc/vsftpd/users.passwd" })).toContain("auth required pam_pwdfile.so pwdfile=/etc/vsftpd/users.passwd\naccount required pam_permit.so\n");
  });

  it("rejects bad settings", () => {
    expect(() => renderVsftpdConf({ pasvMinPort: 30010, pasvMaxPort: 30000 })).toThrow(/pasvMinPort 30010 is above pasvMaxPort 30000/);
    expect(() => renderVsftpdConf({ pasvMinPort: 20000, pasvMaxPort: 30000 })).toThrow(/wider than 1000 ports/);
    expect(() => renderVsftpdConf({ listenPort: 30005, pasvMinPort: 30000, pasvMaxPort: 30009 })).toThrow(/listenPort 30005 is inside the passive range/);
    expect(() => renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009, localRoot: "/srv/www" })).toThrow(/must be an absolute path containing \$USER/);
    expect(() => renderVsftpdConf({ pasvMinPort: 30000, pasvMaxPort: 30009, pasvAddress: "ftp.example.com" })).toThrow(/pasvAddress/);
    expect(() => renderPamFile({ usersFile: "users.passwd" })).toThrow(/usersFile/);
    expect(() => renderFtpUnit({ image: "" })).toThrow(/invalid docker image reference/);
  });

  it("renders the bundle", () => {
    const b = renderFtp({ image: "xen-coreos/vsftpd:1", users });
    expect(b.units.map((u) => u.name)).toEqual(["vsftpd.service"]);
    expect(b.files.map((f) => f.path)).toEqual([
      "/mnt/nfs/services/ftp/conf/vsftpd.conf",
      "/mnt/nfs/services/ftp/conf/vsftpd-virtual.pam",
      "/mnt/nfs/services/ftp/conf/users.passwd",
    ]);
  });
});
