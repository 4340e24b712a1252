/**
 * Reads the stack's config (`pulumi config`) into typed, validated settings. The only
 * place that touches `pulumi.Config`; everything below it takes plain values.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, RawSettings, SECRET_KEYS, StackSettings, parseSettings } from "./settings";

/** Secret settings, as Pulumi secrets (never plain strings in the program). */
export interface StackSecrets {
  /** Key for core@nodes and, unless xenserverPrivateKey is set, for the XenServer host. */
  sshPrivateKey: pulumi.Output<string>;
  /** Key for the XenServer host. */
  xenserverPrivateKey: pulumi.Output<string>;
  /** Key for a managed NAS. */
  nasPrivateKey: pulumi.Output<string>;
}

/** Raw config of this project's namespace: structured values parsed from their JSON form. */
export function readRawConfig(): { raw: RawSettings; secretsPresent: Set<string> } {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: RawSettings = {};
  const secretsPresent = new Set<string>();
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      if (value !== "") secretsPresent.add(key);
      continue; // never parsed, never put next to plain settings
    }
    raw[key] = parseValue(value);
  }
  return { raw, secretsPresent };
}

function parseValue(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

/** Loads and validates the settings; throws SettingsError before any resource is declared. */
export function loadStackSettings(): { settings: StackSettings; secrets: StackSecrets } {
  const { raw, secretsPresent } = readRawConfig();
  const settings = parseSettings(raw, secretsPresent);
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const sshPrivateKey = config.requireSecret("sshPrivateKey");
  const xenserverPrivateKey = config.getSecret("xenserverPrivateKey") ?? sshPrivateKey;
  const nasPrivateKey = config.getSecret("nasPrivateKey") ?? sshPrivateKey;
  return { settings, secrets: { sshPrivateKey, xenserverPrivateKey, nasPrivateKey } };
}
