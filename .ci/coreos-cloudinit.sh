#!/usr/bin/env bash
# Provides the cloud-config validator of CoreOS's etcd2 era, `coreos-cloudinit -validate`
# (github.com/coreos/coreos-cloudinit v1.14.0), built from Go modules with the ordinary
# `go` client, and prints the binary's path (last line of stdout; status goes to stderr).
# Cached, keyed by version and by this script's content, in
#   $TOOLCHAIN_DIR/coreos-cloudinit-v1.14.0/   (toolchain-dir.sh: /var/cache/xen-coreos/toolchain, or ~/.cache/xen-coreos/toolchain for a non-root user)
# A cached binary is reused as is (one `-version` call, no network).
#
# What the module proxy serves (checked 2026-11, with `go mod download` / `go list -m`):
#   served   github.com/coreos/coreos-cloudinit v1.14.0 and v1.11.0 (.info/.mod/.zip);
#            gopkg.in/yaml.v1 v1.0.0-20140924161607-9f9df34309c0; gopkg.in/yaml.v3 v3.0.1
#   refused  (403 "This module version is not available"):
#            github.com/coreos/coreos-cloudinit/@v/list, so `go install …@v1.14.0` fails
#              while loading the module's deprecation (it asks @latest);
#            github.com/flatcar/coreos-cloudinit (the maintained fork);
#            every dependency of v1.14.0's vendor.manifest at its pinned commit:
#              github.com/coreos/yaml@6b16a5714269, github.com/coreos/go-systemd@4fbc5060a317,
#              github.com/cloudsigma/cepgo@1bfc4895bf5c, github.com/dotcloud/docker@55d41c3e21e1,
#              github.com/guelfey/go.dbus@f6a3a2366cc3, github.com/tarm/goserial@cdabc8d44e8e,
#              github.com/sigma/vmw-guestinfo@95dd4126d6e8, github.com/sigma/vmw-ovflib@56b4f44581ca,
#              github.com/sigma/bdoor@babf2a4017b0.
#
# So the full program (datasources, systemd over D-Bus, netlink) cannot be built. The
# validator needs only two of its packages, `config` and `config/validate`, which import
# nothing but the standard library and github.com/coreos/yaml. This script builds:
#   - a wrapper main module that requires coreos-cloudinit v1.14.0 and whose main package
#     is its `-validate` path (coreos-cloudinit.go: read the user-data, gunzip it if
#     needed, validate.Validate, log.Println each report entry, exit 1 when there is one);
#   - a stand-in for github.com/coreos/yaml (a `replace` to a directory written below):
#     that fork is go-yaml v1 plus one variable, UnmarshalMappingKeyTransform, applied to
#     mapping keys before they are matched to struct fields (cloud-config accepts
#     `advertise-client-urls` for the field tagged `advertise_client_urls`). The stand-in
#     decodes with go-yaml v1 itself (gopkg.in/yaml.v1, the fork's base) and applies the
#     transform by rewriting the mapping keys of the document (gopkg.in/yaml.v3 node tree;
#     plain scalars are re-emitted as written, so v1 still resolves every value itself).
#     Difference from the fork: the transform also reaches keys of maps that are not
#     struct fields; coreos-cloudinit's config types have no map fields, so it is moot.
# No source is copied out of the module cache and nothing is fetched outside the proxy.
#
# The binary takes the real program's flags for this use:
#   coreos-cloudinit -validate -from-file PATH     (PATH "-" = stdin); exit 0 = clean
#   coreos-cloudinit -version
# and one addition, the etcd2 drop-in environment exactly as system/etcd2.go writes it
# (config.NewCloudConfig, then every non-zero field of config.Etcd2 as `<env tag>=<value>`):
#   coreos-cloudinit -etcd2-env -from-file PATH
#
# v1.14.0 (2017) warns `deprecated key "etcd2" (etcd2 is no longer shipped in Container
# Linux)` and the same for "fleet": true of Container Linux after 2017, not of the etcd2-era
# CoreOS this project targets. v1.11.0 (2016-05, the etcd2 era) is served too and is built
# by the same recipe when asked for; it caches under coreos-cloudinit-v1.11.0/.
#
# Usage: .ci/coreos-cloudinit.sh [--rebuild] [v1.14.0|v1.11.0]
set -euo pipefail

VERSION=v1.14.0
MODULE=github.com/coreos/coreos-cloudinit
YAML_V1=v1.0.0-20140924161607-9f9df34309c0
YAML_V3=v3.0.1
# shellcheck source=.ci/toolchain-dir.sh
source "$(dirname "$0")/toolchain-dir.sh"

log() { printf '[coreos-cloudinit] %s\n' "$*" >&2; }

rebuild=false
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=true ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    v1.14.0 | v1.11.0) VERSION=$arg ;;
    *)
      log "unknown argument: $arg (try --help)"
      exit 2
      ;;
  esac
done

DIR="$TOOLCHAIN_DIR/coreos-cloudinit-$VERSION"
BIN="$DIR/coreos-cloudinit"
stamp=$(sha256sum "$0" | cut -d' ' -f1)
cached() {
  [[ -x "$BIN" && -f "$DIR/BUILD-INFO" ]] &&
    grep -qx "script_sha256=$stamp" "$DIR/BUILD-INFO" &&
    "$BIN" -version >/dev/null 2>&1
}

if ! $rebuild && cached; then
  printf '%s\n' "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || [[ -x /usr/local/go/bin/go ]] || {
  log "the go command is required"
  exit 1
}
command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"

mkdir -p "$TOOLCHAIN_DIR"
exec 9>"$TOOLCHAIN_DIR/.coreos-cloudinit.lock"
if ! flock -n 9; then
  log "waiting for another build holding $TOOLCHAIN_DIR/.coreos-cloudinit.lock"
  flock 9
fi
# Another run may have built it while this one waited.
if ! $rebuild && cached; then
  printf '%s\n' "$BIN"
  exit 0
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
# Ask only the configured proxy: a refused module must not fall back to git.
goproxy=$(go env GOPROXY)
case "$goproxy" in
  *,direct | *"|direct") export GOPROXY="${goproxy%?direct}" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/coreos-cloudinit.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/coreos-yaml"

cat >"$work/go.mod" <<EOF
module xencoreos.invalid/toolchain/coreos-cloudinit

go 1.21

require (
	$MODULE $VERSION
	github.com/coreos/yaml v0.0.0-00010101000000-000000000000
	gopkg.in/yaml.v1 $YAML_V1
	gopkg.in/yaml.v3 $YAML_V3
)

// The fork vendored by $VERSION (commit 6b16a5714269) is refused by the proxy.
replace github.com/coreos/yaml => ./coreos-yaml
EOF

cat >"$work/coreos-yaml/go.mod" <<EOF
module github.com/coreos/yaml

go 1.21

require (
	gopkg.in/yaml.v1 $YAML_V1
	gopkg.in/yaml.v3 $YAML_V3
)
EOF

cat >"$work/coreos-yaml/yaml.go" <<'EOF'
// Package yaml stands in for github.com/coreos/yaml (commit 6b16a5714269), the go-yaml v1
// fork that coreos-cloudinit v1.14.0 vendors and the module proxy refuses. The fork adds
// one thing to go-yaml v1: UnmarshalMappingKeyTransform, applied to each mapping key
// before it is matched to a struct field. Decoding here is go-yaml v1 itself; the
// transform is applied by rewriting the document's mapping keys first.
package yaml

import (
	"bytes"

	yamlv1 "gopkg.in/yaml.v1"
	yamlv3 "gopkg.in/yaml.v3"
)

type transformString func(in string) (out string)

func identityTransform(in string) (out string) { return in }

// UnmarshalMappingKeyTransform is applied to every mapping key before unmarshalling.
var UnmarshalMappingKeyTransform transformString = identityTransform

// Marshal is go-yaml v1's Marshal.
func Marshal(in interface{}) ([]byte, error) { return yamlv1.Marshal(in) }

// Unmarshal is go-yaml v1's Unmarshal after UnmarshalMappingKeyTransform.
func Unmarshal(in []byte, out interface{}) error {
	if rewritten, changed := transformKeys(in); changed {
		return yamlv1.Unmarshal(rewritten, out)
	}
	return yamlv1.Unmarshal(in, out)
}

// transformKeys returns the document with its mapping keys transformed, and whether any
// key changed. A document the v3 parser refuses is left to v1 (and its error messages).
func transformKeys(in []byte) ([]byte, bool) {
	transform := UnmarshalMappingKeyTransform
	if transform == nil {
		return nil, false
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(in, &doc); err != nil {
		return nil, false
	}
	changed := false
	var walk func(n *yamlv3.Node)
	walk = func(n *yamlv3.Node) {
		if n.Kind == yamlv3.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind == yamlv3.ScalarNode {
					if nk := transform(k.Value); nk != k.Value {
						k.Value = nk
						changed = true
					}
				}
			}
		}
		if n.Kind == yamlv3.ScalarNode && n.Style == 0 {
			// Emit plain scalars exactly as written: v1 resolves their type (0644, off, ...).
			n.Tag = ""
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if !changed {
		return nil, false
	}
	var buf bytes.Buffer
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, false
	}
	if err := enc.Close(); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}
EOF

cat >"$work/main.go" <<'EOF'
// Command coreos-cloudinit: the -validate path of github.com/coreos/coreos-cloudinit
// (coreos-cloudinit.go), built on its own config and config/validate packages.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"reflect"

	"github.com/coreos/coreos-cloudinit/config"
	"github.com/coreos/coreos-cloudinit/config/validate"
)

var version = "was not built properly"

func main() {
	var validateFlag, printVersion, etcd2Env bool
	var fromFile string
	flag.BoolVar(&validateFlag, "validate", false, "[EXPERIMENTAL] Validate the user-data but do not apply it to the system")
	flag.StringVar(&fromFile, "from-file", "", "Read user-data from provided file (- for stdin)")
	flag.BoolVar(&printVersion, "version", false, "Print the version and exit")
	flag.BoolVar(&etcd2Env, "etcd2-env", false, "Print the etcd2 drop-in environment (system/etcd2.go) and exit")
	flag.Parse()

	if printVersion {
		fmt.Printf("coreos-cloudinit %s\n", version)
		os.Exit(0)
	}
	if !validateFlag && !etcd2Env {
		fmt.Println("this build supports only -validate and -etcd2-env (with -from-file)")
		os.Exit(2)
	}
	if fromFile == "" {
		fmt.Println("Provide --from-file")
		os.Exit(2)
	}
	var userdata []byte
	var err error
	if fromFile == "-" {
		userdata, err = io.ReadAll(os.Stdin)
	} else {
		userdata, err = os.ReadFile(fromFile)
	}
	if err != nil {
		log.Printf("Failed fetching user-data from datasource: %v\n", err)
		os.Exit(1)
	}
	if userdata, err = decompressIfGzip(userdata); err != nil {
		log.Printf("Failed decompressing user-data from datasource: %v\n", err)
		os.Exit(1)
	}

	if etcd2Env {
		cc, err := config.NewCloudConfig(string(userdata))
		if err != nil {
			log.Printf("Failed to parse user-data: %v\n", err)
			os.Exit(1)
		}
		// system/env.go getEnvVars: every non-zero field, `<env tag>=<value>`, in field order.
		e := cc.CoreOS.Etcd2
		et, ev := reflect.TypeOf(e), reflect.ValueOf(e)
		for i := 0; i < et.NumField(); i++ {
			if val := ev.Field(i).Interface(); !config.IsZero(val) {
				fmt.Printf("%s=%v\n", et.Field(i).Tag.Get("env"), val)
			}
		}
		os.Exit(0)
	}

	if report, err := validate.Validate(userdata); err == nil {
		ret := 0
		for _, e := range report.Entries() {
			log.Println(e)
			ret = 1
		}
		os.Exit(ret)
	} else {
		log.Printf("Failed while validating user_data (%q)\n", err)
		os.Exit(1)
	}
}

func decompressIfGzip(userdataBytes []byte) ([]byte, error) {
	if !bytes.HasPrefix(userdataBytes, []byte("\x1f\x8b")) {
		return userdataBytes, nil
	}
	gzr, err := gzip.NewReader(bytes.NewReader(userdataBytes))
	if err != nil {
		return nil, err
	}
	defer gzr.Close()
	return io.ReadAll(gzr)
}
EOF

log "building $MODULE $VERSION (-validate) with $(go env GOVERSION) from $GOPROXY"
start=$SECONDS
mkdir -p "$DIR.tmp"
if ! (cd "$work" && go build -trimpath -ldflags "-X main.version=$VERSION" -o "$DIR.tmp/coreos-cloudinit" .) >"$work/build.log" 2>&1; then
  log "build failed:"
  cat "$work/build.log" >&2
  rm -rf "$DIR.tmp"
  exit 1
fi
{
  echo "name=coreos-cloudinit"
  echo "version=$VERSION"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$((SECONDS - start))"
  echo "go=$(go env GOVERSION)"
  echo "module=$MODULE@$VERSION"
  echo "module=gopkg.in/yaml.v1@$YAML_V1"
  echo "module=gopkg.in/yaml.v3@$YAML_V3"
  echo "replaced=github.com/coreos/yaml (refused) by a stand-in on gopkg.in/yaml.v1"
  echo "script_sha256=$stamp"
} >"$DIR.tmp/BUILD-INFO"
rm -rf "$DIR"
mv "$DIR.tmp" "$DIR"
log "built in $((SECONDS - start))s"
printf '%s\n' "$BIN"
