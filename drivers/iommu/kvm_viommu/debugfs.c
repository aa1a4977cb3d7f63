// SPDX-License-Identifier: GPL-2.0-only
/*
 * What an operator sees of a unit: <debugfs>/kvm_viommu/<tgid>-<id>/, with
 * the queue's dispatch state (info), the main registers as the guest reads
 * them (regs) and the statistics (stats).  The directory goes in the unit
 * fd's ->release(), which waits for readers.
 */
#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/seq_file.h>

#include "kvm_viommu.h"

static int kvm_viommu_info_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu *viommu = m->private;
	bool written;

	seq_printf(m, "vm: %s\n", viommu->kvm->stats_id);
	seq_printf(m, "owner_tgid: %d\n", viommu->owner_tgid);
	seq_printf(m, "worker_pid: %d\n", task_pid_nr(viommu->worker->task));
	seq_printf(m, "pending_qt: %d\n", atomic_read(&viommu->pending_qt));
	seq_printf(m, "iq_twork_busy: %d\n",
		   atomic_read(&viommu->iq_twork_busy));
	seq_printf(m, "iq_runs_vcpu: %lld\n",
		   atomic64_read(&viommu->nr_iq_runs_vcpu));
	seq_printf(m, "iq_runs_worker: %lld\n",
		   atomic64_read(&viommu->nr_iq_runs_worker));
	seq_printf(m, "sidecore: %u\n", READ_ONCE(viommu->sc_flags));
	seq_printf(m, "sidecore_polled: %d\n", READ_ONCE(viommu->polled));
	seq_printf(m, "sidecore_tracked: %d\n", READ_ONCE(viommu->tracked));
	/*
	 * What the page holds not applied: a racy look, as the poller's,
	 * against the words publishing writes under the unit's lock.
	 */
	written = data_race(kvm_viommu_page_written(viommu));
	seq_printf(m, "sidecore_page_written: %d\n", written);
	seq_printf(m, "sidecore_page_iqt: 0x%x\n",
		   le32_to_cpu(READ_ONCE(*(__le32 *)
				(page_address(viommu->reg_page) +
				 VTD_IQT_REG))));
	seq_printf(m, "sidecore_drain_pending: %d\n",
		   atomic_read(&viommu->drain_pending));
	seq_printf(m, "sidecore_slot_gone: %d\n",
		   atomic_read(&viommu->reg_slot_gone));
	seq_printf(m, "irq_msg_gen: %llu\n", READ_ONCE(viommu->irq_msg_gen));
	seq_printf(m, "irq_msg_acked: %llu\n",
		   READ_ONCE(viommu->irq_msg_acked));
	seq_printf(m, "irq_held: %u\n", READ_ONCE(viommu->irq_held));
	seq_printf(m, "sidecore_poller_pid: %d\n",
		   kvm_viommu_poller_pid(viommu));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_info);

/* The registers an operator looks at first, as the guest reads them. */
static const struct {
	const char *name;
	u32 offset;
	u32 len;
} kvm_viommu_debugfs_regs[] = {
	{ "VER", VTD_VER_REG, 4 },	{ "CAP", VTD_CAP_REG, 8 },
	{ "ECAP", VTD_ECAP_REG, 8 },	{ "GSTS", VTD_GSTS_REG, 4 },
	{ "RTADDR", VTD_RTADDR_REG, 8 }, { "FSTS", VTD_FSTS_REG, 4 },
	{ "FECTL", VTD_FECTL_REG, 4 },	{ "IQH", VTD_IQH_REG, 8 },
	{ "IQT", VTD_IQT_REG, 8 },	{ "IQA", VTD_IQA_REG, 8 },
	{ "ICS", VTD_ICS_REG, 4 },	{ "IECTL", VTD_IECTL_REG, 4 },
	{ "IRTA", VTD_IRTA_REG, 8 },
};

static int kvm_viommu_regs_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu *viommu = m->private;
	unsigned int i;
	u64 val;
	int ret;

	ret = kvm_viommu_lock(viommu);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(kvm_viommu_debugfs_regs); i++) {
		if (vtd_reg_read(&viommu->vtd, kvm_viommu_debugfs_regs[i].offset,
				 kvm_viommu_debugfs_regs[i].len, &val))
			continue;
		seq_printf(m, "%-7s 0x%016llx\n",
			   kvm_viommu_debugfs_regs[i].name, val);
	}
	kvm_viommu_unlock(viommu);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_regs);

static int kvm_viommu_stats_file_show(struct seq_file *m, void *unused)
{
	kvm_viommu_stats_show(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_stats_file);

void kvm_viommu_debugfs_init(struct kvm_viommu *viommu)
{
	char name[32];

	snprintf(name, sizeof(name), "%d-%u", viommu->owner_tgid, viommu->id);
	viommu->debugfs_dir = debugfs_create_dir(name, kvm_viommu_debugfs_root);
	debugfs_create_file("info", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_info_fops);
	debugfs_create_file("regs", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_regs_fops);
	debugfs_create_file("stats", 0444, viommu->debugfs_dir, viommu,
			    &kvm_viommu_stats_file_fops);
}
