#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds QEMU from Debian's source (the qemu source package of
# bookworm-backports, 10.0.2) with the fixes in fixes/ and the kvm_viommu
# series in patches/ on top, and prints the binary's path on its last line:
#
#   build.sh [--l0] [LINK]
#
# LINK, if given, becomes a symlink to the binary.  With --l0 it builds
# the testbed's L0 instead: the same source with fixes/ only (what L0's
# TCG needs), without the series, so that the host IOMMU the module
# runs behind is QEMU's own; L0 is why both builds have virtfs and
# plugins.  Each build of the series is kept as
# $CACHE/qemu-10.0.2-kvm_viommu-<key>/qemu-system-x86_64 (L0's as
# qemu-10.0.2-l0-<key>), <key> a hash of the patches, this script and the
# configure flags: an unchanged one is not built again.  A changed one is
# built incrementally in the tree the cache keeps for it:
#
#   $CACHE/qemu-10.0.2-kvm_viommu/src       a git tree: tag "base" is the
#                                           upstream tarball, tag "fixes"
#                                           base with fixes/, HEAD the
#                                           series
#   $CACHE/qemu-10.0.2-kvm_viommu/build     its meson build directory
#   $CACHE/qemu-10.0.2-kvm_viommu/l0-src    a worktree of src at "fixes"
#   $CACHE/qemu-10.0.2-kvm_viommu/l0-build  L0's build directory
#
# The series is applied with git am on "base" in a scratch worktree and
# src then checks that commit out, so only the files whose content changed
# get a new mtime and ninja rebuilds only what depends on them.  src is
# also where the series is edited (see README.md); build.sh refuses to
# check out over uncommitted changes there.
#
# From an empty cache: the source download, about 30 s of configure and 7
# to 10 minutes of build on 2 cores; after a change of the series, what
# the change touches.
#
# Debian's +ds tarball leaves out QEMU's bundled Python wheels and firmware
# images: configure needs meson >= 1.5 and pycotap from bookworm-backports
# (through backports.sh), and meson.build must not unpack the EDK2 images
# it does not have (the base commit says so).  The binary uses the firmware
# of Debian's QEMU packages (seabios, qemu-system-data, ipxe-qemu), which
# the testbed installs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BACKPORTS=$TOP/tools/testing/selftests/kvm_viommu/backports.sh
CACHE=${KVM_VIOMMU_CACHE:-/var/cache/kvm_viommu}
WHAT=series
if [ "${1:-}" = --l0 ]; then
	WHAT=l0
	shift
fi
LINK=${1:-}
VERSION=10.0.2
TARBALL=qemu_$VERSION+ds.orig.tar.xz

CONFIGURE=(--python=/usr/bin/python3 --target-list=x86_64-softmmu
	--without-default-features --enable-kvm --enable-tcg --enable-slirp
	--enable-fdt=system --enable-virtfs --enable-attr --enable-cap-ng
	--enable-plugins --disable-docs --disable-install-blobs
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu)
DEPS=(libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev zlib1g-dev
      libcap-ng-dev libattr1-dev
      ninja-build python3-venv flex bison gcc make pkgconf git)

log() { echo "qemu: $*" >&2; }

# The fixes, then the series, in order; the cover letter (0000) carries
# no change.
shopt -s nullglob
patches=()
nfixes=0
for p in "$HERE"/fixes/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	patches+=("$p")
	nfixes=$((nfixes + 1))
done
if [ "$WHAT" = series ]; then
	for p in "$HERE"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		patches+=("$p")
	done
fi
[ ${#patches[@]} -gt 0 ] || { log "no patches in $HERE"; exit 1; }
key=$( { echo "$WHAT"; cat "$0" "${patches[@]}"; echo "${CONFIGURE[*]}"; } |
      sha256sum | cut -c1-12)
TREE=$CACHE/qemu-$VERSION-kvm_viommu
SRC=$TREE/src
if [ "$WHAT" = series ]; then
	OUT=$CACHE/qemu-$VERSION-kvm_viommu-$key
	WORK=$SRC
	BUILD=$TREE/build
else
	OUT=$CACHE/qemu-$VERSION-l0-$key
	WORK=$TREE/l0-src
	BUILD=$TREE/l0-build
fi
BIN=$OUT/qemu-system-x86_64

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
log "building QEMU $VERSION ($WHAT) with ${#patches[@]} patches into $OUT"

missing=()
for p in "${DEPS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if ! dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson \
		2>/dev/null || echo 0)" ge 1.5 ||
   ! dpkg-query -W -f='${Status}' python3-pycotap 2>/dev/null |
		grep -q "install ok installed"; then
	"$BACKPORTS" install meson python3-pycotap
fi

git_() { git -C "$SRC" -c user.name="kvm_viommu build.sh" \
	-c user.email=build@kvm-viommu.invalid "$@"; }

# The upstream tarball of the source package (apt checks it against the
# signed index), once, as the base commit of a git tree.  The patches are
# for $VERSION: say so if the suite moved.
if ! git_ rev-parse -q --verify 'base^{commit}' > /dev/null 2>&1; then
	DL=$CACHE/qemu-source
	# A download cut short is no tarball (xz checks its own CRCs).
	if [ ! -s "$DL/$TARBALL" ] || ! xz -tq "$DL/$TARBALL"; then
		"$BACKPORTS" ensure
		mkdir -p "$DL"
		rm -f "$DL/$TARBALL"
		(cd "$DL" && apt-get source --download-only --tar-only \
			-t bookworm-backports qemu >&2)
		if [ ! -s "$DL/$TARBALL" ]; then
			log "bookworm-backports no longer has QEMU $VERSION" \
			    "($(ls "$DL")): rebase tools/qemu/patches"
			exit 1
		fi
	fi
	log "unpacking $TARBALL into $SRC"
	rm -rf "$TREE" "$TREE.tmp"
	mkdir -p "$TREE" "$TREE.tmp"
	tar -C "$TREE.tmp" -xf "$DL/$TARBALL" --no-same-owner
	mv "$TREE.tmp/qemu-$VERSION" "$SRC"
	rmdir "$TREE.tmp"
	# The +ds tarball has no EDK2 images to unpack (install_blobs off does
	# not stop meson.build from trying when bzip2 is installed).
	sed -i 's/^\( *unpack_edk2_blobs = \)bzip2.found()$/\1false/' \
		"$SRC/meson.build"
	grep -q '^ *unpack_edk2_blobs = false$' "$SRC/meson.build" ||
		{ log "meson.build: unpack_edk2_blobs not found"; exit 1; }
	git_ init -q
	git_ add -A
	git_ commit -q -m "QEMU $VERSION from Debian's $TARBALL" \
		-m "meson.build: unpack_edk2_blobs = false (the +ds tarball has no EDK2 images)"
	git_ tag base
fi

# The series as a commit on base, made in a scratch worktree so that the
# checked-out tree's files change only where the new one differs.  Nobody
# edits l0-src: what is built there goes into the cache under a key that
# says "fixes/ and nothing else".
if [ -n "$(git -C "$WORK" status --porcelain --untracked-files=no \
		2> /dev/null)" ]; then
	log "$WORK has uncommitted changes: commit them (and format-patch" \
	    "them into tools/qemu) or stash them"
	exit 1
fi
scratch=$TREE/am
git_ worktree remove --force "$scratch" 2> /dev/null || rm -rf "$scratch"
git_ worktree prune
git_ worktree add -q --detach "$scratch" base
if ! git -C "$scratch" -c user.name="kvm_viommu build.sh" \
		-c user.email=build@kvm-viommu.invalid \
		am -q --committer-date-is-author-date "${patches[@]}" >&2; then
	log "the series does not apply on QEMU $VERSION"
	exit 1
fi
series=$(git -C "$scratch" rev-parse HEAD)
fixed=$(git -C "$scratch" rev-parse "HEAD~$(( ${#patches[@]} - nfixes ))")
git_ worktree remove --force "$scratch"
git_ tag -f fixes "$fixed" > /dev/null
if [ "$WHAT" = series ]; then
	git_ update-ref refs/heads/series "$series"
else
	[ -d "$WORK" ] || git_ worktree add -q --detach "$WORK" "$series"
	# The tarball's subprojects (softfloat, keycodemapdb, ...) are
	# ignored by git, and meson would fetch them from the network.
	for d in $(git_ status --porcelain --ignored subprojects |
		   sed -n 's|^!! \(subprojects/.*\)/$|\1|p'); do
		[ -e "$WORK/$d" ] || cp -a "$SRC/$d" "$WORK/$d"
	done
fi
if [ "$(git -C "$WORK" rev-parse 'HEAD^{tree}')" != \
     "$(git_ rev-parse "$series^{tree}")" ]; then
	git -C "$WORK" checkout -q --detach "$series"
fi

# Configured once; again only if the flags change.
flags="${CONFIGURE[*]}"
if [ "$(cat "$BUILD/kvm_viommu.configure" 2>/dev/null)" != "$flags" ]; then
	log "configure"
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	(cd "$BUILD" && "$WORK/configure" "${CONFIGURE[@]}") \
		> "$BUILD/configure.log" 2>&1 ||
		{ tail -20 "$BUILD/configure.log" >&2; exit 1; }
	echo "$flags" > "$BUILD/kvm_viommu.configure"
fi

log "ninja -j$(nproc) qemu-system-x86_64"
ninja -C "$BUILD" -j"$(nproc)" qemu-system-x86_64 > "$BUILD/build.log" 2>&1 ||
	{ grep -A5 -E 'error|FAILED' "$BUILD/build.log" | head -40 >&2; exit 1; }
if [ "$WHAT" = series ]; then
	"$BUILD/qemu-system-x86_64" -device intel-iommu,help 2>/dev/null |
		grep -q kvm-viommu ||
		{ log "the binary has no kvm-viommu property"; exit 1; }
fi
"$BUILD/qemu-system-x86_64" -device help 2>/dev/null |
	grep -q virtio-9p-pci || { log "the binary has no virtfs (L0 needs it)"; exit 1; }

# Older builds of the same kind go, all but the newest: another checkout
# (a branch with other patches, or this one before an edit of this
# script) may be running that one.  Each build's directory is new, so
# its time is the build's.
[ "$WHAT" = series ] && kind=kvm_viommu || kind=l0
rm -rf "$OUT.tmp"
keep=
for old in "$CACHE"/qemu-"$VERSION"-"$kind"-*; do
	[ -d "$old" ] || continue
	if [ -z "$keep" ]; then
		keep=$old
	elif [ "$old" -nt "$keep" ]; then
		rm -rf "$keep"
		keep=$old
	else
		rm -rf "$old"
	fi
done
mkdir -p "$OUT.tmp"
cp "$BUILD/qemu-system-x86_64" "$OUT.tmp/"
cp "$BUILD/build.log" "$OUT.tmp/build.log"
echo "series $series, built in $(( $(date +%s) - start )) s" >> "$OUT.tmp/build.log"
mv "$OUT.tmp" "$OUT"
log "built in $(( $(date +%s) - start )) s"
done_
