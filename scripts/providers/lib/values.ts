/**
 * Property values as the Node SDK's provider framework hands them over: plain JSON from
 * a protobuf Struct, in which the engine encodes secrets and unknowns as special objects
 * and strings (see @pulumi/pulumi runtime/rpc: specialSigKey, specialSecretSig,
 * specialOutputValueSig, unknownValue). The framework passes them through untouched in
 * both directions, so a provider that wants a value must reveal it, and a provider that
 * wants a secret output must wrap it.
 */

/** Key of the signature property of a special object. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** Signature of a secret: `{ [SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** Signature of an output value: `{ [SIG_KEY]: OUTPUT_SIG, value?, secret?, dependencies? }`. */
export const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/** An unknown value (only during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type PlainObject = Record<string, unknown>;

function isObject(v: unknown): v is PlainObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Wraps `v` as a secret (idempotent). */
export function secret(v: unknown): unknown {
  if (isSecret(v)) return v;
  return { [SIG_KEY]: SECRET_SIG, value: reveal(v) };
}

/** True for a secret at the top level of `v`. */
export function isSecret(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (v[SIG_KEY] === SECRET_SIG) return true;
  return v[SIG_KEY] === OUTPUT_SIG && v.secret === true;
}

/** True if `v` or anything inside it is a secret. */
export function containsSecret(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isObject(v)) return Object.values(v).some(containsSecret);
  return false;
}

/** True if `v` or anything inside it is unknown (preview only). */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (isObject(v) && v[SIG_KEY] === OUTPUT_SIG && !("value" in v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isObject(v)) return Object.values(v).some(containsUnknown);
  return false;
}

/** `v` with every secret and output wrapper removed (an unknown output becomes UNKNOWN). */
export function reveal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reveal);
  if (!isObject(v)) return v;
  if (v[SIG_KEY] === SECRET_SIG) return reveal(v.value);
  if (v[SIG_KEY] === OUTPUT_SIG) return "value" in v ? reveal(v.value) : UNKNOWN;
  const out: PlainObject = {};
  for (const [k, e] of Object.entries(v)) out[k] = reveal(e);
  return out;
}

/** Deep equality of two revealed values; a missing object key equals null. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((e, i) => deepEqual(e, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/**
 * The input keys whose values differ between the old state and the new inputs (secrets
 * compared by value; an unknown new value counts as a change).
 */
export function changedKeys(olds: PlainObject, news: PlainObject, inputKeys: readonly string[]): string[] {
  return inputKeys.filter((k) => containsUnknown(news[k]) || !deepEqual(reveal(olds[k]), reveal(news[k])));
}

/** A copy of `o` without undefined values (a protobuf Struct cannot hold them). */
export function withoutUndefined(o: PlainObject): PlainObject {
  const out: PlainObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && !(SIG_KEY in v) ? withoutUndefined(v) : v;
  }
  return out;
}

/** Only the listed keys of `o` (the inputs part of a state). */
export function pick(o: PlainObject, keys: readonly string[]): PlainObject {
  const out: PlainObject = {};
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) out[k] = o[k];
  return out;
}

/** Go's %q for a string: a double-quoted literal with Go escapes (as the real provider's errors show commands). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"': out += '\\"'; break;
      case "\\": out += "\\\\"; break;
      case "\n": out += "\\n"; break;
      case "\r": out += "\\r"; break;
      case "\t": out += "\\t"; break;
      case "\x07": out += "\\a"; break;
      case "\b": out += "\\b"; break;
      case "\f": out += "\\f"; break;
      case "\v": out += "\\v"; break;
      default:
        if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
        else out += ch;
    }
  }
  return out + '"';
}

/** The resource type of a URN (`urn:pulumi:stack::project::[parent$]type::name`). */
export function urnType(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? "";
}

/** The resource name of a URN. */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}
