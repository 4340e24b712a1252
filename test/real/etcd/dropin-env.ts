/**
 * Reads a systemd drop-in back into the environment its `[Service]` section gives the
 * service, the way systemd does (systemd.exec(5), "Environment="):
 * - each `Environment=` line holds a space-separated list of `VAR=value` assignments; a word
 *   may be enclosed in double or single quotes, which are removed ("quotes may be used to
 *   include spaces in a value");
 * - an empty `Environment=` resets the list built so far; a later assignment of the same
 *   variable wins;
 * - lines starting with `#` or `;` are comments; directives of other sections are ignored.
 * It refuses what systemd refuses with "Invalid environment assignment, ignoring" (a word
 * without `=`, or a name that is not a valid variable name) instead of ignoring it: a test
 * must see such a line. Backslash escapes inside quotes (`\"`, `\\`) are unescaped; other
 * C escapes (\n, \x..) are not needed by the drop-ins rendered here and are refused.
 */
export function dropInEnvironment(text: string): Record<string, string> {
  let env: Record<string, string> = {};
  let section = "";
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1];
      return;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`drop-in line ${i + 1}: not a directive: ${raw}`);
    if (section !== "Service" || line.slice(0, eq).trim() !== "Environment") return;
    const value = line.slice(eq + 1).trim();
    if (value === "") {
      env = {};
      return;
    }
    for (const word of splitWords(value, i + 1)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(word);
      if (!m) throw new Error(`drop-in line ${i + 1}: invalid environment assignment ${JSON.stringify(word)}`);
      env[m[1]] = m[2];
    }
  });
  return env;
}

function splitWords(value: string, lineNo: number): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === " " || value[i] === "\t") i++;
    if (i >= value.length) break;
    let word = "";
    while (i < value.length && value[i] !== " " && value[i] !== "\t") {
      const c = value[i];
      if (c === '"' || c === "'") {
        let end = i + 1;
        while (end < value.length && value[end] !== c) end += c === '"' && value[end] === "\\" ? 2 : 1;
        if (end >= value.length) end = -1;
        if (end < 0) throw new Error(`drop-in line ${lineNo}: unbalanced quote in ${value}`);
        const inner = value.slice(i + 1, end);
        word += c === '"' ? unescape(inner, lineNo) : inner;
        i = end + 1;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

function unescape(s: string, lineNo: number): string {
  return s.replace(/\\(.)/g, (_, c: string) => {
    if (c === '"' || c === "\\") return c;
    throw new Error(`drop-in line ${lineNo}: escape \\${c} is not handled here`);
  });
}
