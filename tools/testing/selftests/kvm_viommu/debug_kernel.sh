#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-debug: the whole suite on a debug L1 kernel.  The kernel is
# built once from Debian's linux-source-6.1 (x86_64_defconfig, everything
# the testbed needs built in, plus KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# kmemleak and UBSAN, and memory cgroups for the charging test) and cached
# outside the repository; kvm_viommu is built against it from a copy, and
# vmtest.sh boots it as L1 (two CPUs, unless VMTEST_SMP says otherwise);
# the L2 Linux guest stays Debian's 6.1.  vmtest.sh fails the run on any
# splat in L1's log.
#
#   debug_kernel.sh BUILD_DIR
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
BUILD=${1:-$TOP/build}
CACHE=${KVM_VIOMMU_CACHE:-/var/cache/kvm_viommu}
DBG=$CACHE/debug
SRC=$DBG/linux-source-6.1

# What the testbed needs built in, and the debug options.  A change here
# rebuilds the kernel: .built holds the options it was built with.
OPTS="-e KVM -e KVM_AMD -e VFIO -e VFIO_PCI -e VFIO_IOMMU_TYPE1
	-e IOMMU_SUPPORT -e INTEL_IOMMU -e INTEL_IOMMU_DEFAULT_ON
	-e IRQ_REMAP -e PCI_MSI -e EVENTFD -e VIRTIO -e VIRTIO_PCI
	-e NET_9P -e NET_9P_VIRTIO -e 9P_FS -e NETFS_SUPPORT
	-e DEBUG_FS -e TRACING -e FTRACE -e CGROUPS -e MEMCG
	-e KASAN -e KASAN_GENERIC -e KASAN_INLINE -e PROVE_LOCKING
	-e DEBUG_ATOMIC_SLEEP -e DEBUG_KMEMLEAK
	-e DEBUG_KMEMLEAK_AUTO_SCAN -e SOFTLOCKUP_DETECTOR
	-e DETECT_HUNG_TASK -e UBSAN -d DEBUG_INFO
	-d DEBUG_INFO_DWARF5 -e DEBUG_INFO_NONE -e MODULES
	-e MODULE_UNLOAD -d MODULE_SIG -d RANDOMIZE_BASE
	-e KVM_EXTERNAL_WRITE_TRACKING -e TMPFS -e DEVTMPFS
	-e BLK_DEV_INITRD"
# (One line of the words, as .built has always held them, and a note of
# the write-tracking prompt below.)
# shellcheck disable=SC2086,SC2116
STAMP="$(echo $OPTS) track-prompt"

if [ "$(cat "$SRC/.built" 2>/dev/null)" != "$STAMP" ]; then
	echo "debug: building the debug L1 kernel in $SRC (once: about" \
	     "11 minutes on 2 cores)"
	rm -rf "$SRC" "$DBG/mods"
	mkdir -p "$DBG"
	tar -C "$DBG" -xf /usr/src/linux-source-6.1.tar.xz
	# KVM write tracking for modules (the sidecore): Debian's kernels
	# have it, selected by the i915 GVT option they build; it has no
	# prompt of its own, so this copy gets one rather than i915.
	sed -i '/^config KVM_EXTERNAL_WRITE_TRACKING$/{n;s/^\tbool$/\tbool "KVM write tracking for modules"/}' \
		"$SRC/arch/x86/kvm/Kconfig"
	make -s -C "$SRC" x86_64_defconfig
	# shellcheck disable=SC2086 # OPTS is a list of words
	"$SRC"/scripts/config --file "$SRC/.config" $OPTS
	make -s -C "$SRC" olddefconfig
	make -s -C "$SRC" -j"$(nproc)" bzImage modules
	make -s -C "$SRC" modules_install INSTALL_MOD_PATH="$DBG/mods"
	echo "$STAMP" > "$SRC/.built"
fi
REL=$(make -s -C "$SRC" kernelrelease)

# Our module for that kernel, from a copy (the tree's objects are 6.1's).
OUT=$BUILD/debug
"$TOP/tools/testing/selftests/kvm_viommu/copy_module.sh" "$OUT"
make -s -C "$SRC" M="$OUT/drivers/iommu/kvm_viommu" CONFIG_KVM_VIOMMU=m \
	modules

VMTEST_KERNEL=$SRC/arch/x86/boot/bzImage VMTEST_KVER=$REL \
VMTEST_KMODS=$DBG/mods/lib/modules/$REL VMTEST_KDIR=$SRC \
VMTEST_KO=$OUT/drivers/iommu/kvm_viommu/kvm_viommu.ko \
VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-3600} \
VMTEST_BOOT_LIMIT=${VMTEST_BOOT_LIMIT:-900} \
	exec "$TOP/tools/testing/selftests/kvm_viommu/vmtest.sh" check
