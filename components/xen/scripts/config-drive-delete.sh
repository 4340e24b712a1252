# Destroys this resource's config drive VDI (detaching it from any VM first); already gone
# is success. Parameters (generated header): marker, name_label.

vdis=$(xe vdi-list other-config:xen-coreos-config-drive="$marker" --minimal)
if [ -z "$vdis" ]; then echo "xen-coreos: config drive $name_label: already gone" >&2; exit 0; fi
case "$vdis" in
  *,*) fail "several config drives carry the marker $marker: $vdis. Nothing was removed: remove the copies by hand, then run destroy again." ;;
esac
for vbd in $(xe vbd-list vdi-uuid="$vdis" --minimal | tr , " "); do
  xe vbd-destroy uuid="$vbd"
done
xe vdi-destroy uuid="$vdis"
