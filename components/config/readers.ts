/**
 * The small readers the settings parsers share: each reads one raw value, adds a problem
 * (naming the setting and the fix) when it is wrong, and returns a usable fallback so every
 * problem is found in one pass. A leaf module: it imports nothing of the project, so both
 * settings.ts and services-settings.ts use it without importing each other at run time.
 */

/** The Pulumi config namespace of this project (the `name` in Pulumi.yaml). */
export const CONFIG_NAMESPACE = "xen-coreos";

// ---------------------------------------------------------------- errors

/** Every problem found in the stack settings, each naming the setting and the fix. */
export class SettingsError extends Error {
  constructor(public readonly problems: string[]) {
    super(
      `Invalid stack settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "SettingsError";
  }
}

/** Collects problems while walking the raw settings. */
export class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${CONFIG_NAMESPACE}:${path}: ${message}`);
  }
}

// ---------------------------------------------------------------- small readers

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Edit distance with transpositions (optimal string alignment), for "did you mean" hints on misspelt keys. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

function suggestion(key: string, known: readonly string[]): string {
  const best = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` Did you mean "${best.k}"?` : "";
}

export function checkKeys(p: Problems, path: string, obj: Obj, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      p.add(
        path ? `${path}.${key}` : key,
        `unknown setting.${suggestion(key, known)} Known keys here: ${known.join(", ")}.`,
      );
    }
  }
}

export function readObj(p: Problems, path: string, value: unknown, required: boolean): Obj {
  if (value === undefined) {
    if (required) p.add(path, `is required. Fix: set it in Pulumi.<stack>.yaml under config: ${CONFIG_NAMESPACE}:${path}.`);
    return {};
  }
  if (!isObj(value)) {
    p.add(path, `must be an object (YAML mapping), got ${JSON.stringify(value)}.`);
    return {};
  }
  return value;
}

export function readString(p: Problems, path: string, value: unknown, fallback?: string): string {
  if (value === undefined || value === null || value === "") {
    if (fallback !== undefined) return fallback;
    p.add(path, `is required. Fix: pulumi config set --path '${CONFIG_NAMESPACE}:${path}' <value>.`);
    return "";
  }
  if (typeof value !== "string") {
    p.add(path, `must be a string, got ${JSON.stringify(value)}.`);
    return "";
  }
  return value;
}

/**
 * A whole number. Past Number.MAX_SAFE_INTEGER (2^53 - 1) a number is no longer exact
 * (9007199254740993 reads as …992) and scripts would print it as 9.4e+21: refused here, so
 * every caller's own range check sees an exact value.
 */
export function readInt(p: Problems, path: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    p.add(path, `must be a whole number, got ${JSON.stringify(value)}.`);
    return fallback;
  }
  if (!Number.isSafeInteger(n)) {
    p.add(path, `is too large: whole numbers past ${Number.MAX_SAFE_INTEGER} (2^53 - 1) cannot be read exactly. Fix: set a value within the setting's range (README, Settings).`);
    return fallback;
  }
  return n;
}

export function readBool(p: Problems, path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  p.add(path, `must be true or false, got ${JSON.stringify(value)}.`);
  return fallback;
}

export function readStringList(p: Problems, path: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    p.add(path, `must be a list of strings, got ${JSON.stringify(value)}.`);
    return fallback;
  }
  return value as string[];
}

export function readEnum<T extends string>(p: Problems, path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    p.add(path, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}.`);
    return fallback;
  }
  return value as T;
}

export function readStringMap(p: Problems, path: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObj(value)) {
    p.add(path, `must be a mapping of key: value strings, got ${JSON.stringify(value)}.`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(k)) {
      p.add(`${path}.${k}`, "metadata keys may use only letters, digits, '.', '_' and '-' (fleet metadata).");
      continue;
    }
    if (typeof v !== "string" && typeof v !== "number") {
      p.add(`${path}.${k}`, `must be a string, got ${JSON.stringify(v)}.`);
      continue;
    }
    const text = String(v);
    if (!/^[A-Za-z0-9_.-]+$/.test(text)) {
      p.add(`${path}.${k}`, `value ${JSON.stringify(text)} may use only letters, digits, '.', '_' and '-' (fleet metadata is comma-separated key=value).`);
      continue;
    }
    out[k] = text;
  }
  return out;
}
