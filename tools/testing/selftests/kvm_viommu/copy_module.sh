#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Copy the module's sources and its uapi header into DIR, laid out as in
# the repository, without any build output: a clean tree to build the
# module for another kernel, so its objects never mix with the 6.1 ones.
#
#   copy_module.sh DIR
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
OUT=$1
rm -rf "$OUT"
mkdir -p "$OUT/drivers/iommu" "$OUT/include/uapi/linux"
cp -r "$TOP/drivers/iommu/kvm_viommu" "$OUT/drivers/iommu/"
find "$OUT" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o \
	-name '.*.cmd' -o -name Module.symvers -o -name modules.order \) \
	-delete
cp "$TOP/include/uapi/linux/kvm_viommu.h" "$OUT/include/uapi/linux/"
