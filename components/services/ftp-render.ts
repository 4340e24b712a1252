/**
 * FTP with virtual users (thesis §10.5.3, Annex 5), fixed and secure by default (issue 12):
 * - the users file is rendered whole from the desired user list (the thesis's
 *   `htpasswd -c` recreated it on every new user, wiping the others) and no password is
 *   ever printed;
 * - hashes are sha512-crypt (`$6$`, which pam_pwdfile checks through crypt(3)) with a salt
 *   derived from (name, password): re-rendering gives identical bytes, so a preview shows
 *   no change, and adding a user never changes another user's line;
 * - the passive port range is published explicitly and `pasv_address` is the node's
 *   address (or a fixed one), so passive mode works from outside the container;
 * - FTPS (explicit TLS, `AUTH TLS`) is on unless `services.ftp.tls` is false: logins and every
 *   data connection (the passive ones included) must use TLS 1.2 or later with AEAD ciphers;
 * - each user is chrooted into a root-owned folder it cannot write (`/srv/ftp/<user>`, made by
 *   the container runtime for the site's mount point), with its site `www/<user>` of the share
 *   mounted at `/www` inside it: no `allow_writeable_chroot`;
 * - vsftpd.conf, the PAM service, the users file (0600, root: vsftpd's PAM runs as root) and
 *   the certificate are node-local files under `/etc/xen-coreos/ftp/`, never on the share
 *   every NFS client can write.
 *
 * sha512-crypt is implemented here from the published algorithm (Drepper, "Unix crypt
 * using SHA-256 and SHA-512") on node:crypto: the `unixcrypt` package is ESM-only and
 * cannot be loaded by this CommonJS program or by jest. Tests check it against
 * `openssl passwd -6`.
 *
 * Pure: plain values in, strings out.
 */
import { createHash, createHmac, pbkdf2Sync } from "crypto";
import { Directive, RenderedFile, RenderedUnit, ServiceBundle, XFleet, renderUnitFile, unitName } from "../fleet/unit-file";
import { absPath, dockerServiceDirectives, imageRef, port } from "./scripts/common";
import { FTP_USER_RE } from "../config/limits";

export const FTP_DEFAULTS = {
  container: "vsftpd",
  /** The customers' sites on the share: user <name> uploads into `www/<name>`. */
  wwwDir: "/mnt/nfs/www",
  /**
   * Node-local, root-owned folder holding vsftpd.conf, the PAM file, the users file, the
   * sites list and the certificate (written over SSH on every node the unit may run on).
   */
  confDir: "/etc/xen-coreos/ftp",
  /**
   * Inside the container: each user's chroot root `/srv/ftp/<user>` (root-owned, created by the
   * container runtime for the mount point below it, so the user cannot write it) ...
   */
  containerChrootDir: "/srv/ftp",
  /** ... holding the user's site (the share's `www/<user>`) as `/www`, the only folder it can write. */
  siteFolder: "www",
  containerConfDir: "/etc/vsftpd",
  pamService: "vsftpd-virtual",
  usersFile: "users.passwd",
  /** EnvironmentFile of the unit: `XC_FTP_SITES`, the `-v` option of every user's site. */
  sitesEnvFile: "vsftpd.env",
  sitesVariable: "XC_FTP_SITES",
  /** OpenSSL configuration vsftpd's OpenSSL reads (`OPENSSL_CONF`): the TLS versions. */
  opensslConf: "openssl.cnf",
  /** Certificate and key, relative to the conf folder (the key 0600). */
  certFile: "tls/cert.pem",
  keyFile: "tls/key.pem",
  guestUsername: "ftp",
  listenPort: 21,
  pasvMinPort: 30000,
  pasvMaxPort: 30009,
  rounds: 5000,
} as const;

const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function cryptBase64(bytes: Buffer, order: number[][]): string {
  let out = "";
  for (const group of order) {
    let w = 0;
    for (const i of group) w = (w << 8) | bytes[i];
    const chars = group.length === 3 ? 4 : group.length === 2 ? 3 : 2;
    for (let k = 0; k < chars; k++) {
      out += CRYPT_ALPHABET[w & 0x3f];
      w >>>= 6;
    }
  }
  return out;
}

// Byte order of the sha512-crypt encoding: 21 rotated triples (i, i+21, i+42), then byte 63 alone.
const SHA512_ORDER: number[][] = (() => {
  const order: number[][] = [];
  for (let i = 0; i < 21; i++) {
    const t = [i, i + 21, i + 42];
    const r = i % 3;
    order.push([...t.slice(r), ...t.slice(0, r)]);
  }
  order.push([63]);
  return order;
})();

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
}

function repeatTo(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = source[i % source.length];
  return out;
}

/**
 * sha512-crypt (`$6$salt$hash`) of `password`. `salt` is at most 16 characters of
 * `[./0-9A-Za-z]`; `rounds` defaults to 5000 (then omitted from the output, as glibc does).
 */
export function sha512Crypt(password: string, salt: string, rounds: number = FTP_DEFAULTS.rounds): string {
  if (!/^[./0-9A-Za-z]{1,16}$/.test(salt)) throw new Error("sha512-crypt salt must be 1-16 characters of [./0-9A-Za-z]");
  if (!Number.isInteger(rounds) || rounds < 1000 || rounds > 999999999) throw new Error(`sha512-crypt rounds ${rounds} must be 1000..999999999`);
  const p = Buffer.from(password, "utf8");
  const s = Buffer.from(salt, "ascii");
  const b = sha512(p, s, p);
  const a = createHash("sha512");
  a.update(p);
  a.update(s);
  a.update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();
  const pSeq = repeatTo(sha512(...Array.from({ length: p.length }, () => p)), p.length);
  const sSeq = repeatTo(sha512(...Array.from({ length: 16 + c[0] }, () => s)), s.length);
  for (let r = 0; r < rounds; r++) {
    const h = createHash("sha512");
    h.update(r & 1 ? pSeq : c);
    if (r % 3 !== 0) h.update(sSeq);
    if (r % 7 !== 0) h.update(pSeq);
    h.update(r & 1 ? c : pSeq);
    c = h.digest();
  }
  const encoded = cryptBase64(c, SHA512_ORDER);
  const prefix = rounds === FTP_DEFAULTS.rounds ? "$6$" : `$6$rounds=${rounds}$`;
  return `${prefix}${salt}$${encoded}`;
}

export interface FtpUser {
  name: string;
  password: string;
}

/** The FTP user rule lives with the settings (config layer), which check it first; the renderer re-checks. */
export { FTP_USER_RE };

/**
 * The salt of a user, 16 characters derived from (name, password):
 * - with a secret `saltKey` (e.g. a Pulumi secret): HMAC-SHA512(saltKey, name NUL password),
 *   cheap and unguessable without the key;
 * - without one: PBKDF2-SHA512(password, "xen-coreos/ftp/" + name, 5000 iterations), as costly
 *   as the hash itself, so the salt is no shortcut for testing password guesses.
 * Deterministic either way: re-rendering is byte-stable and one user's line depends on that
 * user alone.
 */
export function ftpSalt(name: string, password: string, saltKey = ""): string {
  const raw = saltKey
    ? createHmac("sha512", saltKey).update(`${name}\0${password}`).digest().subarray(0, 12)
    : pbkdf2Sync(password, `xen-coreos/ftp/${name}`, FTP_DEFAULTS.rounds, 12, "sha512");
  let out = "";
  for (let i = 0; i < 12; i += 3) {
    let w = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    for (let k = 0; k < 4; k++) {
      out += CRYPT_ALPHABET[w & 0x3f];
      w >>>= 6;
    }
  }
  return out;
}

/** Validates the user list: names, non-empty passwords, no duplicates. Throws with a clear message. */
export function validateFtpUsers(users: FtpUser[]): void {
  const seen = new Set<string>();
  for (const u of users) {
    if (typeof u.name !== "string" || !FTP_USER_RE.test(u.name)) {
      throw new Error(`ftp user name ${JSON.stringify(u.name)} is invalid: use 1-32 characters, a lowercase letter then [a-z0-9_-]`);
    }
    if (seen.has(u.name)) throw new Error(`ftp user "${u.name}" is listed twice; each user needs exactly one entry`);
    seen.add(u.name);
    if (typeof u.password !== "string" || u.password.length === 0) throw new Error(`ftp user "${u.name}" has an empty password`);
    if (/[\r\n\0]/.test(u.password)) throw new Error(`ftp user "${u.name}" has a password with a newline or NUL`);
  }
}

/**
 * The pam_pwdfile users file: `name:$6$salt$hash` lines sorted by name. Identical input
 * gives identical bytes; one user's line depends only on that user.
 */
export function renderUsersFile(users: FtpUser[], opts: { saltKey?: string } = {}): string {
  validateFtpUsers(users);
  return [...users]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((u) => `${u.name}:${sha512Crypt(u.password, ftpSalt(u.name, u.password, opts.saltKey))}\n`)
    .join("");
}

/** `/etc/pam.d/vsftpd-virtual`: virtual users from the pwdfile, no account checks. */
export function renderPamFile(args: { usersFile: string }): string {
  const file = absPath(args.usersFile, "usersFile");
  return [
    "# PAM service of vsftpd's virtual users. Rendered by xen-coreos; written to each node, do not edit there.",
    `auth required pam_pwdfile.so pwdfile=${file}`,
    "account required pam_permit.so",
    "",
  ].join("\n");
}

/**
 * TLS 1.2 cipher suites allowed for FTPS: ECDHE/DHE key exchange with AES-GCM or ChaCha20-Poly1305
 * (the certificate is RSA, from the deployment PKI). None of them exists before TLS 1.2, so with
 * `ssl_tlsv1=NO` a TLS 1.0 or 1.1 client finds no common suite even where `openssl.cnf` (below)
 * is not read: vsftpd 3.0.3 (Debian 11/12) has no `ssl_tlsv1_1` / `ssl_tlsv1_2` options (they came
 * in 3.0.4, and an unknown option stops vsftpd).
 */
export const FTPS_CIPHERS = [
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "DHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
] as const;

/**
 * The OpenSSL configuration of the vsftpd container (`OPENSSL_CONF`): TLS 1.2 exactly. At least
 * 1.2 is the policy; at most 1.2 because vsftpd 3.0.3 loses FTPS uploads over TLS 1.3 (a session
 * ticket the uploading client never reads; the data connection ends early and vsftpd answers
 * "426 Failure reading network stream"; InfrastructureServices/vsftpd issue 7, the same with
 * proftpd, proftpd/proftpd issue 959), and vsftpd 3.0.3 has no option to turn TLS 1.3 off. The
 * real-server test (lftp 4.9 with GnuTLS, vsftpd 3.0.3 with OpenSSL 3.0) lost uploads this way
 * before the cap. OpenSSL 1.1.0 and later read `system_default`.
 */
export function renderOpensslConf(): string {
  return [
    "# OpenSSL settings of vsftpd (OPENSSL_CONF). Rendered by xen-coreos; written to each node, do not edit there.",
    "openssl_conf = xen_coreos_ftps",
    "",
    "[xen_coreos_ftps]",
    "ssl_conf = xen_coreos_ftps_ssl",
    "",
    "[xen_coreos_ftps_ssl]",
    "system_default = xen_coreos_ftps_tls",
    "",
    "[xen_coreos_ftps_tls]",
    "# TLS 1.2 only: nothing older; not 1.3, whose session tickets break vsftpd 3.0.3's uploads.",
    "MinProtocol = TLSv1.2",
    "MaxProtocol = TLSv1.2",
    `CipherString = ${FTPS_CIPHERS.join(":")}`,
    "",
  ].join("\n");
}

export interface VsftpdConfArgs {
  /** Control port inside the container. Defaults to 21. */
  listenPort?: number;
  pasvMinPort: number;
  pasvMaxPort: number;
  /** Fixed passive address (e.g. the firewall's public IP). When absent the unit passes the node's address. */
  pasvAddress?: string;
  /**
   * FTPS (explicit TLS): certificate and key paths inside the container. When given, logins and
   * all data connections (passive ones included) require TLS 1.2+. When absent, FTP is plain text
   * (a lab only: passwords cross the network readable).
   */
  ftps?: { certFile: string; keyFile: string };
  /** Per-user config directory inside the container (`user_config_dir`). */
  userConfigDir?: string;
  /**
   * Chroot root of each virtual user; `$USER` is the user name. It must not be writable by the
   * guest account (vsftpd refuses it; `allow_writeable_chroot` is never set). Defaults to
   * `/srv/ftp/$USER`.
   */
  localRoot?: string;
  /** Local account that owns the files written by virtual users. Defaults to `ftp`. */
  guestUsername?: string;
  /** PAM service. Defaults to `vsftpd-virtual`. */
  pamService?: string;
  /** Maximum simultaneous clients. Defaults to 50. */
  maxClients?: number;
}

/** `vsftpd.conf` for virtual users, each chrooted into a folder it cannot write that holds its site. */
export function renderVsftpdConf(args: VsftpdConfArgs): string {
  const listen = port(args.listenPort ?? FTP_DEFAULTS.listenPort, "listenPort");
  const min = port(args.pasvMinPort, "pasvMinPort");
  const max = port(args.pasvMaxPort, "pasvMaxPort");
  if (min > max) throw new Error(`pasvMinPort ${min} is above pasvMaxPort ${max}`);
  if (max - min > 999) throw new Error(`passive range ${min}-${max} is wider than 1000 ports; every port is published by docker`);
  if (listen >= min && listen <= max) throw new Error(`listenPort ${listen} is inside the passive range ${min}-${max}`);
  const localRoot = args.localRoot ?? `${FTP_DEFAULTS.containerChrootDir}/$USER`;
  if (!/^\/[A-Za-z0-9_./-]*\$USER[A-Za-z0-9_./-]*$/.test(localRoot)) {
    throw new Error(`localRoot ${JSON.stringify(localRoot)} must be an absolute path containing $USER (e.g. /srv/ftp/$USER)`);
  }
  const guest = args.guestUsername ?? FTP_DEFAULTS.guestUsername;
  if (!/^[a-z_][a-z0-9_-]*$/.test(guest)) throw new Error(`guestUsername ${JSON.stringify(guest)} is not a user name`);
  const pam = args.pamService ?? FTP_DEFAULTS.pamService;
  if (!/^[a-z0-9_-]+$/.test(pam)) throw new Error(`pamService ${JSON.stringify(pam)} must be [a-z0-9_-]`);
  const maxClients = args.maxClients ?? 50;
  if (!Number.isInteger(maxClients) || maxClients < 1 || maxClients > 10000) throw new Error(`maxClients ${maxClients} must be 1..10000`);
  const lines = [
    "# vsftpd with virtual users (pam_pwdfile). Rendered by xen-coreos; written to each node, do not edit there.",
    "# Standalone, in the foreground: the container's main process.",
    "listen=YES",
    "listen_ipv6=NO",
    `listen_port=${listen}`,
    "background=NO",
    `max_clients=${maxClients}`,
    "",
    "# Only virtual users: no anonymous access; every login maps to the guest account.",
    "anonymous_enable=NO",
    "local_enable=YES",
    "write_enable=YES",
    "local_umask=022",
    "guest_enable=YES",
    `guest_username=${guest}`,
    "virtual_use_local_privs=YES",
    `pam_service_name=${pam}`,
    "",
    "# Each user is locked into its own chroot root, which belongs to root and which it cannot",
    `# write; its site is the folder /${FTP_DEFAULTS.siteFolder} inside it (the share's www/<user>).`,
    "user_sub_token=$USER",
    `local_root=${localRoot}`,
    "chroot_local_user=YES",
    "allow_writeable_chroot=NO",
    "hide_ids=YES",
    "secure_chroot_dir=/var/run/vsftpd/empty",
    "# The kernel may refuse the seccomp sandbox inside a container.",
    "seccomp_sandbox=NO",
    "",
    "# Passive mode: this range is published by the unit, port for port.",
    "pasv_enable=YES",
    `pasv_min_port=${min}`,
    `pasv_max_port=${max}`,
  ];
  if (args.pasvAddress !== undefined) {
    if (!/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(args.pasvAddress)) throw new Error(`pasvAddress ${JSON.stringify(args.pasvAddress)} must be an IPv4 address`);
    lines.push(`pasv_address=${args.pasvAddress}`);
  } else {
    lines.push("# pasv_address is given at start: the address of the node running the container.");
  }
  lines.push("", "xferlog_enable=YES", "xferlog_std_format=NO", "log_ftp_protocol=NO");
  if (args.userConfigDir !== undefined) lines.push(`user_config_dir=${absPath(args.userConfigDir, "userConfigDir")}`);
  if (args.ftps) {
    lines.push(
      "",
      "# FTPS (explicit TLS, AUTH TLS): required for the login and for every data connection,",
      "# the passive ones included. TLS 1.2 only (openssl.cnf beside this file): SSLv2, SSLv3",
      "# and TLS 1.0 are off here too, and every suite allowed is AEAD, which TLS 1.1 lacks.",
      "ssl_enable=YES",
      `rsa_cert_file=${absPath(args.ftps.certFile, "ftps.certFile")}`,
      `rsa_private_key_file=${absPath(args.ftps.keyFile, "ftps.keyFile")}`,
      "allow_anon_ssl=NO",
      "force_local_logins_ssl=YES",
      "force_local_data_ssl=YES",
      "ssl_sslv2=NO",
      "ssl_sslv3=NO",
      "ssl_tlsv1=NO",
      `ssl_ciphers=${FTPS_CIPHERS.join(":")}`,
      "# A data connection must resume the control connection's TLS session (proof it is the same client).",
      "require_ssl_reuse=YES",
      "# Clients authenticate with passwords, not certificates.",
      "ssl_request_cert=NO",
    );
  } else {
    lines.push("", "# services.ftp.tls is false: logins and data cross the network in plain text.", "ssl_enable=NO");
  }
  return lines.join("\n") + "\n";
}

/** The `-v` option of each user's site: the share's `www/<user>` at `/srv/ftp/<user>/www`. */
export function siteVolumes(users: string[], wwwDir: string = FTP_DEFAULTS.wwwDir): string[] {
  const www = absPath(wwwDir, "wwwDir");
  const names = [...users].sort();
  const seen = new Set<string>();
  for (const name of names) {
    if (!FTP_USER_RE.test(name)) throw new Error(`ftp user name ${JSON.stringify(name)} is invalid: use 1-32 characters, a lowercase letter then [a-z0-9_-]`);
    if (seen.has(name)) throw new Error(`ftp user "${name}" is listed twice; each user needs exactly one entry`);
    seen.add(name);
  }
  return names.map((name) => `${www}/${name}:${FTP_DEFAULTS.containerChrootDir}/${name}/${FTP_DEFAULTS.siteFolder}`);
}

/**
 * The unit's EnvironmentFile: `XC_FTP_SITES=-v <site>:<mount point> …`, one volume per user.
 * It is a file and not the unit's ExecStart line because that line would outgrow what fleet's
 * unit parser (go-systemd's `SYSTEMD_LINE_MAX`, 2048 bytes) and CoreOS's systemd read per line
 * after some thirty users; an EnvironmentFile has no such limit.
 */
export function renderSitesEnv(users: string[], wwwDir?: string): string {
  const words = siteVolumes(users, wwwDir).flatMap((v) => ["-v", v]);
  return [
    "# The FTP users' sites, one docker volume each (systemd splits $XC_FTP_SITES into words).",
    "# Rendered by xen-coreos; written to each node, do not edit there.",
    `${FTP_DEFAULTS.sitesVariable}=${words.join(" ")}`,
    "",
  ].join("\n");
}

export interface FtpUnitArgs {
  /** Image with vsftpd and libpam-pwdfile (no official image exists; build one). */
  image: string;
  /** FTPS: the container gets `OPENSSL_CONF` (the conf folder's openssl.cnf). Defaults to true. */
  tls?: boolean;
  /** The virtual users: the sites list's digest is in the unit, so a changed list restarts vsftpd with the new volumes. */
  users: string[];
  listenPort?: number;
  pasvMinPort?: number;
  pasvMaxPort?: number;
  /** When true, vsftpd.conf carries pasv_address and the unit does not override it. */
  fixedPasvAddress?: boolean;
  wwwDir?: string;
  /** Node-local conf folder. Defaults to `/etc/xen-coreos/ftp`. */
  confDir?: string;
  machineMetadata?: string[];
}

/**
 * `vsftpd.service`: publishes the control port and the passive range; mounts the node-local
 * conf folder read-only and each user's site from the share; no password anywhere.
 */
export function renderFtpUnit(args: FtpUnitArgs): RenderedUnit {
  const listen = port(args.listenPort ?? FTP_DEFAULTS.listenPort, "listenPort");
  const min = port(args.pasvMinPort ?? FTP_DEFAULTS.pasvMinPort, "pasvMinPort");
  const max = port(args.pasvMaxPort ?? FTP_DEFAULTS.pasvMaxPort, "pasvMaxPort");
  if (min > max) throw new Error(`pasvMinPort ${min} is above pasvMaxPort ${max}`);
  const www = absPath(args.wwwDir ?? FTP_DEFAULTS.wwwDir, "wwwDir");
  const conf = absPath(args.confDir ?? FTP_DEFAULTS.confDir, "confDir");
  const confInside = FTP_DEFAULTS.containerConfDir;
  const tls = args.tls ?? true;
  const sitesDigest = createHash("sha256").update(renderSitesEnv(args.users, www)).digest("hex");
  const xFleet: XFleet | undefined = args.machineMetadata?.length ? { machineMetadata: [...args.machineMetadata] } : undefined;
  const vsftpdArgs = ["vsftpd", `${confInside}/vsftpd.conf`];
  if (!args.fixedPasvAddress) vsftpdArgs.push("-opasv_address=${COREOS_PUBLIC_IPV4}");
  const text = renderUnitFile({
    unit: [
      ["Description", `vsftpd with virtual users (port ${listen}, passive ${min}-${max})`],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
      ["RequiresMountsFor", www],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      ["EnvironmentFile", `${conf}/${FTP_DEFAULTS.sitesEnvFile}`],
      // Changes with the users: the unit is replaced and vsftpd restarts with their volumes.
      ["Environment", `${FTP_DEFAULTS.sitesVariable}_SHA256=${sitesDigest}`],
      ...(tls ? [["Environment", `OPENSSL_CONF=${confInside}/${FTP_DEFAULTS.opensslConf}`] as Directive] : []),
      ["TimeoutStartSec", "300"],
      ...dockerServiceDirectives({
        container: FTP_DEFAULTS.container,
        image: imageRef(args.image),
        ports: [`${listen}:${listen}`, `${min}-${max}:${min}-${max}`],
        volumes: [
          `${conf}:${confInside}:ro`,
          `${conf}/${FTP_DEFAULTS.pamService}.pam:/etc/pam.d/${FTP_DEFAULTS.pamService}:ro`,
        ],
        env: tls ? ["OPENSSL_CONF"] : [],
        expand: [FTP_DEFAULTS.sitesVariable],
        args: vsftpdArgs,
        stopTimeout: 10,
      }),
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
    xFleet,
  });
  return { name: unitName(FTP_DEFAULTS.container), text, xFleet };
}

export interface FtpArgs {
  image: string;
  users: FtpUser[];
  saltKey?: string;
  listenPort?: number;
  pasvMinPort?: number;
  pasvMaxPort?: number;
  pasvAddress?: string;
  /** FTPS required (explicit TLS). Defaults to true. */
  tls?: boolean;
  /**
   * The FTPS certificate and key (PEM, from the deployment PKI). With `tls`, the bundle carries
   * them only when given: callers that render for placement or paths pass none.
   */
  certificate?: { certPem: string; keyPem: string };
  machineMetadata?: string[];
}

/** The node-local paths of the FTP files, for `tls` on or off (see `renderFtp`). */
export function ftpFilePaths(tls: boolean): string[] {
  const conf = FTP_DEFAULTS.confDir;
  return [
    `${conf}/vsftpd.conf`,
    `${conf}/${FTP_DEFAULTS.pamService}.pam`,
    `${conf}/${FTP_DEFAULTS.usersFile}`,
    `${conf}/${FTP_DEFAULTS.sitesEnvFile}`,
    ...(tls ? [`${conf}/${FTP_DEFAULTS.opensslConf}`, `${conf}/${FTP_DEFAULTS.certFile}`, `${conf}/${FTP_DEFAULTS.keyFile}`] : []),
  ];
}

/**
 * The ftp unit and its node-local files (conf, PAM, users 0600, sites list, and with TLS the
 * OpenSSL settings, the certificate and its key 0600). Each user needs a `www/<name>` folder on the share.
 */
export function renderFtp(args: FtpArgs): ServiceBundle {
  const listenPort = args.listenPort ?? FTP_DEFAULTS.listenPort;
  const pasvMinPort = args.pasvMinPort ?? FTP_DEFAULTS.pasvMinPort;
  const pasvMaxPort = args.pasvMaxPort ?? FTP_DEFAULTS.pasvMaxPort;
  const tls = args.tls ?? true;
  if (!tls && args.certificate) throw new Error("an FTPS certificate was given with tls off");
  const conf = FTP_DEFAULTS.confDir;
  const inside = FTP_DEFAULTS.containerConfDir;
  const names = args.users.map((u) => u.name);
  const [confPath, pamPath, usersPath, envPath, opensslPath, certPath, keyPath] = ftpFilePaths(true);
  const files: RenderedFile[] = [
    {
      path: confPath,
      content: renderVsftpdConf({
        listenPort,
        pasvMinPort,
        pasvMaxPort,
        pasvAddress: args.pasvAddress,
        ftps: tls ? { certFile: `${inside}/${FTP_DEFAULTS.certFile}`, keyFile: `${inside}/${FTP_DEFAULTS.keyFile}` } : undefined,
      }),
      mode: 0o644,
    },
    { path: pamPath, content: renderPamFile({ usersFile: `${inside}/${FTP_DEFAULTS.usersFile}` }), mode: 0o644 },
    // Hashes of secrets: readable by root only (vsftpd's PAM check runs as root in the container).
    { path: usersPath, content: renderUsersFile(args.users, { saltKey: args.saltKey }), mode: 0o600 },
    { path: envPath, content: renderSitesEnv(names), mode: 0o644 },
    ...(tls ? [{ path: opensslPath, content: renderOpensslConf(), mode: 0o644 }] : []),
  ];
  if (tls && args.certificate) {
    for (const [what, pem] of [["certificate", args.certificate.certPem], ["key", args.certificate.keyPem]] as const) {
      if (!/^-----BEGIN [A-Z ]+-----\r?\n[\s\S]+\r?\n-----END [A-Z ]+-----(\r?\n)?$/.test(pem)) throw new Error(`the FTPS ${what} is not one PEM block`);
    }
    files.push(
      { path: certPath, content: args.certificate.certPem, mode: 0o644 },
      { path: keyPath, content: args.certificate.keyPem, mode: 0o600 },
    );
  }
  const unit = renderFtpUnit({
    image: args.image,
    tls,
    users: names,
    listenPort,
    pasvMinPort,
    pasvMaxPort,
    fixedPasvAddress: args.pasvAddress !== undefined,
    confDir: conf,
    machineMetadata: args.machineMetadata,
  });
  return { units: [unit], files };
}
