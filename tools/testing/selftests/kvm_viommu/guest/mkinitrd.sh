#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds the L2 guest's initramfs: a static busybox, edu_dma.ko, and an
# /init that loads the module, reports on the console and powers off.
#
#   mkinitrd.sh OUT.cpio.gz KO [EXTRA_DIR]
#
# EXTRA_DIR, if given, is copied over the image's root; an executable
# /guest_hook in it runs after the module has reported, its output on the
# console.
#
# What /init prints, one line each, for the caller to parse:
#   guest: start
#   guest: edu_dma: ...          every line edu_dma logged, in order
#   guest: iommu: ...            the kernel's DMAR/IOMMU setup lines
#   guest: dmar_error: ...       each kernel line reporting a DMAR fault/error
#   guest: dmar_errors=N
#   guest: done
# A kernel parameter edu_dma.NAME=VALUE becomes the module's parameter NAME:
# the kernel keeps such parameters for built-in code only, and busybox's
# insmod does not read the command line.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: mkinitrd.sh OUT.cpio.gz KO [EXTRA_DIR]" >&2
	exit 2
fi
OUT=$1
KO=$2
EXTRA=${3:-}
BUSYBOX=${BUSYBOX:-/bin/busybox}

[ -r "$KO" ] || { echo "mkinitrd: no module at $KO" >&2; exit 2; }
[ -z "$EXTRA" ] || [ -d "$EXTRA" ] ||
	{ echo "mkinitrd: $EXTRA is not a directory" >&2; exit 2; }
# The image has no libraries: busybox must be the static build.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "mkinitrd: $BUSYBOX is dynamically linked" >&2
	exit 2
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/edu_initrd.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$BUSYBOX" "$root/bin/busybox"
cp "$KO" "$root/edu_dma.ko"
# Debug info only makes the image bigger.
strip --strip-debug "$root/edu_dma.ko" 2>/dev/null || true
[ -z "$EXTRA" ] || cp -a "$EXTRA"/. "$root"/

cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec > /dev/console 2>&1
echo "guest: start"

args=
for w in $(cat /proc/cmdline); do
	case "$w" in
	edu_dma.*=*) args="$args ${w#edu_dma.}" ;;
	esac
done
insmod /edu_dma.ko $args || echo "guest: insmod failed"

dmesg > /kmsg.txt
# (Without the kernel's own notes on loading an unsigned module.)
grep 'edu_dma: ' /kmsg.txt | grep -vE 'taints kernel|verification failed' |
	sed 's/^.*edu_dma: /guest: edu_dma: /'
grep -E 'DMAR|iommu|IOMMU' /kmsg.txt | grep -viE 'edu_dma: |command line' |
	sed 's/^\[[ 0-9.]*\] //; s/^/guest: iommu: /'

[ ! -x /guest_hook ] || /guest_hook

# What Linux's intel-iommu (6.1's and 6.12's alike) logs when something
# went wrong: a primary fault ("DRHD: handling fault status", then "[DMA
# Read NO_PASID] Request device [..] fault addr .."), an
# interrupt-remapping fault, an invalidation queue error or time-out, or a
# failed setup step.
dmesg > /kmsg.txt
pat='DMAR(-IR)?: .*(handling fault|Request device \[|VT-d detected|QI HEAD|Invalidation .*(Error|Time-out)|[Ff]ail|ERROR)'
grep -E "$pat" /kmsg.txt | sed 's/^\[[ 0-9.]*\] //; s/^/guest: dmar_error: /'
echo "guest: dmar_errors=$(grep -cE "$pat" /kmsg.txt)"
echo "guest: done"
# The console's UART sends what userspace wrote from its interrupt, and
# poweroff does not wait for it: on a slow L1 the last lines were lost.
# Changing a setting with stty waits until the output has drained
# (TCSADRAIN).
stty -F /dev/console -echo
poweroff -f
INIT
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
