// SPDX-License-Identifier: GPL-2.0-only
/*
 * The measurement port: a guest (edu_dma's mark_port) writes 1 to it when
 * a timed loop starts and 2 when it ends, and the VMM counts the exits
 * KVM saw from all vCPUs in between (KVM's binary statistics, "exits"),
 * for --stats: what a map or an unmap costs in exits, from KVM's own
 * count.  The two port writes are two exits of their own, counted out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vmm.h"

/* Where vCPU @fd's "exits" counter sits in its statistics, or -errno. */
static long exits_offset(int fd)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsize;
	long off = -ENOENT;
	uint32_t i;
	char *descs;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return -errno;
	dsize = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs)
		return -ENOMEM;
	if (pread(fd, descs, h.num_desc * dsize, h.desc_offset) !=
	    (ssize_t)(h.num_desc * dsize)) {
		free(descs);
		return -EIO;
	}
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		if (!strcmp(d->name, "exits")) {
			off = h.data_offset + d->offset;
			break;
		}
	}
	free(descs);
	return off;
}

/* Exits of every vCPU so far; 0 if KVM gives no statistics. */
static uint64_t exits_now(struct vmm *vmm)
{
	uint64_t sum = 0, v;
	int i;

	for (i = 0; i < vmm->opts.cpus; i++)
		if (vmm->vcpu[i].stats_fd >= 0 &&
		    pread(vmm->vcpu[i].stats_fd, &v, sizeof(v),
			  vmm->vcpu[i].exits_off) == sizeof(v))
			sum += v;
	return sum;
}

static void mark_write(struct vmm *vmm, void *opaque, uint64_t off,
		       const void *data, uint32_t len)
{
	uint8_t what = *(const uint8_t *)data;

	if (what == 1) {
		vmm->mark_exits0 = exits_now(vmm);
	} else if (what == 2 && vmm->mark_exits0) {
		/* Less this write's exit and the start's. */
		vmm->loop_exits = exits_now(vmm) - vmm->mark_exits0 - 2;
		vmm->have_loop_exits = true;
	}
}

static void mark_read(struct vmm *vmm, void *opaque, uint64_t off,
		      void *data, uint32_t len)
{
	memset(data, 0xff, len);
}

/* Called once the vCPUs exist: their statistics, and the port. */
int mark_init(struct vmm *vmm)
{
	struct bus_dev port = { .read = mark_read, .write = mark_write };
	long off;
	int i, fd;

	for (i = 0; i < vmm->opts.cpus; i++) {
		vmm->vcpu[i].stats_fd = -1;
		fd = ioctl(vmm->vcpu[i].fd, KVM_GET_STATS_FD, NULL);
		if (fd < 0)
			continue;
		off = exits_offset(fd);
		if (off < 0) {
			close(fd);
			continue;
		}
		vmm->vcpu[i].stats_fd = fd;
		vmm->vcpu[i].exits_off = off;
	}
	return bus_add(&vmm->pio, PORT_MARK, 1, &port);
}

void mark_exit(struct vmm *vmm)
{
	int i;

	for (i = 0; i < vmm->opts.cpus; i++)
		if (vmm->vcpu[i].stats_fd >= 0 && vmm->vcpu[i].run)
			close(vmm->vcpu[i].stats_fd);
}
