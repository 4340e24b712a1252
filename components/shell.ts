/**
 * Shell quoting for every command line the program builds. All values that reach a
 * shell (xe arguments, file paths, unit names) go through these helpers, so a hostile
 * name becomes one literal word instead of shell syntax.
 *
 * The rule is POSIX single quoting, as Python's `shlex.quote`: words made only of
 * characters no shell treats specially stay bare (so a preview diff reads
 * `memory_bytes=2147483648`, not a wall of backslashes); anything else is wrapped in
 * single quotes, inside which only `'` needs care (`'\''`).
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one value as a single shell word (POSIX sh). */
export function shq(value: string | number): string {
  const text = String(value);
  if (text === "") return "''";
  if (SAFE_WORD.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every element and joins them with spaces: a ready-to-run argument list. */
export function shellJoin(words: ReadonlyArray<string | number>): string {
  return words.map(shq).join(" ");
}

/** `name=value` assignment line for a shell script, value quoted. */
export function shellAssign(name: string, value: string | number): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid shell variable name: ${name}`);
  return `${name}=${shq(value)}`;
}

/**
 * The opening lines of every generated script: stop at the first failing command, and a
 * `fail` that names what the script works on, so an operator reads which node, unit or
 * member failed (`xen-coreos: node coreos2: …`). `what` may use the script's variables.
 */
export function strictPrelude(what: string): string[] {
  return ["set -eu", `fail() { echo "xen-coreos: ${what}: $*" >&2; exit 1; }`];
}

/**
 * A script kept in a `.sh` file beside its renderer, with a generated header: a title
 * comment, one quoted assignment per parameter (in the order given, so a preview diff shows
 * exactly the settings that changed) and the strict prelude. The file itself holds only
 * logic; reviewers and shellcheck read it as the shell it is.
 */
export function scriptWithHeader(
  body: string,
  header: { title: string; what: string; params: ReadonlyArray<readonly [string, string | number]> },
): string {
  return [
    `# xen-coreos: ${header.title}`,
    ...header.params.map(([name, value]) => shellAssign(name, value)),
    ...strictPrelude(header.what),
    body.replace(/^#!.*\n/, "").replace(/\n*$/, "\n"),
  ].join("\n");
}
