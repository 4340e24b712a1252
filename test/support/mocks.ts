/**
 * Pulumi mocks that record every resource the program declares and return realistic
 * state: remote commands print a uuid like xe does, the discovery request prints a token
 * URL, random ids have hex. Any provider function call is unexpected and throws.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { PkiObjectInputs, generatePkiObject } from "../../components/pki/pki-provider";

export interface RecordedResource {
  type: string;
  name: string;
  /** Inputs with secrets unwrapped to their values. */
  inputs: Record<string, any>;
  /** Input paths (dotted) that arrived as Pulumi secrets. */
  secretPaths: string[];
}

/** The marker the Pulumi runtime uses for a serialized secret value. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps serialized secrets, collecting the paths where they were. */
function unwrap(value: any, path: string, secretPaths: string[]): any {
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${path}[${i}]`, secretPaths));
  if (value && typeof value === "object") {
    if (Object.values(value).includes(SECRET_SIG) && "value" in value) {
      secretPaths.push(path);
      return unwrap(value.value, path, []);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, path ? `${path}.${k}` : k, secretPaths)]));
  }
  return value;
}

/**
 * PKI objects already generated in this test process, by name and inputs: a second run of the
 * program with the same inputs gets the same key and certificate, as a real `up` does (the
 * dynamic provider keeps them in the stack's state and finds no diff).
 */
const PKI_STATE = new Map<string, Record<string, any>>();

export class ResourceRecorder implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const secretPaths: string[] = [];
    const inputs = unwrap(args.inputs, "", secretPaths);
    this.resources.push({ type: args.type, name: args.name, inputs, secretPaths });
    const state: Record<string, any> = { ...args.inputs };
    switch (args.type) {
      case "command:remote:Command":
        // The guest agent's listing, as a host with a tools ISO prints it; any other command: an object's uuid.
        state.stdout = args.name.endsWith("guest-agent-read") ? GUEST_AGENT_LISTING : `${uuidFor(args.name)}\n`;
        state.stderr = "";
        break;
      case "command:local:Command":
        state.stdout = `https://discovery.etcd.io/${crypto.createHash("md5").update(args.name).digest("hex")}`;
        state.stderr = "";
        break;
      case "random:index/randomId:RandomId":
        state.hex = hexFor(args.name);
        state.b64Std = Buffer.from(state.hex, "hex").toString("base64");
        break;
      case "pulumi-nodejs:dynamic/pki:PkiObject":
        // The provider's own generator: real keys and certificates (the unwrapped inputs).
        {
          const key = `${args.name} ${JSON.stringify(inputs)}`;
          if (!PKI_STATE.has(key)) PKI_STATE.set(key, generatePkiObject(inputs as PkiObjectInputs));
          Object.assign(state, PKI_STATE.get(key));
        }
        break;
      case "random:index/randomPassword:RandomPassword":
        state.result = `pw-${crypto.createHash("sha256").update(args.name).digest("hex").slice(0, 24)}`;
        break;
    }
    return { id: `${args.name}-id`, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    throw new Error(`unexpected provider function call ${args.token}`);
  }

  /** Parent of every resource (components included), by resource name; recorded by `watchParents`. */
  readonly parents = new Map<string, string | undefined>();
  readonly types = new Map<string, string>();
  /** Resources declared with `protect: true`, by name. */
  readonly protectedNames = new Set<string>();

  /**
   * A root component whose transformation (inherited by every descendant) records each
   * resource's parent and type: mocks are not told the parent. Pass it as the program's parent.
   */
  root(): pulumi.ComponentResourceOptions {
    const record: pulumi.ResourceTransformation = (args) => {
      const parent = args.opts.parent as (pulumi.Resource & { __name?: string }) | undefined;
      this.parents.set(args.name, parent?.__name);
      this.types.set(args.name, args.type);
      if (args.opts.protect) this.protectedNames.add(args.name);
      return undefined;
    };
    const root = new pulumi.ComponentResource("test:index:Root", "root", {}, { transformations: [record] });
    return { parent: root };
  }

  /** The chain of parent names up to the stack, nearest first. */
  ancestry(name: string): string[] {
    const chain: string[] = [];
    let current = this.parents.get(name);
    while (current !== undefined && current !== "root") {
      chain.push(current);
      current = this.parents.get(current);
    }
    return chain;
  }

  byType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  named(name: string): RecordedResource {
    const found = this.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}; have: ${this.resources.map((r) => r.name).join(", ")}`);
    return found;
  }
}

/** A stable fake uuid per resource name. */
/**
 * The text inside a config drive's standard input (a base64 config-2 image): the image
 * stores user_data uncompressed, so the cloud-config's text is there as is.
 */
export function driveText(stdin: string): string {
  return Buffer.from(stdin, "base64").toString("utf8");
}

/** What GuestAgent's command prints on a host whose tools ISO has the agent (two of its files). */
export const GUEST_AGENT_LISTING =
  `xe-daemon 755 ${Buffer.from("#!/bin/sh\n# xe-daemon (test)\n").toString("base64")}\n` +
  `xe-linux-distribution 755 ${Buffer.from("#!/bin/sh\n# xe-linux-distribution (test)\n").toString("base64")}\n`;

/** The hex a mocked RandomId of this name gets. */
export function hexFor(name: string): string {
  return crypto.createHash("sha256").update(name).digest("hex").slice(0, 16);
}

export function uuidFor(name: string): string {
  const h = crypto.createHash("sha1").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Resolves an Output in a mocked program (undefined when unknown). */
export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Sets stack config like `pulumi config` would: objects as JSON, the secret keys marked secret. */
export function setStackConfig(raw: Record<string, unknown>, secrets: Record<string, string>): void {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) all[`xen-coreos:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(secrets)) all[`xen-coreos:${k}`] = v;
  pulumi.runtime.setAllConfig(all, Object.keys(secrets).map((k) => `xen-coreos:${k}`));
}
