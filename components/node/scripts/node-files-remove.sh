# Runs on a node: removes the files of one set (the program's own files only; callers
# refuse customer-data paths). Already gone is success. Parameters (generated header):
# set_name, paths (one per line).

if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root=sudo; fi
printf '%s\n' "$paths" | while read -r path; do
  [ -z "$path" ] || $as_root rm -f "$path"
done
echo "xen-coreos: files $set_name: removed" >&2
