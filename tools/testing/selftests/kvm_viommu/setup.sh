#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what building and testing kvm_viommu needs, from Debian's packages
# only, and print the make variables that describe it.  Idempotent: a second
# run with everything in place touches nothing and takes a second.
#
#   setup.sh [-k L1_KERNEL] [make-include-file]
#
# L1_KERNEL, the testbed's L1 kernel (and its L2 Linux guest's):
#   6.1      Debian 12's kernel, what linux-image-amd64 points at (default)
#   6.12     Debian 12's 6.12 kernel, what linux-image-6.12-amd64 points at
#   RELEASE  that kernel exactly, e.g. 6.12.95+deb12-amd64 (a name apt
#            knows as linux-image-RELEASE, bookworm-backports' included)
# The image package is unpacked into the cache, and so are its headers
# with the headers' common part and kbuild: nothing kernel-related is
# installed on this machine (6.12's headers package depends on its image).
#
# QEMU: qemu-system-x86 10.0.x from bookworm-backports (backports.sh, at
# pin priority 1: only the packages named come from there, and those of
# their dependencies that Debian 12 cannot satisfy) is the anchor
# VMM inside L1, and its firmware is L0's; L0 itself is built from the
# same source with tools/qemu/fixes (make qemu-l0).  Debian 12's own QEMU 7.2 stays as a
# second anchor, unpacked into the cache with its firmware (run_qemu.sh
# runs it with -L and QEMU_MODULE_DIR pointing there).
#
# linux-source-6.1 provides checkpatch.pl, the kselftest harness and the KVM
# selftest library, and is unpacked into the cache as well.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${KVM_VIOMMU_CACHE:-/var/cache/kvm_viommu}
L1_KERNEL=6.1
if [ "${1:-}" = -k ]; then
	L1_KERNEL=$2
	shift 2
fi
OUT=${1:-/dev/stdout}

log() { echo "setup: $*" >&2; }

# One setup at a time per cache: two makes started together would each
# delete and unpack the same trees, and trust what the other left half
# done.  apt and dpkg wait for their own locks (a first boot's
# unattended-upgrades) up to ten minutes.
mkdir -p "$CACHE"
exec 9> "$CACHE/setup.lock"
flock 9
APT_LOCK=(-o DPkg::Lock::Timeout=600)

need_pkgs=(busybox-static sparse linux-source-6.1 kmod cpio
	   xz-utils rsync bc flex bison libelf-dev gcc make perl pciutils
	   python3 libssl-dev acpica-tools pahole socat
	   debhelper dh-dkms lintian adduser patch gdb)

export DEBIAN_FRONTEND=noninteractive
apt_updated=
# Once a run, and again after a while if it fails: DPkg::Lock::Timeout
# does not cover the lists' lock, which apt-daily may hold at first boot.
apt_update() {
	local try
	[ -z "$apt_updated" ] || return 0
	log "apt-get update"
	for try in 1 2 3 4 5; do
		if apt-get "${APT_LOCK[@]}" update -qq >&2; then
			apt_updated=1
			return
		fi
		log "apt-get update failed (try $try of 5)"
		[ "$try" = 5 ] || sleep 30
	done
	return 1
}

# Succeeds either way: dpkg-query fails for a package it has never seen,
# and under pipefail "v=$(installed P)" would end the script silently.
installed() { # installed PKG: its version, empty if not installed
	{ dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || :; } |
		sed -n 's/^install ok installed //p'
}

missing=()
for p in "${need_pkgs[@]}"; do
	[ -n "$(installed "$p")" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	log "installing ${missing[*]}"
	apt-get "${APT_LOCK[@]}" install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
fi

# Downloads PKG (=VERSION if given) into DIR; apt's candidate otherwise.
download() { # download DIR PKG[=VERSION]
	if ! (cd "$1" && apt-get download -qq "$2" >&2 2>/dev/null); then
		apt_update
		(cd "$1" && apt-get download "$2" >&2)
	fi
}

# The newest version of PKG that is not bookworm-backports'.  awk reads
# to the end (an early exit could kill apt-cache with SIGPIPE, which
# pipefail would report); the caller says what an empty answer means.
debian12_version() {
	{ apt-cache madison "$1" 2>/dev/null || :; } |
		awk -F'|' '$3 !~ /-backports/ && $3 ~ /Packages/ && !v {
			v = $2; gsub(/ /, "", v) } END { print v }'
}

# Every version of PKG apt knows of, one a line.
debian12_version_all() {
	{ apt-cache madison "$1" 2>/dev/null || :; } |
		awk -F'|' '{ v = $2; gsub(/ /, "", v); print v }'
}

# QEMU 10 from bookworm-backports, unless some 10.x is installed already
# (a Debian 12 7.2 in its place is upgraded).
qemu_ver=$(installed qemu-system-x86)
if [ -z "$qemu_ver" ] || dpkg --compare-versions "$qemu_ver" lt 1:10; then
	log "qemu-system-x86 ${qemu_ver:-not installed}: taking 10.x from bookworm-backports"
	"$HERE/backports.sh" install qemu-system-x86
fi

# Debian 12's QEMU 7.2, unpacked with its own data files and seabios.
Q72=$CACHE/qemu-7.2
if [ ! -e "$Q72/.done" ]; then
	apt_update
	tmp=$(mktemp -d "$CACHE/deb.XXXXXX")
	for p in qemu-system-x86 qemu-system-common qemu-system-data seabios; do
		v=$(debian12_version "$p")
		[ -n "$v" ] || { log "no Debian 12 version of $p"; exit 1; }
		log "unpacking $p $v into $Q72"
		download "$tmp" "$p=$v"
	done
	rm -rf "$Q72"
	mkdir -p "$Q72"
	for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$Q72"; done
	# The libraries it links against, should this machine lack some:
	# its packages' dependencies, less the QEMU and firmware parts.
	# (grep without -q reads all of ldd's output: no SIGPIPE.)
	if ldd "$Q72/usr/bin/qemu-system-x86_64" | grep 'not found' >/dev/null
	then
		deps=$(for d in "$tmp"/qemu-system-{x86,common}_*.deb; do
			dpkg-deb -f "$d" Depends | tr ',' '\n'
		       done | { grep -vE 'qemu-system|seabios|ipxe|ovmf' || :; } |
		       paste -sd, -)
		log "installing the libraries QEMU 7.2 needs"
		apt-get "${APT_LOCK[@]}" satisfy -y -qq \
			--no-install-recommends "$deps" >&2
	fi
	rm -rf "$tmp"
	"$Q72/usr/bin/qemu-system-x86_64" --version | sed -n 1p > "$Q72/.done"
fi

# What install_test.sh installs in L1's overlay beside the project's
# packages: dkms, which kvm-viommu-dkms depends on, and udev (the version
# of this machine's libudev1, which it needs exactly), whose daemon applies
# the package's rule to /dev/kvm_viommu.  Downloaded, never installed here.
# The archive keeps only a suite's newest build: on a machine not upgraded
# since, that libudev1's udev may be gone, and then the current udev goes
# with its own libudev1, which replaces the machine's in the overlay only.
IDEBS=$CACHE/install-debs
udev_ver=$(installed libudev1)
if [ "$(cat "$IDEBS/.done" 2>/dev/null)" != "udev=$udev_ver" ]; then
	log "downloading dkms and udev${udev_ver:+ $udev_ver} into $IDEBS"
	rm -rf "$IDEBS"
	mkdir -p "$IDEBS"
	download "$IDEBS" dkms
	apt_update
	if [ -z "$udev_ver" ] ||
	   [[ $'\n'$(debian12_version_all udev)$'\n' == *$'\n'"$udev_ver"$'\n'* ]]
	then
		download "$IDEBS" "udev${udev_ver:+=$udev_ver}"
	else
		log "udev $udev_ver has left the archive: the current udev" \
		    "and libudev1 instead"
		download "$IDEBS" udev
		download "$IDEBS" libudev1
	fi
	echo "udev=$udev_ver" > "$IDEBS/.done"
fi

# The L1 kernel's release: remembered in the cache, so that later runs
# don't re-resolve it (and the testbed does not move under a user).
case "$L1_KERNEL" in
6.1)	memo=$CACHE/kver; meta=linux-image-amd64 ;;
6.12)	memo=$CACHE/kver-6.12; meta=linux-image-6.12-amd64 ;;
*)	memo=; meta= ;;
esac
KVER=
resolved=
if [ -z "$meta" ]; then
	KVER=$L1_KERNEL
elif [ "$L1_KERNEL" = 6.1 ] && [ -n "${KVM_VIOMMU_KVER:-}" ]; then
	KVER=$KVM_VIOMMU_KVER
elif [ -s "$memo" ]; then
	KVER=$(cat "$memo")
fi
if [ -z "$KVER" ]; then
	apt_update
	# Debian 12's own suites: bookworm-backports' pin keeps its
	# newer linux-image-amd64 out of the candidate.
	KVER=$({ apt-cache depends "$meta" 2>/dev/null || :; } |
	       sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | sed -n 1p)
	[ -n "$KVER" ] || { log "cannot resolve $meta"; exit 1; }
	resolved=1
fi

KIMG=$CACHE/image-$KVER
if [ ! -e "$KIMG/.done" ]; then
	log "unpacking linux-image-$KVER into $KIMG"
	tmp=$(mktemp -d "$CACHE/deb.XXXXXX")
	download "$tmp" "linux-image-$KVER"
	rm -rf "$KIMG"
	mkdir -p "$KIMG"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$KIMG"
	rm -rf "$tmp"
	touch "$KIMG/.done"
fi

# Its headers, for kbuild: the flavour's package, the common part and
# kbuild's tools (the versions the flavour's package names), unpacked into
# one root, whose flavour Makefile then includes the common one there.
KHDR=$CACHE/headers-$KVER
KDIR=$KHDR/usr/src/linux-headers-$KVER
if [ ! -e "$KHDR/.done" ]; then
	log "unpacking linux-headers-$KVER (and common, kbuild) into $KHDR"
	tmp=$(mktemp -d "$CACHE/deb.XXXXXX")
	download "$tmp" "linux-headers-$KVER"
	ver=$(dpkg-deb -f "$tmp"/linux-headers-*.deb Version)
	for p in $(dpkg-deb -f "$tmp"/linux-headers-*.deb Depends | tr ',|' '\n' |
		   sed -n 's/^ *\(linux-\(headers-.*-common\|kbuild-[^ ]*\)\).*/\1/p' |
		   sort -u); do
		# kbuild is named for the version (>=) or the ABI (=).
		download "$tmp" "$p=$ver" 2>/dev/null || download "$tmp" "$p"
	done
	rm -rf "$KHDR"
	mkdir -p "$KHDR"
	for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$KHDR"; done
	rm -rf "$tmp"
	sed -i "s|^include /usr/src/|include $KHDR/usr/src/|" "$KDIR/Makefile"
	[ -e "$KDIR/scripts/basic/fixdep" ] ||
		{ log "no kbuild tools under $KDIR/scripts"; exit 1; }
	touch "$KHDR/.done"
fi
# Remembered once its image and headers are in the cache: a release
# that failed to download is resolved again next time.
[ -z "$resolved" ] || [ -z "$memo" ] || echo "$KVER" > "$memo"

KSRC=$CACHE/linux-source-6.1
if [ ! -e "$KSRC/.done" ]; then
	log "unpacking linux-source-6.1 into $KSRC"
	rm -rf "$KSRC"
	tar -C "$CACHE" -xf /usr/src/linux-source-6.1.tar.xz
	log "installing uapi headers for the KVM selftest library"
	make -s -C "$KSRC" headers_install INSTALL_HDR_PATH=usr >&2
	touch "$KSRC/.done"
fi

cat > "$OUT" <<MK
# Generated by tools/testing/selftests/kvm_viommu/setup.sh -k $L1_KERNEL
KVM_VIOMMU_CACHE := $CACHE
L1_KERNEL := $L1_KERNEL
KVER := $KVER
KDIR := $KDIR
KIMG := $KIMG
KSRC := $KSRC
QEMU72 := $Q72
INSTALL_DEBS := $IDEBS
MK
