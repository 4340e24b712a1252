/**
 * Which inputs of a resource are Pulumi secrets, as the policy engine received them.
 *
 * The engine sends a secret input to an analyzer as a secret-signed object (the value and
 * the secret signature); `@pulumi/policy` 1.21.0 unwraps it before a `validateResource` or
 * `validateStack` function sees it (`server.js` calls `deserializeProperties(…, false)`),
 * so `args.props.stdin` of a secret is a plain string, indistinguishable from a plain one.
 * The public API has no way to ask; the policies here need to (a password in a secret
 * file is fine, the same text in a plain unit is not).
 *
 * So this module wraps the SDK's `deserializeProperties` once, at load: it records the
 * top-level keys that arrived secret-signed for each deserialized object, and
 * `secretKeysOf(props)` looks them up through the SDK's proxy (`__getSpecialProxyTarget`).
 * The wrapper only observes: what it returns is what the SDK returned. If a future
 * `@pulumi/policy` moves these internals, `installSecretTracking` throws at the pack's
 * start (and the tests fail), rather than silently treating every secret as plain text.
 */
import * as path from "path";

/** `@pulumi/pulumi`'s signature key and the value that marks a secret (runtime/rpc). */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };

/** The SDK's proxy key that returns the object behind an unknown-checking proxy (proxy.js). */
const PROXY_TARGET = "__getSpecialProxyTarget";

const secretKeys = new WeakMap<object, ReadonlySet<string>>();
let installed = false;

interface DeserializeModule {
  deserializeProperties: (struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean) => object;
}

/** True for a raw (wire) value that is secret-signed. */
export function isSecretWireValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

/** The SDK's deserialize module: the very instance its analyzer server calls. */
function deserializeModule(): DeserializeModule {
  const policyDir = path.dirname(require.resolve("@pulumi/policy/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(path.join(policyDir, "deserialize.js")) as DeserializeModule;
}

/** Wraps the SDK's `deserializeProperties` (idempotent). Throws if the SDK has changed shape. */
export function installSecretTracking(): void {
  if (installed) return;
  const mod = deserializeModule();
  const original = mod.deserializeProperties;
  if (typeof original !== "function" || typeof rpc.specialSigKey !== "string" || typeof rpc.specialSecretSig !== "string") {
    throw new Error(
      "xen-coreos policy pack: @pulumi/policy no longer exposes deserialize.deserializeProperties; " +
        "the secret check cannot tell secret inputs from plain ones. Update policy/secrets.ts for this @pulumi/policy version.",
    );
  }
  mod.deserializeProperties = function trackedDeserializeProperties(struct, proxySecrets) {
    const result = original(struct, proxySecrets);
    try {
      const raw = struct.toJavaScript();
      const keys = new Set(Object.keys(raw).filter((k) => isSecretWireValue(raw[k])));
      if (result && typeof result === "object") secretKeys.set(result, keys);
    } catch {
      // Observing only: a struct we cannot read leaves the result unmarked (treated as plain).
    }
    return result;
  };
  installed = true;
}

/** The top-level input keys of `props` that the engine sent as secrets (empty when none or unknown). */
export function secretKeysOf(props: object): ReadonlySet<string> {
  let target: unknown = props;
  try {
    const behind = (props as Record<string, unknown>)[PROXY_TARGET];
    if (behind && typeof behind === "object") target = behind;
  } catch {
    target = props;
  }
  const keys = target && typeof target === "object" ? secretKeys.get(target as object) : undefined;
  return keys ?? new Set<string>();
}

/** True when the engine sent input `key` of `props` as a Pulumi secret. */
export function isSecretInput(props: object, key: string): boolean {
  return secretKeysOf(props).has(key);
}
