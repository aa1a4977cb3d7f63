/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few types and helpers the kernel-independent VT-d core (vtd_*.c)
 * needs, from the kernel when built there, from libc otherwise (fuzzing,
 * unit tests, the userspace baseline of the benchmark).
 */
#ifndef _KVM_VIOMMU_VTD_TYPES_H_
#define _KVM_VIOMMU_VTD_TYPES_H_

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/byteorder.h>
#else
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>

/* Unless tools/include's <linux/types.h> (KVM selftests) has them. */
#ifndef _TOOLS_LINUX_TYPES_H_
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#endif

/* Userspace users may have these from tools/include already. */
#ifndef BIT
#define BIT(n)			(1UL << (n))
#endif
#ifndef BIT_ULL
#define BIT_ULL(n)		(1ULL << (n))
#endif
#ifndef GENMASK_ULL
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#endif
#ifndef GENMASK
#define GENMASK(h, l)		((~0UL << (l)) & (~0UL >> (63 - (h))))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#ifndef le64_to_cpu
#define le64_to_cpu(x)		le64toh(x)
#define cpu_to_le64(x)		htole64(x)
#define le32_to_cpu(x)		le32toh(x)
#define cpu_to_le32(x)		htole32(x)
#endif
#endif

#endif /* _KVM_VIOMMU_VTD_TYPES_H_ */
