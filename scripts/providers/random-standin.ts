/**
 * STAND-IN for the `random` resource provider plugin (pulumi-resource-random 4.21.2), for
 * this project's tests and local previews only: the real plugin cannot be built here (the
 * Go module proxy refuses github.com/pulumi/pulumi-random/provider/v4). See
 * scripts/providers/README.md. Launched by scripts/providers/bin/pulumi-resource-random.
 *
 * Two resource types, with the properties of @pulumi/random 4.21.2 and the behaviour of
 * the Terraform provider it bridges (hashicorp/terraform-provider-random,
 * internal/provider/resource_id.go, resource_password.go, internal/random/string.go):
 *
 *   random:index/randomId:RandomId
 *     inputs byteLength (required), keepers, prefix; every change replaces.
 *     outputs hex, b64Std, b64Url, dec: the random bytes (crypto.randomBytes) as lowercase
 *     hex, padded base64, unpadded URL-safe base64, and decimal, each after `prefix`;
 *     the resource id is the unprefixed unpadded URL-safe base64.
 *
 *   random:index/randomPassword:RandomPassword
 *     inputs length (required, ≥ 1), special/upper/lower/numeric (default true; `number`
 *     is numeric's deprecated alias), minUpper/minLower/minNumeric/minSpecial (default 0,
 *     their sum ≤ length), overrideSpecial (replaces the special set
 *     !@#$%&*()-_=+[]{}<>:? when not empty), keepers; every change replaces.
 *     outputs result: the minimums drawn from their classes, the rest from the enabled
 *     classes, shuffled (crypto.randomInt); bcryptHash: bcrypt $2a$, cost 10, of the
 *     result's first 72 bytes. Both are secrets. The resource id is "none".
 *
 * Preview: this provider does not declare preview support, so the engine never calls
 * Create during a preview; the generated values read as unknown there, as with the real one.
 */
import * as crypto from "crypto";
import * as provider from "@pulumi/pulumi/provider";
import { bcryptHash } from "./lib/bcrypt";
import { PlainObject, UNKNOWN, changedKeys, pick, reveal, secret, urnType, withoutUndefined } from "./lib/values";

export const VERSION = "4.21.2";
export const RANDOM_ID = "random:index/randomId:RandomId";
export const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

export const ID_INPUTS = ["byteLength", "keepers", "prefix"];
export const PASSWORD_INPUTS = [
  "length", "special", "upper", "lower", "numeric", "number",
  "minUpper", "minLower", "minNumeric", "minSpecial", "overrideSpecial", "keepers",
];

export const NUM_CHARS = "0123456789";
export const LOWER_CHARS = "abcdefghijklmnopqrstuvwxyz";
export const UPPER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const SPECIAL_CHARS = "!@#$%&*()-_=+[]{}<>:?";

function inputKeys(urn: string): string[] {
  const t = urnType(urn);
  if (t === RANDOM_ID) return ID_INPUTS;
  if (t === RANDOM_PASSWORD) return PASSWORD_INPUTS;
  throw new Error(`the random stand-in has no resource type ${t} (only ${RANDOM_ID} and ${RANDOM_PASSWORD})`);
}

const known = (v: unknown) => v !== undefined && v !== null && reveal(v) !== UNKNOWN;

function wholeNumber(inputs: PlainObject, key: string, min: number, failures: provider.CheckFailure[], required = false): number | undefined {
  const v = inputs[key];
  if (v === undefined || v === null) {
    if (required) failures.push({ property: key, reason: `Missing required argument: ${key}` });
    return undefined;
  }
  const r = reveal(v);
  if (r === UNKNOWN) return undefined;
  if (typeof r !== "number" || !Number.isInteger(r) || r < min) {
    failures.push({ property: key, reason: `${key} must be a whole number of at least ${min}, got ${JSON.stringify(r)}` });
    return undefined;
  }
  return r;
}

export async function check(urn: string, _olds: PlainObject, news: PlainObject): Promise<provider.CheckResult> {
  const type = urnType(urn);
  inputKeys(urn);
  const failures: provider.CheckFailure[] = [];
  const inputs: PlainObject = { ...news };
  if (type === RANDOM_ID) {
    wholeNumber(inputs, "byteLength", 1, failures, true);
    return { inputs: withoutUndefined(inputs), failures };
  }
  const length = wholeNumber(inputs, "length", 1, failures, true);
  for (const k of ["special", "upper", "lower"]) inputs[k] ??= true;
  if (known(inputs.number) && known(inputs.numeric) && reveal(inputs.number) !== reveal(inputs.numeric)) {
    failures.push({ property: "numeric", reason: '"numeric": conflicts with number' });
  }
  inputs.numeric ??= inputs.number ?? true;
  inputs.number ??= inputs.numeric;
  let sum = 0;
  let allKnown = length !== undefined;
  for (const k of ["minUpper", "minLower", "minNumeric", "minSpecial"]) {
    inputs[k] ??= 0;
    const n = wholeNumber(inputs, k, 0, failures);
    if (n === undefined) allKnown = false;
    else sum += n;
  }
  if (allKnown && length !== undefined && length < sum) {
    failures.push({ property: "length", reason: `length (${length}) must be >= min_upper + min_lower + min_numeric + min_special (${sum})` });
  }
  return { inputs: withoutUndefined(inputs), failures };
}

/** Every input change replaces (ForceNew/RequiresReplace on all of them); see command-standin.ts diff. */
export async function diff(_id: string, urn: string, olds: PlainObject, news: PlainObject): Promise<provider.DiffResult> {
  const changed = changedKeys(olds, news, inputKeys(urn));
  if (changed.length === 0) return { changes: false };
  return { replaces: changed, deleteBeforeReplace: false };
}

export function randomIdValues(bytes: Buffer, prefix: string): { id: string; hex: string; b64Std: string; b64Url: string; dec: string } {
  const id = bytes.toString("base64url");
  return {
    id,
    hex: prefix + bytes.toString("hex"),
    b64Std: prefix + bytes.toString("base64"),
    b64Url: prefix + id,
    dec: prefix + (bytes.length === 0 ? "0" : BigInt("0x" + bytes.toString("hex")).toString()),
  };
}

export interface PasswordParams {
  length: number;
  upper: boolean;
  lower: boolean;
  numeric: boolean;
  special: boolean;
  minUpper: number;
  minLower: number;
  minNumeric: number;
  minSpecial: number;
  overrideSpecial?: string;
}

function draw(chars: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(chars[crypto.randomInt(chars.length)]);
  return out;
}

/** The password of random_password's CreateString, with a uniform shuffle. */
export function generatePassword(p: PasswordParams): string {
  const specials = p.overrideSpecial ? p.overrideSpecial : SPECIAL_CHARS;
  let chars = "";
  if (p.upper) chars += UPPER_CHARS;
  if (p.lower) chars += LOWER_CHARS;
  if (p.numeric) chars += NUM_CHARS;
  if (p.special) chars += specials;
  const result = [
    ...draw(NUM_CHARS, p.minNumeric),
    ...draw(LOWER_CHARS, p.minLower),
    ...draw(UPPER_CHARS, p.minUpper),
    ...draw(specials, p.minSpecial),
  ];
  const rest = p.length - result.length;
  if (rest > 0) {
    if (chars.length === 0) throw new Error("no characters to draw from: enable at least one of upper, lower, numeric, special");
    result.push(...draw(chars, rest));
  }
  for (let i = result.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result.join("");
}

export async function create(urn: string, inputs: PlainObject): Promise<provider.CreateResult> {
  const type = urnType(urn);
  inputKeys(urn);
  if (type === RANDOM_ID) {
    const n = Number(reveal(inputs.byteLength));
    const prefix = known(inputs.prefix) ? String(reveal(inputs.prefix)) : "";
    const { id, ...values } = randomIdValues(crypto.randomBytes(n), prefix);
    return { id, outs: withoutUndefined({ ...inputs, ...values }) };
  }
  const r = (k: string) => reveal(inputs[k]);
  const result = generatePassword({
    length: Number(r("length")),
    upper: r("upper") !== false,
    lower: r("lower") !== false,
    numeric: r("numeric") !== false,
    special: r("special") !== false,
    minUpper: Number(r("minUpper") ?? 0),
    minLower: Number(r("minLower") ?? 0),
    minNumeric: Number(r("minNumeric") ?? 0),
    minSpecial: Number(r("minSpecial") ?? 0),
    overrideSpecial: typeof r("overrideSpecial") === "string" ? (r("overrideSpecial") as string) : undefined,
  });
  const hash = bcryptHash(Buffer.from(result, "utf8").subarray(0, 72), 10);
  return { id: "none", outs: withoutUndefined({ ...inputs, result: secret(result), bcryptHash: secret(hash) }) };
}

/** Nothing to do: every change replaces, and the values live only in the state. */
export async function update(_id: string, _urn: string, olds: PlainObject, news: PlainObject): Promise<provider.UpdateResult> {
  return { outs: withoutUndefined({ ...olds, ...news }) };
}

export async function del(): Promise<void> {
  // Nothing outside the state to remove.
}

export async function read(id: string, urn: string, props: PlainObject): Promise<provider.ReadResult> {
  return { id, props, inputs: pick(props, inputKeys(urn)) };
}

export const randomProvider: provider.Provider = {
  version: VERSION,
  check,
  diff,
  create,
  update,
  delete: del,
  read,
};

if (require.main === module) {
  void provider.main(randomProvider, process.argv.slice(2));
}
