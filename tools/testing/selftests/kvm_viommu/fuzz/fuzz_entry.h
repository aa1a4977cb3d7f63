/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The entry point every fuzz target defines, for libFuzzer and for
 * replay.c.  Its name is libFuzzer's, CamelCase included.
 */
#ifndef _KVM_VIOMMU_FUZZ_ENTRY_H_
#define _KVM_VIOMMU_FUZZ_ENTRY_H_

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* _KVM_VIOMMU_FUZZ_ENTRY_H_ */
