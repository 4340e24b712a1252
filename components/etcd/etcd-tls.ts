/**
 * Where a node keeps its etcd TLS material, and how each client on the node finds it. One
 * place for the paths that the cloud-config writes (`write_files`), etcd and fleet read, and
 * every etcdctl the program runs passes. Pure: constants and plain values only.
 *
 * Each node holds the deployment CA's certificate, its own certificate (serverAuth and
 * clientAuth, subjectAltName = the node's address and 127.0.0.1) and its own private key;
 * never another node's key. etcd serves clients and peers over https only and asks both for
 * a certificate signed by that CA (client-cert-auth, peer-client-cert-auth).
 */

/** The node's TLS directory (root-owned; written by coreos-cloudinit from the config drive). */
export const ETCD_TLS_DIR = "/etc/xen-coreos/tls";

/** Paths of the CA certificate, the node's certificate and its key. */
export interface EtcdTlsPaths {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** File names inside the TLS directory. */
export const ETCD_TLS_FILE_NAMES = { ca: "ca.pem", cert: "etcd.pem", key: "etcd-key.pem" } as const;

/** The files under `dir` (the host's ETCD_TLS_DIR, or where a container mounts it). */
export function etcdTlsPaths(dir: string = ETCD_TLS_DIR): EtcdTlsPaths {
  return { caFile: `${dir}/${ETCD_TLS_FILE_NAMES.ca}`, certFile: `${dir}/${ETCD_TLS_FILE_NAMES.cert}`, keyFile: `${dir}/${ETCD_TLS_FILE_NAMES.key}` };
}

/** The host paths every client on the node uses (fleet, etcdctl in the scripts and units). */
export const ETCD_TLS: EtcdTlsPaths = etcdTlsPaths();

/**
 * Owner of the key file: the user etcd runs as. CoreOS's etcd2.service has `User=etcd`
 * (coreos/coreos-overlay dev-db/etcd/files/etcd2.service); Flatcar's etcd-member.service sets
 * `ETCD_USER=etcd` and etcd-wrapper runs the container with `-u $(id -u etcd):$(id -g etcd)`
 * (flatcar/scripts app-admin/etcd-wrapper/files/etcd-wrapper), so the same host user owns it
 * on both. Root (fleet, the services' units, etcdctl through sudo) reads it as root.
 */
export const ETCD_KEY_OWNER = "etcd:etcd";

/** The client URL on the node itself (the certificate names 127.0.0.1). */
export const ETCD_LOCAL_CLIENT_URL = "https://127.0.0.1:2379";

/**
 * Lines of /etc/environment for etcdctl, which reads its endpoint and TLS files from the
 * environment (etcd v3.5.17 etcdctl/ctlv2/command/util.go: ETCDCTL_ENDPOINT,
 * ETCDCTL_CA_FILE, ETCDCTL_CERT_FILE, ETCDCTL_KEY_FILE; the v3 API's flags --cacert/--cert/
 * --key read ETCDCTL_CACERT/ETCDCTL_CERT/ETCDCTL_KEY through pkg/flags SetPflagsFromEnv).
 * ETCDCTL_ENDPOINTS is not set: the v2 tool prefers it to an `--endpoint` flag, which would
 * override the scripts' own endpoint.
 */
export function etcdctlEnvironment(clientUrl: string, tls: EtcdTlsPaths = ETCD_TLS): string[] {
  return [
    `ETCDCTL_ENDPOINT=${clientUrl}`,
    `ETCDCTL_CA_FILE=${tls.caFile}`,
    `ETCDCTL_CERT_FILE=${tls.certFile}`,
    `ETCDCTL_KEY_FILE=${tls.keyFile}`,
    `ETCDCTL_CACERT=${tls.caFile}`,
    `ETCDCTL_CERT=${tls.certFile}`,
    `ETCDCTL_KEY=${tls.keyFile}`,
  ];
}
