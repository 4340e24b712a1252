/**
 * Runs one command of a `command:local:Command` the way pulumi-command 1.2.1 does
 * (provider/pkg/provider/local/commandOutputs.go `run`):
 *   - argv = interpreter (default `/bin/sh -c`) + the command text;
 *   - working directory = `dir`, else the provider's own working directory;
 *   - environment = the provider's environment, then `environment`, then (when
 *     addPreviousOutputInEnv is not false and the previous value is not empty)
 *     PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR; later entries win;
 *   - stdin = `stdin` when it is not empty, else nothing (/dev/null);
 *   - stdout and stderr are captured separately and, interleaved, logged line by line
 *     according to `logging` and kept for the error message;
 *   - a failure is `<exit error>: running "<command>":\n<stdout and stderr>`;
 *   - on success the outputs lose one trailing newline.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { LineSplitter } from "./engine-log";
import { goQuote } from "./values";

export type Logging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

export function shouldLogStdout(l: Logging | undefined): boolean {
  return l === undefined || l === "stdout" || l === "stdoutAndStderr";
}
export function shouldLogStderr(l: Logging | undefined): boolean {
  return l === undefined || l === "stderr" || l === "stdoutAndStderr";
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface LocalRunOptions {
  interpreter?: string[];
  dir?: string;
  environment?: Record<string, string>;
  stdin?: string;
  logging?: Logging;
  addPreviousOutputInEnv?: boolean;
  /** stdout/stderr of the previous create/update (state), for PULUMI_COMMAND_STDOUT/STDERR. */
  previous?: RunResult;
  /** Receives each logged line of output. */
  log: (line: string) => void;
}

/** Go's syscall.Signal strings for the signals a command is likely to die of. */
const SIGNAL_TEXT: Record<string, string> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGABRT: "aborted",
  SIGKILL: "killed",
  SIGSEGV: "segmentation fault",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
};

export function trimOneNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

export function runLocal(command: string, opts: LocalRunOptions): Promise<RunResult> {
  const argv = opts.interpreter && opts.interpreter.length > 0 ? [...opts.interpreter] : ["/bin/sh", "-c"];
  argv.push(command);
  const cwd = opts.dir ?? process.cwd();

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(opts.environment ?? {})) env[k] = v;
  if (opts.addPreviousOutputInEnv !== false && opts.previous) {
    if (opts.previous.stdout !== "") env.PULUMI_COMMAND_STDOUT = opts.previous.stdout;
    if (opts.previous.stderr !== "") env.PULUMI_COMMAND_STDERR = opts.previous.stderr;
  }

  return new Promise<RunResult>((resolve, reject) => {
    // Go's exec reports a missing directory at start, before anything runs.
    let dirOk = false;
    try {
      dirOk = fs.statSync(cwd).isDirectory();
    } catch {
      dirOk = false;
    }
    if (!dirOk) {
      reject(new Error(`chdir ${cwd}: no such file or directory`));
      return;
    }
    const hasStdin = opts.stdin !== undefined && opts.stdin.length > 0;
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: [hasStdin ? "pipe" : "ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let combined = "";
    const lines = new LineSplitter(opts.log);
    const out = child.stdout!;
    const err = child.stderr!;
    out.setEncoding("utf8");
    err.setEncoding("utf8");
    out.on("data", (d: string) => {
      stdout += d;
      combined += d;
      if (shouldLogStdout(opts.logging)) lines.write(d);
    });
    err.on("data", (d: string) => {
      stderr += d;
      combined += d;
      if (shouldLogStderr(opts.logging)) lines.write(d);
    });
    if (hasStdin && child.stdin) {
      child.stdin.on("error", () => undefined); // the command may exit without reading it all
      child.stdin.end(opts.stdin);
    }
    let settled = false;
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      reject(e.code === "ENOENT" ? new Error(`fork/exec ${argv[0]}: no such file or directory`) : e);
    });
    child.on("close", (code, signal) => {
      lines.end();
      if (settled) return;
      settled = true;
      let exitError: string | undefined;
      if (signal) exitError = `signal: ${SIGNAL_TEXT[signal] ?? signal}`;
      else if (code !== 0) exitError = `exit status ${code}`;
      if (exitError) {
        reject(new Error(`${exitError}: running ${goQuote(command)}:\n${combined}`));
        return;
      }
      resolve({ stdout: trimOneNewline(stdout), stderr: trimOneNewline(stderr) });
    });
  });
}
