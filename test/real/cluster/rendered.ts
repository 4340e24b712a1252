/**
 * The program's own rendering of a stack, collected under Pulumi mocks (as
 * test/cluster/program.test.ts runs it): every node's cloud-config exactly as its config
 * drive holds it (user_data of the config-2 image on the ConfigDrive command's stdin, read
 * back with isoinfo), and each cluster's discovery-token
 * `create` script. Optionally the token script is run for real (`runLocalCommand`), so
 * the cloud-configs carry a real token.
 */
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { stackRawSettings } from "../../fixtures/settings";
import { userDataOfDrive } from "../../support/drive";
import { ResourceRecorder, setStackConfig, valueOf } from "../../support/mocks";

export interface RenderedNode {
  cluster: string;
  node: string;
  /** The user_data of the node's config drive. */
  cloudConfig: string;
}

export interface RenderedStack {
  stack: string;
  nodes: RenderedNode[];
  /** `create` script of each cluster's discovery request (command:local:Command), by cluster (token mode only). */
  discoveryScripts: Record<string, string>;
  /** stdout the discovery request produced (the real token when runLocalCommand is given). */
  discoveryUrls: Record<string, string>;
}

export interface RenderOptions {
  /** Changes the stack file's raw settings before the program reads them. */
  override?: (raw: any) => void;
  /** Runs a command:local:Command's create script and returns its stdout (default: the mock's URL). */
  runLocalCommand?: (script: string) => string;
}

class RunningRecorder extends ResourceRecorder {
  constructor(private readonly runLocal?: (script: string) => string) {
    super();
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const result = super.newResource(args);
    if (args.type === "command:local:Command" && this.runLocal && !args.name.includes("preview")) {
      const recorded = this.resources[this.resources.length - 1];
      result.state.stdout = this.runLocal(String(recorded.inputs.create));
    }
    return result;
  }
}

const KEYS = { sshPrivateKey: "NODE-KEY (test)", xenserverPrivateKey: "XEN-KEY (test)", nasPrivateKey: "NAS-KEY (test)" };

/** Runs the whole program for `stack` under mocks and collects what each node boots with. */
export async function renderStack(stack: string, opts: RenderOptions = {}): Promise<RenderedStack> {
  const raw: any = JSON.parse(JSON.stringify(stackRawSettings(stack)));
  opts.override?.(raw);
  const recorder = new RunningRecorder(opts.runLocalCommand);
  pulumi.runtime.setMocks(recorder, "xen-coreos", stack, false);
  setStackConfig(raw, KEYS);
  const { xenCoreosProgram } = await import("../../../components/program");
  const outputs = xenCoreosProgram(recorder.root());
  const clusters = await valueOf<any>(outputs.clusters);
  for (const c of Object.values<any>(clusters)) for (const n of c.nodes) await valueOf(n.vmUuid);

  const nodes: RenderedNode[] = [];
  for (const r of recorder.byType("command:remote:Command")) {
    if (!r.name.endsWith("-config-drive-vdi")) continue;
    // The node's cloud-config, read back out of its config-2 image.
    const cloudConfig = userDataOfDrive(String(r.inputs.stdin));
    const doc = yaml.load(cloudConfig) as { hostname: string };
    const cluster = r.name.slice(0, r.name.length - `-${doc.hostname}-config-drive-vdi`.length);
    nodes.push({ cluster, node: doc.hostname, cloudConfig });
  }
  const discoveryScripts: Record<string, string> = {};
  const discoveryUrls: Record<string, string> = {};
  for (const [name, c] of Object.entries<any>(clusters)) {
    // A cluster bootstrapped from its static member list has no token request.
    if (!recorder.resources.some((r) => r.name === `${name}-discovery-request`)) continue;
    discoveryScripts[name] = String(recorder.named(`${name}-discovery-request`).inputs.create);
    discoveryUrls[name] = await valueOf<string>(c.discoveryUrl);
  }
  // Let the run's last RPCs (registerResourceOutputs) reach this run's mock monitor before
  // another stack's run replaces it.
  await pulumi.runtime.disconnect();
  return { stack, nodes, discoveryScripts, discoveryUrls };
}

/** The stacks of the repository: every Pulumi.<stack>.yaml. */
export function repositoryStacks(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
  return fs
    .readdirSync(path.join(__dirname, "..", "..", ".."))
    .map((f) => /^Pulumi\.([A-Za-z0-9_-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}
