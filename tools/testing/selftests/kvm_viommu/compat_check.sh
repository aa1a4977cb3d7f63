#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Compile kvm_viommu against the next kernel we support (Debian's
# linux-source-6.12), W=1, to keep compat.h honest.  Nothing is loaded or
# run: the build only has to be clean.
#
#   compat_check.sh BUILD_DIR
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
BUILD=${1:-$TOP/build}
CACHE=${KVM_VIOMMU_CACHE:-/var/cache/kvm_viommu}
SRC=$CACHE/linux-source-6.12
export DEBIAN_FRONTEND=noninteractive

if [ ! -e /usr/src/linux-source-6.12.tar.xz ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
		linux-source-6.12 >&2
fi
# .prepared holds the options the tree was configured with.
OPTS="-e KVM -e KVM_AMD -e VFIO -e VFIO_PCI -e IOMMU_SUPPORT -e INTEL_IOMMU
	-e EVENTFD -e KVM_EXTERNAL_WRITE_TRACKING"
if [ "$(cat "$SRC/.prepared" 2>/dev/null)" != "$(echo $OPTS)" ]; then
	echo "compat: preparing $SRC (x86_64_defconfig + KVM, VFIO, IOMMU)"
	rm -rf "$SRC"
	tar -C "$CACHE" -xf /usr/src/linux-source-6.12.tar.xz
	# KVM write tracking for modules, as Debian's kernel has it (see
	# debug_kernel.sh): no prompt of its own, so the copy gets one.
	sed -i '/^config KVM_EXTERNAL_WRITE_TRACKING$/{n;s/^\tbool$/\tbool "KVM write tracking for modules"/}' \
		"$SRC/arch/x86/kvm/Kconfig"
	make -s -C "$SRC" x86_64_defconfig
	# shellcheck disable=SC2086 # OPTS is a list of words
	"$SRC"/scripts/config --file "$SRC/.config" $OPTS
	make -s -C "$SRC" olddefconfig
	make -s -C "$SRC" -j"$(nproc)" modules_prepare
	echo $OPTS > "$SRC/.prepared"
fi

# A copy, so the 6.12 objects never mix with the 6.1 ones in the tree;
# a new one each time, so every file is compiled and its warnings seen.
OUT=$BUILD/compat-6.12
rm -rf "$OUT"
"$TOP/tools/testing/selftests/kvm_viommu/copy_module.sh" "$OUT"

# KVM and VFIO are built in there, so modpost cannot resolve every
# symbol: warnings, not errors; any compiler diagnostic fails the check.
make -s -C "$SRC" M="$OUT/drivers/iommu/kvm_viommu" CONFIG_KVM_VIOMMU=m \
	W=1 KBUILD_MODPOST_WARN=1 modules > "$OUT/build.log" 2>&1 || {
	cat "$OUT/build.log"; exit 1; }
if grep -E 'warning:|error:' "$OUT/build.log"; then
	echo "compat: 6.12 build has diagnostics"
	exit 1
fi
echo "compat: builds cleanly against $(make -s -C "$SRC" kernelversion)"
