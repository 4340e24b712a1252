/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys without a word
 * (ECMA-262 JSON.parse, InternalizeJSONProperty over the parsed object), so a structured
 * setting written as JSON text (`pulumi config set xen-coreos:network '{"cidr": …, "cidr": …}'`)
 * would lose a value silently. Pure: text in, the duplicates with their paths out.
 */

/** One key that appears twice in the same JSON object. */
export interface DuplicateKey {
  /** Path of the repeated member, in the settings' notation: `nodes[1].ip`. */
  path: string;
  key: string;
}

/** An open object (its keys so far, the path of its current member) or array (its current index). */
type Frame =
  | { kind: "object"; path: string; keys: Set<string>; expectKey: boolean; memberPath: string }
  | { kind: "array"; path: string; index: number };

function memberPath(base: string, key: string): string {
  const plain = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key);
  return plain ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(key)}]`;
}

/**
 * Every repeated key of `text`, in order, which must already be valid JSON (call it after
 * `JSON.parse` succeeded). Paths are relative to the top value.
 */
export function duplicateJsonKeys(text: string): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: Frame[] = [];
  // Path of the value that starts next (a member's value or an array element).
  const nextValuePath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return "";
    return top.kind === "array" ? `${top.path}[${top.index}]` : top.memberPath;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && top.kind === "object" && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const path = memberPath(top.path, key);
        if (top.keys.has(key)) found.push({ path, key });
        top.keys.add(key);
        top.expectKey = false;
        top.memberPath = path;
      }
      i = j;
    } else if (c === "{") {
      stack.push({ kind: "object", path: nextValuePath(), keys: new Set(), expectKey: true, memberPath: "" });
    } else if (c === "[") {
      stack.push({ kind: "array", path: nextValuePath(), index: 0 });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") top.expectKey = true;
      else if (top?.kind === "array") top.index++;
    }
  }
  return found;
}
