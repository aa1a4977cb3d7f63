#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Copy the module's sources, its uapi header and the L2 guest module's
# sources into DIR, laid out as in the repository, without the tree's build
# output: a tree to build both modules for another kernel, so their objects
# never mix with the tree's own (6.1) ones.  The copy is kept in step with
# rsync (timestamps kept, sources gone from the tree removed), so the
# objects built in DIR last time stay and kbuild rebuilds only what changed.
#
#   copy_module.sh DIR
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
OUT=$1
GUEST=tools/testing/selftests/kvm_viommu/guest
mkdir -p "$OUT/drivers/iommu/kvm_viommu" "$OUT/include/uapi/linux" \
	"$OUT/$GUEST"

# What kbuild writes; excluded, so neither copied nor deleted.
built=(--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c'
       --exclude='.*.cmd' --exclude=Module.symvers --exclude=modules.order
       --exclude='.*.d' --exclude='.tmp_*')
rsync -a --delete "${built[@]}" "$TOP/drivers/iommu/kvm_viommu/" \
	"$OUT/drivers/iommu/kvm_viommu/"
rsync -a "$TOP/include/uapi/linux/kvm_viommu.h" "$OUT/include/uapi/linux/"
rsync -a --delete "${built[@]}" --include=Kbuild --include='*.[ch]' \
	--exclude='*' "$TOP/$GUEST/" "$OUT/$GUEST/"
