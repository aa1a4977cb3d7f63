// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unit's statistics, listed once: each field of the uapi's struct
 * kvm_viommu_stats, where its value comes from, and its name in debugfs.
 * KVM_VIOMMU_GET_STATS and the debugfs "stats" file both read this table.
 */
#include <linux/kvm_viommu.h>
#include <linux/seq_file.h>
#include <linux/stddef.h>

#include "kvm_viommu.h"

enum kvm_viommu_stat_src {
	STAT_VTD,		/* struct vtd_stats, the VT-d core's */
	STAT_UNIT,		/* struct kvm_viommu_counters */
	STAT_DOORBELLS,	/* the wake-ups' atomic counter */
	STAT_TRACKED,	/* the page-track notifier's */
};

struct kvm_viommu_stat_desc {
	const char *name;
	u16 uapi_off;
	u8 src;
	u16 src_off;
};

/* Where each field is: in the uapi struct, and in its source. */
#define UAPI(field)	offsetof(struct kvm_viommu_stats, field)
#define UNIT(field)	offsetof(struct kvm_viommu_counters, field)
#define VTD(field)	offsetof(struct vtd_stats, field)

static const struct kvm_viommu_stat_desc kvm_viommu_stat_descs[] = {
	{ "doorbells", UAPI(doorbells), STAT_DOORBELLS, 0 },
	{ "relay_reads", UAPI(relay_reads), STAT_UNIT, UNIT(relay_reads) },
	{ "relay_writes", UAPI(relay_writes), STAT_UNIT, UNIT(relay_writes) },
	{ "descs", UAPI(descs), STAT_VTD, VTD(descs) },
	{ "cc_invals", UAPI(cc_invals), STAT_VTD, VTD(cc_invals) },
	{ "iotlb_invals", UAPI(iotlb_invals), STAT_VTD, VTD(iotlb_invals) },
	{ "waits", UAPI(waits), STAT_VTD, VTD(waits) },
	{ "forwarded", UAPI(forwarded), STAT_VTD, VTD(forwarded) },
	{ "iq_errors", UAPI(iq_errors), STAT_VTD, VTD(iq_errors) },
	{ "faults", UAPI(faults), STAT_VTD, VTD(faults) },
	{ "faults_lost", UAPI(faults_lost), STAT_VTD, VTD(faults_lost) },
	{ "irqs", UAPI(irqs), STAT_VTD, VTD(irqs) },
	{ "maps", UAPI(maps), STAT_UNIT, UNIT(maps) },
	{ "unmaps", UAPI(unmaps), STAT_UNIT, UNIT(unmaps) },
	{ "pinned_pages", UAPI(pinned_pages), STAT_UNIT, UNIT(pinned_pages) },
	{ "walks", UAPI(walks), STAT_UNIT, UNIT(walks) },
	{ "walk_faults", UAPI(walk_faults), STAT_UNIT, UNIT(walk_faults) },
	{ "pin_failures", UAPI(pin_failures), STAT_UNIT, UNIT(pin_failures) },
	{ "devices", UAPI(devices), STAT_UNIT, UNIT(devices) },
	{ "leaves", UAPI(leaves), STAT_UNIT, UNIT(leaves) },
	{ "resv_faults", UAPI(resv_faults), STAT_UNIT, UNIT(resv_faults) },
	{ "walk_yields", UAPI(walk_yields), STAT_UNIT, UNIT(walk_yields) },
	{ "ack_stalls", UAPI(ack_stalls), STAT_UNIT, UNIT(ack_stalls) },
	{ "unmap_mismatches", UAPI(unmap_mismatches), STAT_UNIT, UNIT(unmap_mismatches) },
	{ "failed", UAPI(failed), STAT_UNIT, UNIT(failed) },
	{ "tracked_writes", UAPI(tracked_writes), STAT_TRACKED, 0 },
	{ "polled_writes", UAPI(polled_writes), STAT_UNIT, UNIT(polled_writes) },
	{ "polled_runs", UAPI(polled_runs), STAT_UNIT, UNIT(polled_runs) },
	{ "parks", UAPI(parks), STAT_UNIT, UNIT(parks) },
	{ "unparks", UAPI(unparks), STAT_UNIT, UNIT(unparks) },
	{ "iotlb_syncs", UAPI(iotlb_syncs), STAT_UNIT, UNIT(iotlb_syncs) },
	{ "locked_pages", UAPI(locked_pages), STAT_UNIT, UNIT(locked_pages) },
	{ "pin_cache_pages", UAPI(pin_cache_pages), STAT_UNIT, UNIT(pin_cache_pages) },
	{ "pin_cache_hits", UAPI(pin_cache_hits), STAT_UNIT, UNIT(pin_cache_hits) },
	{ "pin_cache_misses", UAPI(pin_cache_misses), STAT_UNIT, UNIT(pin_cache_misses) },
	{ "pin_cache_stale", UAPI(pin_cache_stale), STAT_UNIT, UNIT(pin_cache_stale) },
	{ "translations", UAPI(translations), STAT_UNIT, UNIT(translations) },
	{ "translate_faults", UAPI(translate_faults), STAT_UNIT, UNIT(translate_faults) },
	{ "inval_events", UAPI(inval_events), STAT_UNIT, UNIT(inval_events) },
};

/* Every statistic, into @st (whose size and flags are left alone). */
void kvm_viommu_stats_fill(struct kvm_viommu *viommu,
			   struct kvm_viommu_stats *st)
{
	const struct kvm_viommu_stat_desc *d;
	unsigned int i;
	u64 val;

	lockdep_assert_held(&viommu->lock);
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_stat_descs); i++) {
		d = &kvm_viommu_stat_descs[i];
		switch (d->src) {
		case STAT_VTD:
			val = *(u64 *)((u8 *)&viommu->vtd.stats + d->src_off);
			break;
		case STAT_UNIT:
			val = *(u64 *)((u8 *)&viommu->cnt + d->src_off);
			break;
		case STAT_TRACKED:
			val = atomic64_read(&viommu->nr_tracked_writes);
			break;
		default:
			val = atomic64_read(&viommu->nr_doorbells);
			break;
		}
		*(u64 *)((u8 *)st + d->uapi_off) = val;
	}
}

/* The debugfs "stats" file: "name value" lines, in the table's order. */
void kvm_viommu_stats_show(struct kvm_viommu *viommu, struct seq_file *m)
{
	struct kvm_viommu_stats st;
	unsigned int i;

	if (kvm_viommu_lock(viommu))
		return;
	kvm_viommu_stats_fill(viommu, &st);
	kvm_viommu_unlock(viommu);
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_stat_descs); i++)
		seq_printf(m, "%s: %llu\n", kvm_viommu_stat_descs[i].name,
			   *(u64 *)((u8 *)&st + kvm_viommu_stat_descs[i].uapi_off));
}

/* KVM_VIOMMU_GET_STATS */
int kvm_viommu_get_stats(struct kvm_viommu_ucmd *ucmd)
{
	struct kvm_viommu *viommu = ucmd->file->private_data;
	struct kvm_viommu_stats *cmd = ucmd->cmd;
	int ret;

	if (cmd->flags)
		return -EINVAL;
	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	kvm_viommu_stats_fill(viommu, cmd);
	kvm_viommu_unlock(viommu);
	return kvm_viommu_ucmd_respond(ucmd, sizeof(*cmd));
}
