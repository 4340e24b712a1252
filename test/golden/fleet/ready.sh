# xen-coreos: wait for the fleet cluster
machines=3
timeout=1800
set -eu
fail() { echo "xen-coreos: fleet cluster: $*" >&2; exit 1; }
deadline=$(( $(date +%s) + timeout ))
while :; do
  seen=$(fleetctl list-machines --no-legend --fields=machine 2>/dev/null | grep -c . || true)
  [ "$seen" -ge "$machines" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    fail "fleet lists $seen of $machines machines after ${timeout}s. Check: etcdctl cluster-health; fleetctl list-machines"
  fi
  sleep 5
done
echo "xen-coreos: fleet cluster: $seen machines" >&2
