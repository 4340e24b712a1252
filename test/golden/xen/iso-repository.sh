# xen-coreos: ISO library ISOS
sr_name=ISOS
location=/var/opt/isos
iso_name=coreos_production_iso_image.iso
set -eu
fail() { echo "xen-coreos: ISO library $sr_name: $*" >&2; exit 1; }
# Makes sure the ISO library exists (thesis Annex 1's `xe sr-create ... type=iso`) and holds
# the install ISO; prints the SR's uuid. Shared host infrastructure: no delete script.
# Parameters (generated header): sr_name, location, iso_name.

sr=$(xe sr-list name-label="$sr_name" type=iso --minimal)
case "$sr" in *,*) fail "several ISO repositories are called $sr_name: $sr" ;; esac
if [ -z "$sr" ]; then
  mkdir -p "$location"
  sr=$(xe sr-create name-label="$sr_name" type=iso device-config:location="$location" device-config:legacy_mode=true content-type=iso)
fi
xe sr-scan uuid="$sr"
if [ -z "$(xe vdi-list sr-uuid="$sr" name-label="$iso_name" --minimal)" ]; then
  fail "the CoreOS install ISO $iso_name is not in $location. Fix: copy it there (scp $iso_name root@<xenserver>:$location/) or set xen-coreos:xenserver.isoRepository.coreosIso"
fi
printf '%s\n' "$sr"
