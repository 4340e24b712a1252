# xen-coreos: halt node coreos1 for an in-place change
name_label=coreos1
changes=' vcpus=1 memoryMiB=2048 diskGiB=8 configDrive=b1e1a9d2-0000-4000-8000-000000000001'
set -eu
fail() { echo "xen-coreos: node $name_label: $*" >&2; exit 1; }
# Runs on the node (user core, or root): asks it to power itself off a few seconds after
# this SSH session ends, so that its VM can take an in-place change while halted. A clean
# `xe vm-shutdown` would need the XenServer guest agent (6.5-era xapi refuses it otherwise),
# so the program never depends on it; XenVm's converge script waits for xapi to see the VM
# halted. Parameters (generated header): name_label, changes.

if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root=sudo; fi
echo "xen-coreos: node $name_label: powering off to apply:$changes" >&2
# A transient timer, not `systemctl poweroff` now: the session must end with its exit status.
# shellcheck disable=SC2086 # as_root is empty or one word
$as_root systemd-run --unit="xen-coreos-halt-$name_label" --on-active=3 /usr/bin/systemctl poweroff
