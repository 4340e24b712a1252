# Runs on a node (user core with sudo, or root): writes the program's files for one purpose
# (a service's config and scripts, its certificates) from standard input, all or nothing.
# Parameters (generated header): set_name, dir_mode, paths (the files this set owns, one per
# line), restart_units (systemd units restarted once the files are in place, e.g. the firewall's
# restore units; empty: none). Standard output: the paths, which the next update reads back as
# PULUMI_COMMAND_STDOUT to remove the files the set no longer owns.
#
# Standard input, as `renderNodeFilesStdin` writes it: per file one header line
#   ==> <octal mode> <sha256 of the content> <absolute path>
# followed by the content, every line prefixed with "|" (so content never looks like a
# header); a final line "==> end" closes the set. Each file lands in a temp file beside its
# target, is checked against its sha256 (a truncated or altered transfer fails before any
# file is replaced), and only when every file checks are they renamed into place.

if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root=sudo; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Split standard input into $work/<n> (content) and $work/list (mode sum path per file).
awk -v work="$work" '
  function finish() { if (out != "") { close(out) } }
  /^==> end$/ { finish(); done = 1; exit }
  /^==> / {
    finish()
    n++
    out = work "/" n
    printf "" > out
    print $2, $3, $4 > (work "/list")
    next
  }
  /^\|/ { if (out == "") { bad = 1; exit } print substr($0, 2) > out; next }
  { bad = 1; exit }
  END { if (bad || !done) exit 1 }
' || fail "standard input is not a file set (it must end with '==> end')"
[ -s "$work/list" ] || fail "no file in the set"

# Each file's text was sent with a final newline added when it had none: the header's
# sha256 decides which (a file whose sum matches without the last newline loses it).
n=0
while read -r mode sum path; do
  n=$((n + 1))
  printf '%s\n' "$paths" | grep -qxF "$path" || fail "file $path is not one of this set's paths"
  if [ "$(sha256sum <"$work/$n" | cut -d' ' -f1)" != "$sum" ]; then
    head -c -1 "$work/$n" >"$work/$n.trim"
    [ "$(sha256sum <"$work/$n.trim" | cut -d' ' -f1)" = "$sum" ] || fail "$path: content does not match its sha256 (transfer damaged)"
    mv -f "$work/$n.trim" "$work/$n"
  fi
done <"$work/list"

# Stage every file beside its target (same file system), then rename them all.
n=0
while read -r mode sum path; do
  n=$((n + 1))
  dir=$(dirname "$path")
  $as_root mkdir -p "$dir"
  $as_root chmod "$dir_mode" "$dir"
  tmp=$($as_root mktemp "$path.XXXXXX")
  $as_root chmod "$mode" "$tmp"
  $as_root tee "$tmp" <"$work/$n" >/dev/null
  printf '%s\n' "$tmp $path" >>"$work/staged"
done <"$work/list"
while read -r tmp path; do
  $as_root mv -f "$tmp" "$path"
done <"$work/staged"

# Files an earlier version of this set wrote and this one does not.
printf '%s\n' "${PULUMI_COMMAND_STDOUT:-}" | while read -r old; do
  case "$old" in /*) ;; *) continue ;; esac
  printf '%s\n' "$paths" | grep -qxF "$old" || $as_root rm -f "$old"
done
echo "xen-coreos: files $set_name: $n written" >&2
if [ -n "$restart_units" ]; then
  # shellcheck disable=SC2086 # a list of unit names
  $as_root systemctl restart $restart_units || fail "the files are written, but restarting $restart_units failed (check: systemctl status $restart_units)"
fi
printf '%s\n' "$paths"
