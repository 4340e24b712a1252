/**
 * The etcd environment coreos-cloudinit gives etcd2.service from a cloud-config's
 * `coreos.etcd2` section (v1.11.0/v1.14.0, config/etcd2.go + system/etcd2.go + system/env.go):
 * each key is matched to a config.Etcd2 field with `-` read as `_`, and every non-zero
 * field becomes `Environment="<its env tag>=<value>"` in the drop-in 20-cloudinit.conf.
 * Every env tag of config.Etcd2 is `ETCD_` + the YAML key uppercased, so the rule is:
 * key → ETCD_<KEY uppercased, - → _>. (The cloud-configs test checks this against the
 * validator binary's `-etcd2-env`, which runs coreos-cloudinit's own parser.)
 */
import * as yaml from "js-yaml";

export function etcd2Environment(cloudConfig: string): Record<string, string> {
  const doc = yaml.load(cloudConfig) as { coreos?: { etcd2?: Record<string, unknown> } };
  const section = doc.coreos?.etcd2 ?? {};
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(section)) {
    env[`ETCD_${key.toUpperCase().replace(/-/g, "_")}`] = String(value);
  }
  return env;
}

/** `[Network]` Address= and Gateway= of the cloud-config's static .network unit. */
export function staticNetwork(cloudConfig: string): { name: string; address: string; prefixLength: number; gateway: string } {
  const doc = yaml.load(cloudConfig) as { coreos: { units: Array<{ name: string; content?: string }> } };
  const unit = doc.coreos.units.find((u) => u.name.endsWith(".network") && u.content);
  if (!unit) throw new Error("the cloud-config has no .network unit");
  const get = (k: string) => new RegExp(`^${k}=(.+)$`, "m").exec(unit.content!)?.[1];
  const [address, prefix] = (get("Address") ?? "").split("/");
  return { name: get("Name") ?? "", address, prefixLength: Number(prefix), gateway: get("Gateway") ?? "" };
}
