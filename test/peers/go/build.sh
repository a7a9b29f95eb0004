#!/usr/bin/env bash
# Builds the Go ttrpc test peers (kata-ttrpc-client, kata-ttrpc-health-server)
# offline from Debian's Go packages, in GOPATH mode, into test/peers/go/build/.
#
#   test/peers/go/build.sh [--force]
#
# Prints one JSON line on stdout:
#   {"client":"/abs/kata-ttrpc-client","server":"/abs/kata-ttrpc-health-server","cached":true,"seconds":0.01}
# Progress and errors go to stderr. Nothing is rebuilt while a hash of
# (this script, Go sources, protos, go/protoc/package versions) matches build/.stamp.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proto_src=$(cd "$here/../../../agent/proto" && pwd)
build=$here/build
bin=$build/bin
protos=(types.proto health.proto csi.proto oci.proto agent.proto)
# Debian packages whose versions feed the cache key.
debs=(golang-go golang-github-containerd-ttrpc-dev golang-github-gogo-protobuf-dev golang-google-grpc-dev protobuf-compiler)
force=0
[[ ${1:-} == --force ]] && force=1

start=$(date +%s%N)
log() { echo "peers/go: $*" >&2; }
result() {
	local ms=$((($(date +%s%N) - start) / 1000000))
	printf '{"client":"%s","server":"%s","cached":%s,"seconds":%s}\n' \
		"$bin/kata-ttrpc-client" "$bin/kata-ttrpc-health-server" "$1" \
		"$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}

# Fail early with the Debian package to install instead of a Go import error.
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_path() { [[ -e $1 ]] || missing+=("$2"); }
need_cmd go golang-go
need_cmd protoc protobuf-compiler
gocode=/usr/share/gocode/src
need_path $gocode/github.com/containerd/ttrpc/cmd/protoc-gen-gogottrpc golang-github-containerd-ttrpc-dev
need_path $gocode/github.com/gogo/protobuf/jsonpb golang-github-gogo-protobuf-dev
need_path $gocode/google.golang.org/grpc/status golang-google-grpc-dev
need_path $gocode/google.golang.org/genproto/googleapis/rpc/status golang-google-genproto-dev
need_path $gocode/github.com/golang/protobuf/proto golang-github-golang-protobuf-1-3-dev
need_path $gocode/golang.org/x/sys/unix golang-golang-x-sys-dev
need_path $gocode/github.com/sirupsen/logrus golang-github-sirupsen-logrus-dev
if ((${#missing[@]})); then
	log "missing Debian packages; install them with: apt-get install -y ${missing[*]}"
	exit 1
fi

mkdir -p "$build"
# Serialise concurrent builds (parallel test workers) on one lock.
exec 9>"$build/.lock"
flock 9

key=$(
	cd "$here"
	{
		sha256sum build.sh
		find src -type f -name '*.go' | LC_ALL=C sort | xargs sha256sum
		(cd "$proto_src" && sha256sum "${protos[@]}")
		go version
		protoc --version
		dpkg-query -W "${debs[@]}" 2>/dev/null || true
	} | sha256sum | cut -d' ' -f1
)
if ((!force)) && [[ -x $bin/kata-ttrpc-client && -x $bin/kata-ttrpc-health-server && $(cat "$build/.stamp" 2>/dev/null) == "$key" ]]; then
	result true
	exit 0
fi
rm -f "$build/.stamp"

export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0
export GOPATH=$build/gopath:$here:/usr/share/gocode GOCACHE=$build/gocache

# gogo 1.3.2 predates proto3 `optional`, and protoc refuses to run a plugin that
# does not declare support for it. `optional T x = N;` is a synthetic one-field
# oneof, so rewriting it to exactly that gives identical wire bytes and JSON.
rm -rf "$build/proto" "$build/gopath"
mkdir -p "$build/proto" "$build/gopath/src" "$bin"
for f in "${protos[@]}"; do
	sed -E 's/^([[:space:]]*)optional[[:space:]]+([A-Za-z0-9_.]+)[[:space:]]+([A-Za-z0-9_]+)[[:space:]]*=[[:space:]]*([0-9]+)[[:space:]]*;/\1oneof _\3 { \2 \3 = \4; }/' \
		"$proto_src/$f" >"$build/proto/$f"
done

log "building protoc-gen-gogottrpc"
go build -o "$bin/protoc-gen-gogottrpc" github.com/containerd/ttrpc/cmd/protoc-gen-gogottrpc

# Debian's ttrpc 1.1.1 marshals with gogo, so messages must be gogo ones
# (APIv2 messages panic in it). Empty maps to gogo's types for the same reason,
# and gogo's copy of empty.proto is used, so libprotobuf-dev is not needed.
# One protoc run per Go package: the gogo generator rejects mixed packages.
log "generating gogo messages and ttrpc stubs"
gen() {
	protoc -I "$build/proto" -I $gocode/github.com/gogo/protobuf/protobuf \
		--plugin=protoc-gen-gogottrpc="$bin/protoc-gen-gogottrpc" \
		--gogottrpc_out=plugins=ttrpc,Mgoogle/protobuf/empty.proto=github.com/gogo/protobuf/types:"$build/gopath/src" \
		"$@"
}
gen types.proto
gen health.proto csi.proto oci.proto agent.proto

log "building peers"
for cmd in kata-ttrpc-client kata-ttrpc-health-server; do
	# Build beside and rename: a running old binary cannot be overwritten (ETXTBSY).
	go build -o "$bin/.$cmd.new" "katapeers/cmd/$cmd"
	mv -f "$bin/.$cmd.new" "$bin/$cmd"
done

echo "$key" >"$build/.stamp"
result false
