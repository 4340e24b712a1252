/**
 * The xen-coreos policy pack: the platform's rules (./rules.ts), all mandatory, so a
 * preview or update that breaks one fails. Run it with `scripts/policy.sh <stack>`, or
 * give `--policy-pack policy/analyzer` (this pack as an analyzer executable) to a
 * preview. Constructing the pack starts the analyzer's gRPC server and prints its port,
 * which is what the Pulumi engine waits for; only the analyzer process loads this file.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";
import { installSecretTracking } from "./secrets";

// Before any request is served: the secret check must see which inputs are secrets.
installSecretTracking();

new PolicyPack("xen-coreos", {
  enforcementLevel: "mandatory",
  policies,
});
