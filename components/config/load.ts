/**
 * Reads the stack's config (`pulumi config`) into typed, validated settings. The only
 * place that touches `pulumi.Config`; everything below it takes plain values.
 */
import * as pulumi from "@pulumi/pulumi";
import { duplicateJsonKeys } from "./json-strict";
import { CONFIG_NAMESPACE, ParseOptions, RawSettings, SECRET_KEYS, StackSettings, parseSettings } from "./settings";

/** Secret settings, as Pulumi secrets (never plain strings in the program). */
export interface StackSecrets {
  /** Key for core@nodes and, unless xenserverPrivateKey is set, for the XenServer host. */
  sshPrivateKey: pulumi.Output<string>;
  /** Key for the XenServer host. */
  xenserverPrivateKey: pulumi.Output<string>;
  /** Key for a managed NAS. */
  nasPrivateKey: pulumi.Output<string>;
}

/**
 * Whether the Pulumi runtime holds config key `fullKey` as a secret (set with `--secret`).
 * The language host passes the secret keys' names to the program in PULUMI_CONFIG_SECRET_KEYS
 * (a JSON list); @pulumi/pulumi keeps them in its store (runtime/config.js `isConfigSecret`,
 * exported from `pulumi.runtime` but left out of its typings), and `setAllConfig(config,
 * secretKeys)` sets the same store under mocks and the Automation API. Reading
 * process.env directly would miss those two.
 */
export function isSecretConfigKey(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function")
    throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret: components/config/load.ts cannot tell secret config from plain; update isSecretConfigKey.");
  return runtime.isConfigSecret(fullKey);
}

/** A config value: JSON text (how `pulumi config` hands over structured values) parsed, anything else as is. */
function parseValue(key: string, value: string, problems: Array<{ path: string; message: string }>): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return value;
    }
    for (const dup of duplicateJsonKeys(trimmed)) {
      const path = dup.path.startsWith("[") ? `${key}${dup.path}` : `${key}.${dup.path}`;
      problems.push({
        path,
        message: `the key ${JSON.stringify(dup.key)} is written twice in the JSON value of ${CONFIG_NAMESPACE}:${key}; only the last one would count. Fix: keep one ${JSON.stringify(dup.key)} (set structured values in Pulumi.<stack>.yaml or with pulumi config set --path).`,
      });
    }
    return parsed;
  }
  return value;
}

/** Raw config of this project's namespace: structured values parsed from their JSON form. */
export function readRawConfig(): { raw: RawSettings; secretsPresent: Set<string>; options: Required<Pick<ParseOptions, "plainSecretKeys" | "readProblems">> } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: RawSettings = {};
  const secretsPresent = new Set<string>();
  const plainSecretKeys = new Set<string>();
  const readProblems: Array<{ path: string; message: string }> = [];
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      if (value !== "") secretsPresent.add(key);
      if (value !== "" && !isSecretConfigKey(fullKey)) plainSecretKeys.add(key);
      continue; // never parsed, never put next to plain settings
    }
    raw[key] = parseValue(key, value, readProblems);
  }
  return { raw, secretsPresent, options: { plainSecretKeys, readProblems } };
}

/**
 * Loads and validates the settings; throws SettingsError before any resource is declared.
 * `crossChecks` are a higher layer's checks over the parsed settings (the program passes the
 * services' fleet placement check), reported together with the settings' own problems.
 */
export function loadStackSettings(crossChecks: ParseOptions["crossChecks"] = []): { settings: StackSettings; secrets: StackSecrets } {
  const { raw, secretsPresent, options } = readRawConfig();
  const settings = parseSettings(raw, secretsPresent, { ...options, crossChecks });
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const sshPrivateKey = config.requireSecret("sshPrivateKey");
  const xenserverPrivateKey = config.getSecret("xenserverPrivateKey") ?? sshPrivateKey;
  const nasPrivateKey = config.getSecret("nasPrivateKey") ?? sshPrivateKey;
  return { settings, secrets: { sshPrivateKey, xenserverPrivateKey, nasPrivateKey } };
}
