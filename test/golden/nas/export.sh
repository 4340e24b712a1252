# xen-coreos: NFS export /nfs/NFS for 10.50.0.101 10.50.0.102 10.50.0.103
marker=xen-coreos:0123456789abcdef
deployment=0123456789abcdef
legacy_marker=''
export_path=/nfs/NFS
export_line='/nfs/NFS 10.50.0.101(rw,sync,no_subtree_check,root_squash) 10.50.0.102(rw,sync,no_subtree_check,root_squash) 10.50.0.103(rw,sync,no_subtree_check,root_squash) # xen-coreos:0123456789abcdef'
exports_file=/etc/exports
shared_tree=www
set -eu
fail() { echo "xen-coreos: NFS export $export_path: $*" >&2; exit 1; }
# Adds (or rewrites) this deployment's export line on a Linux NAS, claims the export for
# this deployment, creates the shared tree and re-exports. Parameters (generated header):
# marker, deployment, legacy_marker, export_path, export_line, exports_file, shared_tree.
#
# One export, one deployment: the file .xen-coreos-deployment at the export's root names
# the deployment that uses it, so a second stack (or project, or backend) pointed at the same
# export stops here instead of writing over the first one's files. Lines are matched by their
# exact marker comment (a marker that merely ends like ours is another's).

owner_file="$export_path/.xen-coreos-deployment"
owner=""
if [ -f "$owner_file" ]; then owner=$(cat "$owner_file"); fi
if [ -n "$owner" ] && [ "$owner" != "$deployment" ]; then
  fail "$export_path is in use by another xen-coreos deployment ($owner, see $owner_file). Two deployments never share an export: give this stack its own (xen-coreos:nas.export), or destroy the other one first."
fi
for dir in $shared_tree; do mkdir -p "$export_path/$dir"; done
printf '%s\n' "$deployment" >"$owner_file"
touch "$exports_file"
tmp=$(mktemp "$exports_file.XXXXXX")
# Keep every line that does not end in exactly our marker, nor (when this export had no
# owner yet, i.e. an older version of the program managed it) the marker that version wrote.
awk -v m=" # $marker" -v legacy=" # $legacy_marker" -v drop_legacy="$([ -z "$owner" ] && echo 1)" '
  function ends(s, t) { return length(s) >= length(t) && substr(s, length(s) - length(t) + 1) == t }
  !(ends($0, m) || (drop_legacy && legacy != " # " && ends($0, legacy)))
' "$exports_file" >"$tmp"
printf '%s\n' "$export_line" >>"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$exports_file"
exportfs -ra
