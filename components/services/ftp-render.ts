/**
 * FTP with virtual users (thesis §10.5.3, Annex 5), fixed:
 * - the users file is rendered whole from the desired user list (the thesis's
 *   `htpasswd -c` recreated it on every new user, wiping the others) and no password is
 *   ever printed;
 * - hashes are sha512-crypt (`$6$`, which pam_pwdfile checks through crypt(3)) with a salt
 *   derived from (name, password): re-rendering gives identical bytes, so a preview shows
 *   no change, and adding a user never changes another user's line;
 * - the passive port range is published explicitly and `pasv_address` is the node's
 *   address (or a fixed one), so passive mode works from outside the container.
 *
 * sha512-crypt is implemented here from the published algorithm (Drepper, "Unix crypt
 * using SHA-256 and SHA-512") on node:crypto: the `unixcrypt` package is ESM-only and
 * cannot be loaded by this CommonJS program or by jest. Tests check it against
 * `openssl passwd -6`.
 *
 * Pure: plain values in, strings out.
 */
import { createHash, createHmac, pbkdf2Sync } from "crypto";
import { RenderedFile, RenderedUnit, ServiceBundle, XFleet, renderUnitFile, unitName } from "../fleet/unit-file";
import { absPath, dockerServiceDirectives, imageRef, port } from "./scripts/common";
import { FTP_USER_RE } from "../config/limits";

export const FTP_DEFAULTS = {
  container: "vsftpd",
  wwwDir: "/mnt/nfs/www",
  /** Share directory holding vsftpd.conf, the PAM file and the users file. */
  confDir: "/mnt/nfs/services/ftp/conf",
  /** Where the container sees the customers' sites (users' homes are below it). */
  containerWwwDir: "/srv/www",
  containerConfDir: "/etc/vsftpd",
  pamService: "vsftpd-virtual",
  usersFile: "users.passwd",
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
    "# PAM service of vsftpd's virtual users. Rendered by xen-coreos; do not edit on the share.",
    `auth required pam_pwdfile.so pwdfile=${file}`,
    "account required pam_permit.so",
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
  /** FTPS: certificate and key paths inside the container. */
  ftps?: { certFile: string; keyFile: string };
  /** Per-user config directory inside the container (`user_config_dir`). */
  userConfigDir?: string;
  /** Home of each virtual user; `$USER` is the user name. Defaults to `/srv/www/$USER`. */
  localRoot?: string;
  /** Local account that owns the files written by virtual users. Defaults to `ftp`. */
  guestUsername?: string;
  /** PAM service. Defaults to `vsftpd-virtual`. */
  pamService?: string;
  /** Maximum simultaneous clients. Defaults to 50. */
  maxClients?: number;
}

/** `vsftpd.conf` for virtual users chrooted into their site directory. */
export function renderVsftpdConf(args: VsftpdConfArgs): string {
  const listen = port(args.listenPort ?? FTP_DEFAULTS.listenPort, "listenPort");
  const min = port(args.pasvMinPort, "pasvMinPort");
  const max = port(args.pasvMaxPort, "pasvMaxPort");
  if (min > max) throw new Error(`pasvMinPort ${min} is above pasvMaxPort ${max}`);
  if (max - min > 999) throw new Error(`passive range ${min}-${max} is wider than 1000 ports; every port is published by docker`);
  if (listen >= min && listen <= max) throw new Error(`listenPort ${listen} is inside the passive range ${min}-${max}`);
  const localRoot = args.localRoot ?? `${FTP_DEFAULTS.containerWwwDir}/$USER`;
  if (!/^\/[A-Za-z0-9_./-]*\$USER[A-Za-z0-9_./-]*$/.test(localRoot)) {
    throw new Error(`localRoot ${JSON.stringify(localRoot)} must be an absolute path containing $USER (e.g. /srv/www/$USER)`);
  }
  const guest = args.guestUsername ?? FTP_DEFAULTS.guestUsername;
  if (!/^[a-z_][a-z0-9_-]*$/.test(guest)) throw new Error(`guestUsername ${JSON.stringify(guest)} is not a user name`);
  const pam = args.pamService ?? FTP_DEFAULTS.pamService;
  if (!/^[a-z0-9_-]+$/.test(pam)) throw new Error(`pamService ${JSON.stringify(pam)} must be [a-z0-9_-]`);
  const maxClients = args.maxClients ?? 50;
  if (!Number.isInteger(maxClients) || maxClients < 1 || maxClients > 10000) throw new Error(`maxClients ${maxClients} must be 1..10000`);
  const lines = [
    "# vsftpd with virtual users (pam_pwdfile). Rendered by xen-coreos; do not edit on the share.",
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
    "# Each user is locked into its own site directory.",
    "user_sub_token=$USER",
    `local_root=${localRoot}`,
    "chroot_local_user=YES",
    "allow_writeable_chroot=YES",
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
      "# FTPS: TLS required for logins and data.",
      "ssl_enable=YES",
      `rsa_cert_file=${absPath(args.ftps.certFile, "ftps.certFile")}`,
      `rsa_private_key_file=${absPath(args.ftps.keyFile, "ftps.keyFile")}`,
      "allow_anon_ssl=NO",
      "force_local_logins_ssl=YES",
      "force_local_data_ssl=YES",
      "ssl_sslv2=NO",
      "ssl_sslv3=NO",
      "ssl_tlsv1=YES",
    );
  } else {
    lines.push("ssl_enable=NO");
  }
  return lines.join("\n") + "\n";
}

export interface FtpUnitArgs {
  /** Image with vsftpd and libpam-pwdfile (no official image exists; build one). */
  image: string;
  listenPort?: number;
  pasvMinPort?: number;
  pasvMaxPort?: number;
  /** When true, vsftpd.conf carries pasv_address and the unit does not override it. */
  fixedPasvAddress?: boolean;
  wwwDir?: string;
  confDir?: string;
  machineMetadata?: string[];
}

/** `vsftpd.service`: publishes the control port and the passive range, no password anywhere. */
export function renderFtpUnit(args: FtpUnitArgs): RenderedUnit {
  const listen = port(args.listenPort ?? FTP_DEFAULTS.listenPort, "listenPort");
  const min = port(args.pasvMinPort ?? FTP_DEFAULTS.pasvMinPort, "pasvMinPort");
  const max = port(args.pasvMaxPort ?? FTP_DEFAULTS.pasvMaxPort, "pasvMaxPort");
  if (min > max) throw new Error(`pasvMinPort ${min} is above pasvMaxPort ${max}`);
  const www = absPath(args.wwwDir ?? FTP_DEFAULTS.wwwDir, "wwwDir");
  const conf = absPath(args.confDir ?? FTP_DEFAULTS.confDir, "confDir");
  const confInside = FTP_DEFAULTS.containerConfDir;
  const xFleet: XFleet | undefined = args.machineMetadata?.length ? { machineMetadata: [...args.machineMetadata] } : undefined;
  const vsftpdArgs = ["vsftpd", `${confInside}/vsftpd.conf`];
  if (!args.fixedPasvAddress) vsftpdArgs.push("-opasv_address=${COREOS_PUBLIC_IPV4}");
  const text = renderUnitFile({
    unit: [
      ["Description", `vsftpd with virtual users (port ${listen}, passive ${min}-${max})`],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
      ["RequiresMountsFor", `${www} ${conf}`],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      ["TimeoutStartSec", "300"],
      ...dockerServiceDirectives({
        container: FTP_DEFAULTS.container,
        image: imageRef(args.image),
        ports: [`${listen}:${listen}`, `${min}-${max}:${min}-${max}`],
        volumes: [
          `${www}:${FTP_DEFAULTS.containerWwwDir}`,
          `${conf}:${confInside}:ro`,
          `${conf}/${FTP_DEFAULTS.pamService}.pam:/etc/pam.d/${FTP_DEFAULTS.pamService}:ro`,
        ],
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
  ftps?: { certFile: string; keyFile: string };
  machineMetadata?: string[];
}

/** The ftp unit and its share files (conf, PAM, users). Each user needs a `www/<name>` directory. */
export function renderFtp(args: FtpArgs): ServiceBundle {
  const listenPort = args.listenPort ?? FTP_DEFAULTS.listenPort;
  const pasvMinPort = args.pasvMinPort ?? FTP_DEFAULTS.pasvMinPort;
  const pasvMaxPort = args.pasvMaxPort ?? FTP_DEFAULTS.pasvMaxPort;
  const conf = FTP_DEFAULTS.confDir;
  const files: RenderedFile[] = [
    {
      path: `${conf}/vsftpd.conf`,
      content: renderVsftpdConf({ listenPort, pasvMinPort, pasvMaxPort, pasvAddress: args.pasvAddress, ftps: args.ftps }),
      mode: 0o644,
    },
    { path: `${conf}/${FTP_DEFAULTS.pamService}.pam`, content: renderPamFile({ usersFile: `${FTP_DEFAULTS.containerConfDir}/${FTP_DEFAULTS.usersFile}` }), mode: 0o644 },
    // Readable by the container's PAM through NFS (root is usually squashed there); holds hashes only.
    { path: `${conf}/${FTP_DEFAULTS.usersFile}`, content: renderUsersFile(args.users, { saltKey: args.saltKey }), mode: 0o644 },
  ];
  const unit = renderFtpUnit({
    image: args.image,
    listenPort,
    pasvMinPort,
    pasvMaxPort,
    fixedPasvAddress: args.pasvAddress !== undefined,
    machineMetadata: args.machineMetadata,
  });
  return { units: [unit], files };
}
