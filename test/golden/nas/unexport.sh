# xen-coreos: remove the NFS export (the data on the share is kept)
marker=xen-coreos:lab
exports_file=/etc/exports
set -eu
[ -f "$exports_file" ] || exit 0
tmp=$(mktemp "$exports_file.XXXXXX")
awk -v m=" # $marker" 'length($0) < length(m) || substr($0, length($0) - length(m) + 1) != m' "$exports_file" >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$exports_file"
exportfs -ra
