/**
 * Key material in settings: public keys are checked as OpenSSH reads them, private keys
 * must never sit in a plain setting. Pure: text in, a reason (or nothing) out.
 */

/** Key types OpenSSH writes in authorized_keys / known_hosts lines (sshkey.c keytypes). */
export const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ssh-dss",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/** The armour line of a private key in any of the formats ssh and openssl write (OpenSSH, PEM, PKCS#8, PuTTY). */
export const PRIVATE_KEY_MARK = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----|PuTTY-User-Key-File-\d+:/;

/**
 * Why `line` is not one public key as "type base64 [comment]", or undefined when it is.
 * The base64 blob is the SSH wire encoding: a length-prefixed key type, which must equal
 * the line's type (RFC 4253 §6.6), followed by the key data.
 */
export function publicKeyProblem(line: string): string | undefined {
  if (PRIVATE_KEY_MARK.test(line)) return "it is a private key";
  const fields = line.trim().split(/[ \t]+/);
  if (line.includes("\n") || fields.length < 2) return 'it is not one line of the form "ssh-ed25519 AAAA… [comment]"';
  const [type, b64] = fields;
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) return `${JSON.stringify(type)} is not an SSH key type (${SSH_KEY_TYPES.join(", ")})`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return "the key field is not base64";
  const blob = Buffer.from(b64, "base64");
  if (blob.toString("base64") !== b64) return "the key field is not base64";
  const n = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  if (n === 0 || 4 + n >= blob.length) return "the key field holds no key";
  const embedded = blob.subarray(4, 4 + n).toString("latin1");
  if (embedded !== type) return `the key field is a ${JSON.stringify(embedded)} key, not ${type}`;
  return undefined;
}

/** Paths (settings notation) of every string under `value` that holds a private key. */
export function privateKeyPaths(value: unknown, path: string): string[] {
  if (typeof value === "string") return PRIVATE_KEY_MARK.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => privateKeyPaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => privateKeyPaths(v, path ? `${path}.${k}` : k));
  return [];
}
