# xen-coreos: remove config drive coreos1 config-2 (xen-coreos)
marker=lab/lab/coreos1/0123456789ab
name_label='coreos1 config-2 (xen-coreos)'
set -eu
fail() { echo "xen-coreos: config drive $name_label: $*" >&2; exit 1; }
one() {
  case "$1" in
    "") fail "$2 not found" ;;
    *,*) fail "$2 matches several objects: $1" ;;
  esac
  printf '%s\n' "$1"
}

vdis=$(xe vdi-list other-config:xen-coreos-config-drive="$marker" --minimal)
if [ -z "$vdis" ]; then echo "xen-coreos: config drive $name_label: already gone" >&2; exit 0; fi
old_ifs=$IFS; IFS=,
for vdi in $vdis; do
  IFS=$old_ifs
  for vbd in $(xe vbd-list vdi-uuid="$vdi" --minimal | tr , " "); do
    xe vbd-destroy uuid="$vbd"
  done
  xe vdi-destroy uuid="$vdi"
done
