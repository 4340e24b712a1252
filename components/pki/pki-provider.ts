/**
 * A Pulumi dynamic provider that keeps the PKI's material in the stack's state: a key or
 * certificate is generated once, on create, and stays the same on every later `up` until an
 * input changes (a rotation setting, the CA it is signed by, its addresses), which replaces
 * it. The private halves are secret outputs (encrypted in state, `[secret]` in every diff).
 *
 * Why a dynamic provider: a key generated in the program itself would be new on every run,
 * and pulumi-tls is not available here as a plugin (its Go module is not served). The
 * engine runs this code in `pulumi-resource-pulumi-nodejs`, the SDK's dynamic-provider host
 * (`.ci/pulumi-toolchain.sh` puts it on PATH).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { CertificateUsage, createCa, createSshHostKey, issueCertificate } from "./x509";

/** What one PKI object is, as the provider's inputs. */
export type PkiObjectInputs =
  | { kind: "ca"; commonName: string; validityDays: number; rotation: string }
  | {
      kind: "certificate";
      caCertPem: string;
      caKeyPem: string;
      commonName: string;
      ipAddresses: string[];
      usages: CertificateUsage[];
      validityDays: number;
    }
  | { kind: "sshHostKey"; comment: string; rotation: string };

/** The provider's outputs: the inputs plus the material. */
export interface PkiObjectOutputs {
  certPem?: string;
  keyPem?: string;
  caPem?: string;
  publicKey?: string;
  privateKey?: string;
}

/** Generates the material of one object (pure apart from randomness; also used by test mocks). */
export function generatePkiObject(inputs: PkiObjectInputs): PkiObjectOutputs {
  switch (inputs.kind) {
    case "ca": {
      const ca = createCa({ commonName: inputs.commonName, validityDays: inputs.validityDays });
      return { certPem: ca.certPem, keyPem: ca.keyPem };
    }
    case "certificate": {
      const leaf = issueCertificate({ certPem: inputs.caCertPem, keyPem: inputs.caKeyPem }, inputs);
      return { certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: inputs.caCertPem };
    }
    case "sshHostKey": {
      const key = createSshHostKey(inputs.comment);
      return { publicKey: key.publicKey, privateKey: key.privateKey };
    }
  }
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: PkiObjectInputs) {
    const outs = generatePkiObject(inputs);
    return { id: `${inputs.kind}-${crypto.randomBytes(8).toString("hex")}`, outs: { ...inputs, ...outs } };
  },
  async diff(_id: string, olds: PkiObjectInputs & PkiObjectOutputs, news: PkiObjectInputs) {
    // Every input shapes the material: any change is a new key or certificate.
    const changed = (Object.keys({ ...olds, ...news }) as Array<keyof PkiObjectInputs>).filter(
      (k) => !["certPem", "keyPem", "caPem", "publicKey", "privateKey"].includes(k as string) && stable((olds as any)[k]) !== stable((news as any)[k]),
    );
    return { changes: changed.length > 0, replaces: changed as string[], deleteBeforeReplace: false };
  },
  async read(id: string, props: PkiObjectInputs & PkiObjectOutputs) {
    // The material exists only in state: what state holds is what there is.
    return { id, props };
  },
  async delete() {
    // Nothing outside the state to remove.
  },
};

/** One PKI object kept in state. */
export class PkiObject extends pulumi.dynamic.Resource {
  declare public readonly certPem: pulumi.Output<string | undefined>;
  declare public readonly keyPem: pulumi.Output<string | undefined>;
  declare public readonly caPem: pulumi.Output<string | undefined>;
  declare public readonly publicKey: pulumi.Output<string | undefined>;
  declare public readonly privateKey: pulumi.Output<string | undefined>;

  constructor(name: string, inputs: Record<string, pulumi.Input<unknown>> & { kind: PkiObjectInputs["kind"] }, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { certPem: undefined, keyPem: undefined, caPem: undefined, publicKey: undefined, privateKey: undefined, ...(inputs as object) },
      { ...opts, additionalSecretOutputs: ["keyPem", "privateKey", "caKeyPem"] },
      "pki",
      "PkiObject",
    );
  }
}
