#!/usr/bin/env bash
# Installs what the tests, the bench and `kata-build` need on a Debian 12 host, then the npm
# dependencies. Idempotent and quick when everything is present; `npm test` and `npm run bench`
# run it first, so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # OCI runtimes and the busybox rootfs the container tests run
  crun runc busybox-static
  # independent protocol peers: containerd's Go ttrpc and Python grpcio
  golang-go golang-github-containerd-ttrpc-dev golang-github-gogo-protobuf-dev golang-google-protobuf-dev
  golang-goprotobuf-dev golang-golang-x-sys-dev golang-google-genproto-dev golang-google-grpc-dev
  protobuf-compiler python3-grpcio python3-grpc-tools python3-protobuf python3-pkg-resources
  # guest images: package managers, filesystems, dm-verity, partition tables
  dnf rpm createrepo-c mmdebstrap erofs-utils cryptsetup-bin e2fsprogs xfsprogs squashfs-tools gnupg fdisk cpio zstd xz-utils
  # guest kernels and booting them
  qemu-system-x86 linux-source-6.1 build-essential bc bison flex libelf-dev libssl-dev
  # qcow2 images (qemu-img); for the CLI tests a pseudo-terminal (script) and a YAML reader
  qemu-utils bsdutils python3-yaml
  # guest networking tools the agent drives
  iproute2 iptables
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
