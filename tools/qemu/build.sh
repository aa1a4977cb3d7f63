#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds QEMU from Debian's source (the qemu source package of
# bookworm-backports, 10.0.2) with the kvm_viommu series in patches/, once,
# into the cache, and prints the binary's path on its last line:
#
#   build.sh [LINK]
#
# LINK, if given, becomes a symlink to the binary.  The build lives in
# $CACHE/qemu-10.0.2-kvm_viommu-<key>, <key> a hash of the patches, this
# script and the configure flags: changing any of them builds anew, as
# debug_kernel.sh rebuilds the debug kernel when its options change.  Only
# the binary and the build log are kept.  From an empty cache: the source
# download, about 30 s of configure and about 7 minutes of build on 2 cores.
#
# Debian's +ds tarball leaves out QEMU's bundled Python wheels and firmware
# images: configure needs meson >= 1.5 and pycotap from bookworm-backports
# (through backports.sh), and meson.build must not unpack the EDK2 images
# it does not have.  The binary uses the firmware of Debian's QEMU packages
# (seabios, qemu-system-data, ipxe-qemu), which the testbed installs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BACKPORTS=$TOP/tools/testing/selftests/kvm_viommu/backports.sh
CACHE=${KVM_VIOMMU_CACHE:-/var/cache/kvm_viommu}
LINK=${1:-}
VERSION=10.0.2
TARBALL=qemu_$VERSION+ds.orig.tar.xz

CONFIGURE=(--python=/usr/bin/python3 --target-list=x86_64-softmmu
	--without-default-features --enable-kvm --enable-tcg --enable-slirp
	--enable-fdt=system --disable-docs --disable-install-blobs
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu)
DEPS=(libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev zlib1g-dev
      ninja-build python3-venv flex bison gcc make pkgconf)

log() { echo "qemu: $*" >&2; }

# The series, in order; the cover letter (0000) carries no change.
shopt -s nullglob
patches=()
for p in "$HERE"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	patches+=("$p")
done
[ ${#patches[@]} -gt 0 ] || { log "no patches in $HERE/patches"; exit 1; }
key=$( { cat "$0" "${patches[@]}"; echo "${CONFIGURE[*]}"; } |
      sha256sum | cut -c1-12)
DIR=$CACHE/qemu-$VERSION-kvm_viommu-$key
BIN=$DIR/qemu-system-x86_64

done_() {
	[ -z "$LINK" ] || ln -sfn "$BIN" "$LINK"
	echo "$BIN"
	exit 0
}

mkdir -p "$CACHE"
# One build at a time; a second caller waits and then finds it built.
exec 9> "$CACHE/qemu.lock"
flock 9
[ ! -x "$BIN" ] || done_

start=$(date +%s)
log "building QEMU $VERSION with ${#patches[@]} patches into $DIR"

missing=()
for p in "${DEPS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
fi
if ! dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson \
		2>/dev/null || echo 0)" ge 1.5 ||
   ! dpkg-query -W -f='${Status}' python3-pycotap 2>/dev/null |
		grep -q "install ok installed"; then
	"$BACKPORTS" install meson python3-pycotap
fi

# The upstream tarball of the source package (apt checks it against the
# signed index).  The patches are for $VERSION: say so if the suite moved.
SRC=$CACHE/qemu-source
if [ ! -s "$SRC/$TARBALL" ]; then
	"$BACKPORTS" ensure
	mkdir -p "$SRC"
	(cd "$SRC" && apt-get source --download-only --tar-only \
		-t bookworm-backports qemu >&2)
	if [ ! -s "$SRC/$TARBALL" ]; then
		log "bookworm-backports no longer has QEMU $VERSION" \
		    "($(ls "$SRC")): rebase tools/qemu/patches"
		exit 1
	fi
fi

tmp=$DIR.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
tar -C "$tmp" -xf "$SRC/$TARBALL" --no-same-owner
mv "$tmp/qemu-$VERSION" "$tmp/src"
for p in "${patches[@]}"; do
	patch -d "$tmp/src" -p1 --batch --quiet < "$p" ||
		{ log "$(basename "$p") does not apply"; exit 1; }
done
# The +ds tarball has no EDK2 images to unpack (install_blobs off does not
# stop meson.build from trying when bzip2 is installed).
sed -i 's/^\( *unpack_edk2_blobs = \)bzip2.found()$/\1false/' \
	"$tmp/src/meson.build"
grep -q '^ *unpack_edk2_blobs = false$' "$tmp/src/meson.build" ||
	{ log "meson.build: unpack_edk2_blobs not found"; exit 1; }

mkdir "$tmp/build"
log "configure"
(cd "$tmp/build" && ../src/configure "${CONFIGURE[@]}") > "$tmp/build.log" 2>&1 ||
	{ tail -20 "$tmp/build.log" >&2; exit 1; }
log "ninja -j$(nproc) qemu-system-x86_64"
ninja -C "$tmp/build" -j"$(nproc)" qemu-system-x86_64 >> "$tmp/build.log" 2>&1 ||
	{ grep -A5 -E 'error|FAILED' "$tmp/build.log" | head -40 >&2; exit 1; }
cp "$tmp/build/qemu-system-x86_64" "$tmp/"
"$tmp/qemu-system-x86_64" -device intel-iommu,help 2>/dev/null |
	grep -q kvm-viommu || { log "the binary has no kvm-viommu property"; exit 1; }
rm -rf "$tmp/src" "$tmp/build"
echo "built in $(( $(date +%s) - start )) s" >> "$tmp/build.log"

# Older builds of the series go; this one takes their place.
for old in "$CACHE"/qemu-*-kvm_viommu-*; do
	[ "$old" = "$tmp" ] || rm -rf "$old"
done
mv "$tmp" "$DIR"
log "built in $(( $(date +%s) - start )) s"
done_
