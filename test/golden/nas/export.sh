# xen-coreos: NFS export /nfs/NFS for 10.50.0.0/24
marker=xen-coreos:lab
export_path=/nfs/NFS
export_line='/nfs/NFS 10.50.0.0/24(rw,sync,no_subtree_check) # xen-coreos:lab'
exports_file=/etc/exports
set -eu
mkdir -p "$export_path"/www
mkdir -p "$export_path"/nginx/conf.d
mkdir -p "$export_path"/services
mkdir -p "$export_path"/services/ftp/conf
touch "$exports_file"
tmp=$(mktemp "$exports_file.XXXXXX")
awk -v m=" # $marker" 'length($0) < length(m) || substr($0, length($0) - length(m) + 1) != m' "$exports_file" >"$tmp"
printf '%s\n' "$export_line" >>"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$exports_file"
exportfs -ra
