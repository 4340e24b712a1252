# xen-coreos: remove the NFS export (the data on the share is kept)
marker=xen-coreos:0123456789abcdef
deployment=0123456789abcdef
export_path=/nfs/NFS
exports_file=/etc/exports
set -eu
fail() { echo "xen-coreos: NFS export $export_path: $*" >&2; exit 1; }
# Removes this deployment's export line, releases the export (empties the owner file when it
# names this deployment) and re-exports. Every file on the share stays: customer data is
# never deleted. Parameters (generated header): marker, deployment, export_path, exports_file.

owner_file="$export_path/.xen-coreos-deployment"
if [ -f "$owner_file" ] && [ "$(cat "$owner_file")" = "$deployment" ]; then : >"$owner_file"; fi
[ -f "$exports_file" ] || exit 0
tmp=$(mktemp "$exports_file.XXXXXX")
awk -v m=" # $marker" 'length($0) < length(m) || substr($0, length($0) - length(m) + 1) != m' "$exports_file" >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$exports_file"
exportfs -ra
