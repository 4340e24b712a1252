# Writes a node's config-2 image into a new VDI and prints the VDI's uuid. The image is
# built where the program runs (a stock dom0 has neither genisoimage nor mkisofs) and
# arrives base64-encoded on standard input: it holds the cloud-config, whose discovery
# token is a secret, so it is never on a command line. Parameters (generated header):
# marker, name_label, sr_name, image_bytes, image_sha256, vdi_bytes.
#
# As xscontainer does, the file is padded to vdi_bytes (a multiple of 2 MiB) and the VDI is
# created with exactly that size: 6.5-era xapi refuses to import a raw file shorter than
# the VDI. A failed import destroys the half-made VDI: nothing is left half applied.

one() {
  case "$1" in
    "") fail "$2 not found" ;;
    *,*) fail "$2 matches several objects: $1" ;;
  esac
  printf '%s\n' "$1"
}

existing=$(xe vdi-list other-config:xen-coreos-config-drive="$marker" --minimal)
case "$existing" in *,*) fail "several config drives carry $marker: $existing" ;; esac
if [ -n "$existing" ]; then cat >/dev/null; printf '%s\n' "$existing"; exit 0; fi

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
image="$work/config-2.img"
# dom0 of XenServer 6.5 (CentOS 5) may lack coreutils' base64; openssl is always there.
if command -v base64 >/dev/null 2>&1; then base64 -d >"$image"; else openssl base64 -d >"$image"; fi
got_bytes=$(wc -c <"$image" | tr -d ' ')
[ "$got_bytes" -eq "$image_bytes" ] || fail "the config-2 image arrived with $got_bytes bytes, expected $image_bytes (standard input cut short?)"
got_sha256=$(openssl dgst -sha256 "$image" | sed 's/.*= *//')
[ "$got_sha256" = "$image_sha256" ] || fail "the config-2 image arrived damaged: sha256 $got_sha256, expected $image_sha256"
# Extend the file with zeros to exactly the VDI's size (no truncate(1) in CentOS 5's coreutils).
dd if=/dev/zero of="$image" bs=1 count=0 seek="$vdi_bytes" 2>/dev/null
sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository '$sr_name' (xen-coreos:xenserver.storageRepository)")
vdi=$(xe vdi-create sr-uuid="$sr" name-label="$name_label" type=user virtual-size="$vdi_bytes")
if ! xe vdi-param-set uuid="$vdi" other-config:xen-coreos-config-drive="$marker" ||
   ! xe vdi-import uuid="$vdi" filename="$image"; then
  xe vdi-destroy uuid="$vdi" || true
  fail "could not write the config drive into VDI $vdi"
fi
printf '%s\n' "$vdi"
