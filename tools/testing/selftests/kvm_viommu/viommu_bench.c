// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_bench: what a dynamic DMA mapping costs an L2 guest, mode by mode,
 * in one run.  Run by `make bench` inside the testbed's L1.
 *
 * The guest loops map -> invalidate -> wait and unmap -> invalidate -> wait
 * of 4 KiB pages (1, 8 and 64 per doorbell) and of 2 MiB pages, on edu's
 * context, timing each batch with its TSC.  The modes:
 *  (a) kvm_viommu in the kernel: doorbells, shadow into edu's domain;
 *  (b) the same, with IQT writes relayed through this VMM;
 *  (c) today's architecture: this VMM emulates the unit in userspace (the
 *      same VT-d core, linked in), every register access exits, and each
 *      invalidation walks the guest's tables here and calls
 *      VFIO_IOMMU_UNMAP_DMA/MAP_DMA per range, as QEMU's caching-mode
 *      replay does;
 *  (d) the floor: kvm_viommu with doorbells but no device: invalidations
 *      complete without touching a host IOMMU;
 *  (e) static mappings: the guest maps once and never invalidates;
 *  (f) a real guest: Debian's kernel with edu_dma timing dma_map_single +
 *      dma_unmap_single of 4 KiB, under QEMU's intel-iommu (today's
 *      architecture; QEMU 10 and Debian 12's 7.2), under viommu-vmm with
 *      kvm_viommu, and with no vIOMMU under each.  QEMU 10, doorbells and
 *      the sidecore run in turns, KVM_VIOMMU_BENCH_ROUNDS times (2).  Then
 *      once more each, traced in L1, for the host's side (host_trace.h).
 * (g) KVM_VIOMMU_TRANSLATE, as an emulated device's DMA would call it:
 *      nanoseconds a call (and calls a second) from this VMM's thread,
 *      with invalidation events off and on.
 * Then (a_vcpu) once more, 4 KiB batch 1 only, with L1's tracepoints on:
 * the host's handling of each doorbell, from the vCPU's exit to its next
 * entry (kvm:kvm_exit, kvm:kvm_entry) and from the doorbell to the end of
 * the queue run (kvm_viommu_doorbell, kvm_viommu_iq_run).  Tracing slows
 * everything a little; the figure to compare is this one, between builds.
 * It prints a table and writes JSON to $KVM_VIOMMU_BENCH_OUT, both naming
 * the testbed: the QEMU that runs L1 (L0), L1's kernel and CPUs, and the
 * QEMU that ran the (f) rows under QEMU (from l1_run.sh's environment).
 *
 * With KVM_VIOMMU_BENCH_TRACED=n, only the traced pass, n times: the
 * host's time per invalidation, in a few minutes, so that two builds can
 * be compared in turns on a machine whose load drifts.
 *
 * With KVM_VIOMMU_BENCH_ROWS=name,..., only those (f) rows (lg_vmm_name),
 * each once, and their table: with L0's profile on (KVM_VIOMMU_PROFILE=1),
 * a profile of each in minutes.  The name "translate" runs (g).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "host_trace.h"
#include "insn_marks.h"
#include "kvm_util.h"
#include "linux_guest.h"
#include "processor.h"
#include "viommu_vmm.h"
#include "viommu_guest.h"
#include "viommu_vfio.h"

#define EDU_SID		0x18
#define EDU_DID		1
#define MAX_BATCH	64
#define BIG_GPA		0x40000000ULL	/* one 2 MiB page, aligned */
#define BIG_SLOT	12
#define IOVA4K(n)	(0x100000ULL + 0x1000ULL * (n))
#define IOVA2M		0x1000000ULL
#define MAX_ITERS	200
#define SETUP_DONE	0xff

enum { MODE_A, MODE_B, MODE_C, MODE_D, MODE_E, MODE_A_VCPU, NR_MODES };
static const char * const mode_name[NR_MODES] = {
	"a_kvm_viommu", "b_relayed_iqt", "c_userspace", "d_floor", "e_static",
	"a_vcpu",
};

#define FAST_PATH_PARAM "/sys/module/kvm_viommu/parameters/vcpu_fast_path"

/*
 * (a) to (d) run the queue in the unit's worker (vcpu_fast_path off);
 * a_vcpu is (a) with vcpu_fast_path on, the module's default: the queue
 * runs as task work of the vCPU thread that rang.  (f) runs with the
 * module's default.
 */
static void set_fast_path(bool on)
{
	FILE *f = fopen(FAST_PATH_PARAM, "w");

	TEST_ASSERT(f, "open %s", FAST_PATH_PARAM);
	fputs(on ? "1" : "0", f);
	TEST_ASSERT(!fclose(f), "write %s", FAST_PATH_PARAM);
}

static const struct bench_config {
	const char *name;
	uint32_t batch;
	uint32_t level;		/* 1: 4 KiB, 2: 2 MiB */
	uint32_t iters;
} configs[] = {
	{ "4k_b1", 1, 1, 150 },
	{ "4k_b8", 8, 1, 40 },
	{ "4k_b64", 64, 1, 10 },
	{ "2m_b1", 1, 2, 20 },
};

#define NR_CONFIGS	ARRAY_SIZE(configs)

static struct bench_args {
	uint64_t buf_gpa;		/* MAX_BATCH contiguous pages */
	struct guest_iommu_mem mem;
	uint64_t out_gva;		/* cycles: [iter][0: map, 1: unmap] */
	uint32_t invalidate;		/* 0 in mode (e) */
	struct bench_config cfg[NR_CONFIGS];
} args;

static struct guest_vtd gv;
static struct guest_iq gq;

static void guest_flush_wait(void)
{
	uint32_t *status = (uint32_t *)args.mem.status_gva;
	uint32_t seq = READ_ONCE(*status) + 1;

	guest_iq_push_wait(&gq, args.mem.status_gpa, seq, 0);
	guest_iq_kick(&gq);
	guest_poll_mem32(status, seq);
}

static void guest_code(void)
{
	uint64_t *out = (uint64_t *)args.out_gva;
	uint64_t slpt, t0, t1, t2, iova, gpa;
	uint32_t c, i, b, am;

	slpt = guest_iommu_enable(&gv, &gq, &args.mem, EDU_SID & 0xff,
				  EDU_DID);
	/* Build the tables down to the leaves once, outside the timing. */
	for (b = 0; b < MAX_BATCH; b++)
		gvtd_entry(&gv, slpt, IOVA4K(b), 1);
	gvtd_entry(&gv, slpt, IOVA2M, 2);
	GUEST_SYNC(SETUP_DONE);

	for (c = 0; c < NR_CONFIGS; c++) {
		const struct bench_config *cfg = &args.cfg[c];

		am = cfg->level == 2 ? 9 : 0;
		for (i = 0; i < cfg->iters; i++) {
			t0 = rdtsc();
			for (b = 0; b < cfg->batch; b++) {
				iova = cfg->level == 2 ? IOVA2M : IOVA4K(b);
				gpa = cfg->level == 2 ? BIG_GPA :
				      args.buf_gpa + 4096ULL * b;
				gvtd_map(&gv, slpt, iova, gpa, cfg->level,
					 VTD_SLPTE_R | VTD_SLPTE_W);
				if (args.invalidate)
					guest_iq_push(&gq,
						      DESC_IOTLB_PSI(EDU_DID),
						      iova | am);
			}
			if (args.invalidate)
				guest_flush_wait();
			t1 = rdtsc();
			for (b = 0; b < cfg->batch; b++) {
				iova = cfg->level == 2 ? IOVA2M : IOVA4K(b);
				gvtd_unmap(&gv, slpt, iova, cfg->level);
				if (args.invalidate)
					guest_iq_push(&gq,
						      DESC_IOTLB_PSI(EDU_DID),
						      iova | am);
			}
			if (args.invalidate)
				guest_flush_wait();
			t2 = rdtsc();
			out[2 * i] = t1 - t0;
			out[2 * i + 1] = t2 - t1;
		}
		GUEST_SYNC(c);
	}
	GUEST_DONE();
}

/* ---- (c): the unit emulated in this process, QEMU-style ---- */

struct user_unit {
	struct vtd_unit u;
	uint8_t regs[VTD_REG_PAGE_SIZE];
	struct kvm_vm *vm;
	int container;
	bool ctx_valid;
	struct vtd_context ctx;
	uint64_t vfio_calls;
	uint64_t vfio_ns;
};

static struct user_unit uu;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int uu_read(struct vtd_unit *u, u64 gpa, void *buf, u32 len)
{
	memcpy(buf, addr_gpa2hva(uu.vm, gpa), len);
	return 0;
}

static int uu_write(struct vtd_unit *u, u64 gpa, const void *buf, u32 len)
{
	memcpy(addr_gpa2hva(uu.vm, gpa), buf, len);
	return 0;
}

static void uu_refresh(void)
{
	uu.ctx_valid = (vtd_get32(&uu.u, VTD_GSTS_REG) & VTD_GSTS_TES) &&
		       !vtd_context_lookup(&uu.u, EDU_SID, &uu.ctx);
}

static void uu_cc(struct vtd_unit *u, const struct vtd_cc_inval *inv)
{
	uu_refresh();
}

static void uu_tc(struct vtd_unit *u)
{
	uu_refresh();
}

static int uu_map_leaf(void *opaque, const struct vtd_mapping *m)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = (m->read ? VFIO_DMA_MAP_FLAG_READ : 0) |
			 (m->write ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)addr_gpa2hva(uu.vm, m->gpa),
		.iova = m->iova,
		.size = m->size,
	};
	uint64_t t = now_ns();

	if (map.flags)
		TEST_ASSERT(!ioctl(uu.container, VFIO_IOMMU_MAP_DMA, &map),
			    "VFIO_IOMMU_MAP_DMA: %s", strerror(errno));
	uu.vfio_ns += now_ns() - t;
	uu.vfio_calls++;
	return 0;
}

/* Unmap the range, then replay what the guest's tables map in it. */
static void uu_iotlb(struct vtd_unit *u, const struct vtd_iotlb_inval *inv)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	uint64_t start = 0, end, t;
	uint32_t budget = 1 << 20;

	if (!uu.ctx_valid)
		return;
	end = vtd_context_iova_end(&uu.u, &uu.ctx);
	if (inv->granularity == VTD_IOTLB_PAGE) {
		start = inv->addr;
		end = start + (4096ULL << inv->am);
	}
	unmap.iova = start;
	unmap.size = end - start;
	t = now_ns();
	TEST_ASSERT(!ioctl(uu.container, VFIO_IOMMU_UNMAP_DMA, &unmap),
		    "VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
	uu.vfio_ns += now_ns() - t;
	uu.vfio_calls++;
	vtd_sl_walk(&uu.u, &uu.ctx, start, end, uu_map_leaf, NULL, &budget,
		    NULL);
}

static void uu_irq(struct vtd_unit *u, enum vtd_irq irq)
{
}

static void uu_fwd(struct vtd_unit *u, const struct vtd_inv_desc *d)
{
}

static const struct vtd_ops uu_ops = {
	.read_gpa = uu_read,
	.write_gpa = uu_write,
	.cc_inval = uu_cc,
	.iotlb_inval = uu_iotlb,
	.send_irq = uu_irq,
	.forward_desc = uu_fwd,
	.translation_changed = uu_tc,
};

/* Every register access of the guest exits to here, as with QEMU. */
static uint64_t uu_run(struct kvm_vcpu *vcpu, struct ucall *uc,
		       uint64_t *exits)
{
	struct kvm_run *run = vcpu->run;
	uint64_t val;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != KVM_EXIT_MMIO)
			return get_ucall(vcpu, uc);
		(*exits)++;
		val = 0;
		if (run->mmio.is_write) {
			memcpy(&val, run->mmio.data, run->mmio.len);
			vtd_reg_write(&uu.u, run->mmio.phys_addr - VIOMMU_REG_GPA,
				      run->mmio.len, val);
			while (vtd_iq_pending(&uu.u))
				vtd_iq_process(&uu.u, 1024);
		} else {
			vtd_reg_read(&uu.u, run->mmio.phys_addr - VIOMMU_REG_GPA,
				     run->mmio.len, &val);
			memcpy(run->mmio.data, &val, run->mmio.len);
		}
	}
}

/* ---- Host side ---- */

struct result {
	double med_ns, p99_ns;		/* per page, map + unmap */
	double med_cycles, p99_cycles;
	double exits_per_op;
	double host_ns_per_op;		/* (c): time in VFIO ioctls */
};

static struct result results[NR_MODES][NR_CONFIGS];

/* ---- The traced pass: host handling time per doorbell ---- */

#define TRACEFS		"/sys/kernel/debug/tracing"
#define MAX_SAMPLES	1024

static const char * const trace_events[] = {
	"kvm/kvm_exit", "kvm/kvm_entry", "kvm_viommu/kvm_viommu_doorbell",
	"kvm_viommu/kvm_viommu_iq_run",
};

static bool trace_pass;
static struct {
	uint32_t n;
	double exit_to_entry_us;	/* medians */
	double doorbell_to_run_us;
} host;

static int trace_write(const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	return viommu_write_file(path, val);
}

static void trace_on(bool on)
{
	char file[96];
	size_t i;

	trace_write("tracing_on", "0");
	for (i = 0; i < ARRAY_SIZE(trace_events); i++) {
		snprintf(file, sizeof(file), "events/%s/enable",
			 trace_events[i]);
		TEST_ASSERT(!trace_write(file, on ? "1" : "0"), "%s", file);
	}
	if (!on)
		return;
	trace_write("buffer_size_kb", "8192");
	/* Opening "trace" for writing with O_TRUNC empties the buffer. */
	close(open(TRACEFS "/trace", O_WRONLY | O_TRUNC));
	trace_write("tracing_on", "1");
}

/* Is @line a trace line of event @name?  Then *@ts is its timestamp. */
static bool trace_event(const char *line, const char *name, double *ts)
{
	char pat[48];
	const char *p;

	snprintf(pat, sizeof(pat), ": %s:", name);
	p = strstr(line, pat);
	if (!p)
		return false;
	/* Back from the ':' after the timestamp to its first digit. */
	while (p > line && p[-1] != ' ')
		p--;
	*ts = strtod(p, NULL);
	return true;
}

static double median(double *v, uint32_t n)
{
	uint32_t i, j;
	double t;

	if (!n)
		return 0;
	for (i = 1; i < n; i++)
		for (j = i; j && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

/*
 * Walk the trace (one L1 CPU: events in order): a doorbell's handling is
 * from the kvm_exit before it to the next kvm_entry, its queue processing
 * from the doorbell to the last kvm_viommu_iq_run before that entry.
 */
static void trace_collect(void)
{
	static double handle[MAX_SAMPLES], proc[MAX_SAMPLES];
	double ts, last_exit = 0, db = 0, run = 0;
	uint32_t n = 0, np = 0;
	bool pending = false;
	char line[512];
	FILE *f;

	trace_write("tracing_on", "0");
	f = fopen(TRACEFS "/trace", "r");
	TEST_ASSERT(f, "open " TRACEFS "/trace");
	while (fgets(line, sizeof(line), f) && n < MAX_SAMPLES) {
		if (line[0] == '#')
			continue;
		if (trace_event(line, "kvm_exit", &ts)) {
			last_exit = ts;
		} else if (trace_event(line, "kvm_viommu_doorbell", &ts)) {
			if (!pending && last_exit) {
				pending = true;
				db = ts;
				run = 0;
			}
		} else if (trace_event(line, "kvm_viommu_iq_run", &ts)) {
			if (pending)
				run = ts;
		} else if (pending && trace_event(line, "kvm_entry", &ts)) {
			handle[n++] = (ts - last_exit) * 1e6;
			if (run)
				proc[np++] = (run - db) * 1e6;
			pending = false;
		}
	}
	fclose(f);
	trace_on(false);
	host.n = n;
	host.exit_to_entry_us = median(handle, n);
	host.doorbell_to_run_us = median(proc, np);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void summarize(struct result *r, const struct bench_config *cfg,
		      uint64_t *out, uint64_t tsc_khz, uint64_t exits)
{
	uint64_t v[MAX_ITERS];
	uint32_t i;

	for (i = 0; i < cfg->iters; i++)
		v[i] = (out[2 * i] + out[2 * i + 1]) / cfg->batch;
	qsort(v, cfg->iters, sizeof(v[0]), cmp_u64);
	r->med_cycles = v[cfg->iters / 2];
	r->p99_cycles = v[(cfg->iters * 99) / 100];
	r->med_ns = r->med_cycles * 1e6 / tsc_khz;
	r->p99_ns = r->p99_cycles * 1e6 / tsc_khz;
	/* An op is one map or one unmap of one page. */
	r->exits_per_op = (double)exits / (2.0 * cfg->iters * cfg->batch);
}

static void run_mode(int mode)
{
	struct viommu_vfio vf, *f = &vf;
	const char *why = "";
	struct kvm_vcpu *vcpu;
	struct viommu_vmm v;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t tsc_khz, exits = 0, base_exits = 0, vfio0 = 0, calls0 = 0;
	vm_vaddr_t gva;
	uint32_t c;
	void *out;

	/* (c) maps through type1 as a VMM does today; the rest need a unit's. */
	viommu_vfio_iommu = mode == MODE_C ? VFIO_TYPE1v2_IOMMU :
					     KVM_VIOMMU_VFIO_IOMMU;
	TEST_ASSERT(!viommu_vfio_open(f, NULL, &why), "edu: %s", why);
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	if (mode == MODE_C) {
		memset(&uu, 0, sizeof(uu));
		uu.vm = vm;
		uu.container = f->container;
		TEST_ASSERT(!vtd_unit_init(&uu.u, &uu_ops, uu.regs,
					   viommu_vfio_cap(f), VTD_ECAP_QI),
			    "user unit");
		virt_map(vm, VIOMMU_REG_GPA, VIOMMU_REG_GPA, 1);
	} else {
		viommu_vmm_max_wired = mode == MODE_B ? 0 : VIOMMU_MAX_WIRED;
		TEST_ASSERT(!viommu_vmm_init(&v, vm, viommu_vfio_cap(f), 0),
			    "unit");
		if (mode != MODE_D)
			TEST_ASSERT(!viommu_vfio_attach(f, v.unit_fd, EDU_SID),
				    "attach");
	}
	viommu_vfio_map_bar(f, vm);

	args.buf_gpa = addr_gva2gpa(vm, vm_vaddr_alloc(vm, MAX_BATCH * 4096,
						       0x20000000));
	viommu_guest_iommu_mem(vm, &args.mem, 32);
	gva = vm_vaddr_alloc(vm, 2 * MAX_ITERS * 8, 0x30000000);
	args.out_gva = gva;
	out = addr_gva2hva(vm, gva);
	args.invalidate = mode != MODE_E;
	memcpy(args.cfg, configs, sizeof(configs));
	sync_global_to_guest(vm, args);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, BIG_GPA,
				    BIG_SLOT, 512, 0);
	tsc_khz = __vcpu_ioctl(vcpu, KVM_GET_TSC_KHZ, NULL);

	for (c = 0; c <= NR_CONFIGS + 1; c++) {
		uint64_t cmd;

		if (mode == MODE_C) {
			cmd = uu_run(vcpu, &uc, &exits);
		} else {
			cmd = viommu_vcpu_run(&v, vcpu, &uc);
			exits = v.mmio_writes + v.mmio_reads;
		}
		if (cmd == UCALL_ABORT)
			REPORT_GUEST_ASSERT_2(uc, "values: %#lx, %#lx");
		if (cmd == UCALL_DONE)
			break;
		TEST_ASSERT(cmd == UCALL_SYNC, "guest stopped: %lu", cmd);
		if (uc.args[1] == SETUP_DONE) {
			/* The set-up's exits count for no config. */
			base_exits = exits;
			vfio0 = uu.vfio_ns;
			calls0 = uu.vfio_calls;
			if (trace_pass)
				trace_on(true);
			continue;
		}
		if (trace_pass) {
			/* 4 KiB, batch 1 only: its results stay the untraced run's. */
			trace_collect();
			break;
		}
		summarize(&results[mode][uc.args[1]], &configs[uc.args[1]],
			  out, tsc_khz, exits - base_exits);
		if (mode == MODE_C && uu.vfio_calls > calls0) {
			results[mode][uc.args[1]].host_ns_per_op =
				(double)(uu.vfio_ns - vfio0) /
				(2.0 * configs[uc.args[1]].iters *
				 configs[uc.args[1]].batch);
		}
		base_exits = exits;
		vfio0 = uu.vfio_ns;
		calls0 = uu.vfio_calls;
	}

	if (mode == MODE_C) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap), .iova = 0, .size = 1ULL << 48,
		};

		ioctl(f->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	} else {
		viommu_vmm_fini(&v);
	}
	kvm_vm_free(vm);
	viommu_vfio_close(f);
}

static void json_result(FILE *js, const char *name, const struct result *r,
			bool more)
{
	fprintf(js, "      \"%s\": {", name);
	fprintf(js, "\"cycles_median\": %.0f, ", r->med_cycles);
	fprintf(js, "\"cycles_p99\": %.0f, ", r->p99_cycles);
	fprintf(js, "\"ns_median\": %.0f, ", r->med_ns);
	fprintf(js, "\"ns_p99\": %.0f, ", r->p99_ns);
	fprintf(js, "\"user_exits_per_op\": %.3f}%s\n", r->exits_per_op,
		more ? "," : "");
}

/*
 * (g): a guest's tables for one device, MAX_BATCH pages of 4 KiB, asked
 * page after page, TRANSLATE_ITERS times a pass; the second pass with
 * KVM_VIOMMU_EVENTS_INVALIDATIONS on, which notes each answer's domain.
 */
#define TRANSLATE_ITERS	100000

static struct {
	double ns_per_call[2];		/* events off, on */
	bool run;
} xl_bench;

static void guest_translate_code(void)
{
	uint64_t slpt;
	uint32_t n;

	slpt = guest_iommu_enable(&gv, &gq, &args.mem, EDU_SID, EDU_DID);
	for (n = 0; n < MAX_BATCH; n++)
		gvtd_map(&gv, slpt, IOVA4K(n), args.buf_gpa + 4096ULL * n, 1,
			 VTD_SLPTE_R | VTD_SLPTE_W);
	guest_iq_push(&gq, DESC_IOTLB_GLOBAL, 0);
	guest_flush_wait();
	GUEST_SYNC(SETUP_DONE);
	GUEST_DONE();
}

static void run_translate(void)
{
	struct kvm_viommu_translate xl = { .size = sizeof(xl) };
	struct kvm_viommu_events ev = { .size = sizeof(ev) };
	struct kvm_vcpu *vcpu;
	struct viommu_vmm v;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t t0, n;
	uint32_t i, pass;

	vm = vm_create_with_one_vcpu(&vcpu, guest_translate_code);
	TEST_ASSERT(!viommu_vmm_init(&v, vm, 0, 0), "unit");
	args.buf_gpa = addr_gva2gpa(vm, vm_vaddr_alloc(vm, MAX_BATCH * 4096,
						       0x20000000));
	viommu_guest_iommu_mem(vm, &args.mem, 32);
	sync_global_to_guest(vm, args);
	TEST_ASSERT(viommu_vcpu_run(&v, vcpu, &uc) == UCALL_SYNC,
		    "translate: guest set-up");
	for (pass = 0; pass < 2; pass++) {
		ev.mask = pass ? KVM_VIOMMU_EVENTS_INVALIDATIONS : 0;
		TEST_ASSERT(!ioctl(v.unit_fd, KVM_VIOMMU_SET_EVENTS, &ev),
			    "KVM_VIOMMU_SET_EVENTS");
		t0 = now_ns();
		for (i = 0; i < TRANSLATE_ITERS; i++) {
			n = i % MAX_BATCH;
			xl.flags = KVM_VIOMMU_TRANSLATE_READ;
			xl.sid = EDU_SID;
			xl.iova = IOVA4K(n) + 0x10;
			TEST_ASSERT(!ioctl(v.unit_fd, KVM_VIOMMU_TRANSLATE, &xl) &&
				    !xl.fault &&
				    xl.gpa == args.buf_gpa + 4096 * n + 0x10,
				    "translate %u: fault %u", i, xl.fault);
		}
		xl_bench.ns_per_call[pass] = (double)(now_ns() - t0) /
					     TRANSLATE_ITERS;
	}
	xl_bench.run = true;
	viommu_vmm_fini(&v);
	kvm_vm_free(vm);
}

static void print_translate(void)
{
	if (!xl_bench.run)
		return;
	printf("\n(g) KVM_VIOMMU_TRANSLATE: %.0f ns a call (%.0f calls/s);\n",
	       xl_bench.ns_per_call[0], 1e9 / xl_bench.ns_per_call[0]);
	printf("    with invalidation events on: %.0f ns a call\n",
	       xl_bench.ns_per_call[1]);
}

static void json_translate(FILE *js)
{
	if (!xl_bench.run) {
		fprintf(js, "  \"translate_ns_per_call\": null,\n");
		return;
	}
	fprintf(js, "  \"translate_ns_per_call\": %.0f,\n",
		xl_bench.ns_per_call[0]);
	fprintf(js, "  \"translate_calls_per_s\": %.0f,\n",
		1e9 / xl_bench.ns_per_call[0]);
	fprintf(js, "  \"translate_ns_per_call_events_on\": %.0f,\n",
		xl_bench.ns_per_call[1]);
}

#define LINUX_ITERS	3000
#define LINUX_TIMEOUT	600

/* Mode (f): the same Linux guest under each VMM, in this run. */
static struct lg_result linux_results[LG_NR_VMMS];
/* The rows the environment lacked something for (QEMU 7.2, ...). */
static bool linux_not_run[LG_NR_VMMS];

/*
 * The fairest pair: one QEMU binary (tools/qemu), one guest, one command
 * line, with and without kvm-viommu=on, run off, on, on, off so that a
 * drift of the host's load weighs on both alike.  f_linux reports the
 * first run of each; qemu_accel_speedup uses all four.
 */
static const enum lg_vmm qemu_pair[] = {
	LG_QEMU_KVM_OFF, LG_QEMU_KVM_ON, LG_QEMU_KVM_ON, LG_QEMU_KVM_OFF,
};

static struct lg_result qemu_pair_results[ARRAY_SIZE(qemu_pair)];

/*
 * The sidecore's poller parks after sidecore_spin_us (200 us by default)
 * without work.  On hardware that outlasts the few microseconds between
 * two invalidations of a map+unmap loop; here, where a pair takes some
 * hundred times longer, it does not, and the poller would park between
 * every two writes.  The (f) rows scale it as the testbed is slower:
 * 20 ms (env KVM_VIOMMU_BENCH_SPIN_US), as linux_guest_test does.  The
 * idle spell of the traced pass (3 s) still sees the poller parked.
 */
#define BENCH_SPIN_US	"20000"

static unsigned long spin_us;	/* what the (f) rows ran with; 0: unknown */

static void set_sidecore_spin(void)
{
	const char *v = getenv("KVM_VIOMMU_BENCH_SPIN_US");

	if (!v || !*v)
		v = BENCH_SPIN_US;
	if (viommu_set_param("sidecore_spin_us", v)) {
		printf("bench: cannot set sidecore_spin_us to %s\n", v);
		return;
	}
	spin_us = strtoul(v, NULL, 10);
	printf("bench: sidecore_spin_us %lu for the (f) rows\n", spin_us);
}

/* Whether L0 counts instructions (the plugin's log exists). */
static bool insns_counted;

static void run_linux_guest(enum lg_vmm vmm, struct lg_result *r)
{
	long pos = insn_log_end();
	const char *why;

	printf("bench: mode f_linux %s...\n", lg_vmm_name[vmm]);
	fflush(stdout);
	if (insn_profile_label(lg_vmm_name[vmm]))
		printf("bench: cannot write L1's kallsyms for the profile\n");
	if (lg_run(vmm, LINUX_ITERS, LINUX_TIMEOUT, r, &why)) {
		printf("bench: f_linux %s not run: %s\n", lg_vmm_name[vmm],
		       why);
		linux_not_run[vmm] = true;
		return;
	}
	if (!r->pass || !r->median_ns)
		printf("bench: f_linux %s failed (exit %d, console %s)\n",
		       lg_vmm_name[vmm], r->exit_status, r->log);
	/* The loop's marks 1 and 2, logged by L0 after pos. */
	insns_counted |= pos >= 0;
	r->have_insns = pos >= 0 && r->iters &&
			!insn_window(pos, 1, 2, &r->insns);
	if (pos >= 0 && !r->have_insns)
		printf("bench: f_linux %s: L0 logged no loop marks\n",
		       lg_vmm_name[vmm]);
}

/*
 * The rows the top-level ratios compare run in turns, rounds times (env
 * KVM_VIOMMU_BENCH_ROUNDS, default 2): QEMU's own median moves between
 * runs on a shared machine (757 to 2269 us per pair seen), and a drift
 * of the load then weighs on all three alike.  f_linux's row is the first
 * run; the ratios use the median of each row's runs' medians.
 */
#define MAX_ROUNDS	4

static const enum lg_vmm turn_vmms[] = {
	LG_QEMU_VIOMMU, LG_KVM_VIOMMU, LG_KVM_VIOMMU_SIDECORE,
	LG_KVM_VIOMMU_TRACK,
};

static unsigned int rounds;
static struct lg_result turn_results[MAX_ROUNDS][ARRAY_SIZE(turn_vmms)];

static unsigned int env_uint(const char *name, unsigned int dflt,
			     unsigned int max)
{
	const char *v = getenv(name);
	unsigned int n = v && *v ? strtoul(v, NULL, 10) : dflt;

	return n < 1 ? 1 : n > max ? max : n;
}

static void run_linux_guests(void)
{
	static const enum lg_vmm others[] = {
		LG_QEMU_NO_VIOMMU, LG_VMM_NO_VIOMMU, LG_QEMU72_VIOMMU,
		LG_QEMU72_NO_VIOMMU,
	};
	unsigned int k;
	size_t i;

	rounds = env_uint("KVM_VIOMMU_BENCH_ROUNDS", 2, MAX_ROUNDS);
	for (k = 0; k < rounds; k++)
		for (i = 0; i < ARRAY_SIZE(turn_vmms); i++)
			run_linux_guest(turn_vmms[i], &turn_results[k][i]);
	for (i = 0; i < ARRAY_SIZE(turn_vmms); i++)
		linux_results[turn_vmms[i]] = turn_results[0][i];
	for (i = 0; i < ARRAY_SIZE(others); i++)
		run_linux_guest(others[i], &linux_results[others[i]]);
	for (i = 0; i < ARRAY_SIZE(qemu_pair); i++)
		run_linux_guest(qemu_pair[i], &qemu_pair_results[i]);
	linux_results[LG_QEMU_KVM_OFF] = qemu_pair_results[0];
	linux_results[LG_QEMU_KVM_ON] = qemu_pair_results[1];
	/* The same QEMU with the sidecore, tracked and polled. */
	run_linux_guest(LG_QEMU_KVM_TRACKED, &linux_results[LG_QEMU_KVM_TRACKED]);
	run_linux_guest(LG_QEMU_KVM_SIDECORE,
			&linux_results[LG_QEMU_KVM_SIDECORE]);
}

/*
 * The (f) rows seen from L1 (host_trace.h): each VMM once more, with
 * fewer pairs (env KVM_VIOMMU_BENCH_TRACED_ITERS, default 300) and an
 * idle spell after them, traced, apart from the untraced runs above so
 * that tracing slows none of their figures.
 */
#define TRACED_ITERS	300
#define TRACED_IDLE_MS	3000
#define TRACED_TIMEOUT	300

static const enum lg_vmm traced_vmms[] = {
	LG_QEMU_VIOMMU, LG_QEMU72_VIOMMU, LG_KVM_VIOMMU,
	LG_KVM_VIOMMU_TRACK, LG_KVM_VIOMMU_SIDECORE, LG_VMM_NO_VIOMMU,
	LG_QEMU_NO_VIOMMU,
};

static struct host_row {
	bool ok;		/* the guest passed and L1 saw both marks */
	bool not_run;
	uint64_t iters;
	struct ht_result ht;
} host_rows[LG_NR_VMMS];

static void run_traced(enum lg_vmm vmm, unsigned int iters)
{
	struct lg_opts o = {
		.iters = iters, .cpus = 1, .timeout_s = TRACED_TIMEOUT,
		.idle_ms = TRACED_IDLE_MS,
	};
	struct host_row *h = &host_rows[vmm];
	struct lg_result r;
	const char *why;

	printf("bench: f_linux %s, traced in L1...\n", lg_vmm_name[vmm]);
	fflush(stdout);
	if (insn_profile_label(lg_vmm_name[vmm]))
		printf("bench: cannot write L1's kallsyms for the profile\n");
	if (ht_start(&why)) {
		printf("bench: f_linux %s traced: not run: %s\n",
		       lg_vmm_name[vmm], why);
		h->not_run = true;
		return;
	}
	if (lg_run_opts(vmm, &o, &r, &why)) {
		ht_stop(&h->ht);
		printf("bench: f_linux %s traced: not run: %s\n",
		       lg_vmm_name[vmm], why);
		h->not_run = true;
		return;
	}
	ht_stop(&h->ht);
	h->iters = r.iters;
	h->ok = r.pass && r.iters && h->ht.marked;
	if (!h->ok)
		printf("bench: f_linux %s traced failed (exit %d, %s, console %s)\n",
		       lg_vmm_name[vmm], r.exit_status,
		       h->ht.marked ? "marked" : "no loop seen in L1", r.log);
}

static const char *env_or(const char *name, const char *dflt);

static void run_traced_guests(void)
{
	unsigned int iters = env_uint("KVM_VIOMMU_BENCH_TRACED_ITERS",
				      TRACED_ITERS, 100000);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(traced_vmms); i++) {
		/* With QEMU_ANCHOR=7.2 the anchor's row is that one already. */
		if (traced_vmms[i] == LG_QEMU72_VIOMMU &&
		    !strncmp(env_or("KVM_VIOMMU_QEMU_VERSION", ""), "7.2", 3)) {
			host_rows[LG_QEMU72_VIOMMU].not_run = true;
			continue;
		}
		run_traced(traced_vmms[i], iters);
	}
}

static bool has_viommu(enum lg_vmm vmm)
{
	return vmm != LG_VMM_NO_VIOMMU && vmm != LG_QEMU_NO_VIOMMU &&
	       vmm != LG_QEMU72_NO_VIOMMU;
}

/* Per map+unmap pair (per 2 invalidations), in microseconds. */
static double per_pair_us(const struct host_row *h, double seconds)
{
	return seconds * 1e6 / h->iters;
}

/*
 * The host's handling time per invalidation, as issue 14 defines it: the
 * vCPU's time out of the guest for its IQT writes (each such exit to the
 * vCPU's next entry), plus the CPU time of kvm_viommu's workers and
 * pollers in the loop, over the loop's invalidations (2 per pair).  The
 * loop's other exits (timer, interrupts) are not the invalidations'.
 * 0 if not measured.  A spinning poller's CPU time is all counted: for
 * the sidecore this is the CPU it costs, more than its handling time.
 */
static double host_us_per_inval(enum lg_vmm vmm)
{
	const struct host_row *h = &host_rows[vmm];
	bool iqt_exits = vmm != LG_KVM_VIOMMU_SIDECORE;

	if (!h->ok || !has_viommu(vmm) || h->ht.lost)
		return 0;
	/*
	 * Rows whose IQT writes exit take two a pair: far fewer means the
	 * exits were not recognised (another exit format), not free.
	 */
	if (iqt_exits && h->ht.inval_exits < h->iters)
		return 0;
	return per_pair_us(h, h->ht.inval_s + h->ht.worker_s +
			   h->ht.poller_s) / 2;
}

/* A row's exit floor (struct ht_result), us; -1 if not measured. */
static double exit_floor_us(enum lg_vmm vmm)
{
	const struct host_row *h = &host_rows[vmm];

	if (!h->ok || h->ht.lost || h->ht.exit_floor_s < 0)
		return -1;
	return 1e6 * h->ht.exit_floor_s;
}

/*
 * host_us_per_inval() less floor_us for each IQT exit an invalidation
 * took: what the row spent on an invalidation above the cost of its
 * exits' own exit and entry code.  0 if not measured or not above.
 */
static double above_floor_us(enum lg_vmm vmm, double floor_us)
{
	const struct host_row *h = &host_rows[vmm];
	double t = host_us_per_inval(vmm), v;

	if (!t || floor_us < 0)
		return 0;
	v = t - floor_us * h->ht.inval_exits / (2.0 * h->iters);
	return v > 0 ? v : 0;
}

/*
 * host_over() above one common floor, the lower of the two rows': a
 * view of the designs' own work beside the target's ratio, never in
 * its place.  Taking the same amount off both raises a ratio above 1,
 * the more the nearer the denominator comes to the floor.  0 if not
 * measured.
 */
static double host_over_floor(enum lg_vmm num, enum lg_vmm den)
{
	double fn = exit_floor_us(num), fd = exit_floor_us(den), f, n, d;

	if (fn < 0 || fd < 0)
		return 0;
	f = fn < fd ? fn : fd;
	n = above_floor_us(num, f);
	d = above_floor_us(den, f);
	return n && d ? n / d : 0;
}

static double host_over(enum lg_vmm num, enum lg_vmm den)
{
	double d = host_us_per_inval(den);

	return d ? host_us_per_inval(num) / d : 0;
}

/* The pollers' share of one CPU in the loop (busy) or the idle spell. */
static double poller_pct(enum lg_vmm vmm, bool idle)
{
	const struct host_row *h = &host_rows[vmm];

	if (!h->ok || h->ht.lost)
		return -1;
	if (idle)
		return h->ht.have_idle ?
		       100 * h->ht.idle_poller_s / h->ht.idle_s : -1;
	return h->ht.loop_s ? 100 * h->ht.poller_s / h->ht.loop_s : -1;
}

/* A share of a CPU for the table: "-" if not measured. */
static void pct(char *buf, size_t len, double v)
{
	if (v >= 0)
		snprintf(buf, len, "%.1f%%", v);
	else
		snprintf(buf, len, "-");
}

static void print_host_row(enum lg_vmm vmm)
{
	const struct host_row *h = &host_rows[vmm];
	const struct ht_result *t = &h->ht;
	char inval[16] = "-", busy[16], idle[16];

	if (!h->ok) {
		printf("%-24s %s\n", lg_vmm_name[vmm],
		       h->not_run ? "not run" : "failed");
		return;
	}
	if (host_us_per_inval(vmm))
		snprintf(inval, sizeof(inval), "%.1f", host_us_per_inval(vmm));
	pct(busy, sizeof(busy), poller_pct(vmm, false));
	pct(idle, sizeof(idle), poller_pct(vmm, true));
	printf("%-24s %7.2f %7.2f %10.1f %9s %9.1f %9.1f %7s %7s%s\n",
	       lg_vmm_name[vmm], (double)t->exits / h->iters,
	       (double)t->inval_exits / h->iters,
	       per_pair_us(h, t->exit_s), inval, per_pair_us(h, t->worker_s),
	       per_pair_us(h, t->poller_s), busy, idle,
	       t->lost ? "  (events lost)" : "");
}

/* The row's exit-to-entry medians by reason, the IQT writes' first. */
static void print_exit_medians(enum lg_vmm vmm)
{
	const struct host_row *h = &host_rows[vmm];
	const struct ht_result *t = &h->ht;
	char iqt[16] = "-", floor_us[40] = "-";
	int i;

	if (!h->ok) {
		printf("%-24s %s\n", lg_vmm_name[vmm],
		       h->not_run ? "not run" : "failed");
		return;
	}
	if (t->inval_exits)
		snprintf(iqt, sizeof(iqt), "%.1f", 1e6 * t->inval_median_s);
	if (exit_floor_us(vmm) >= 0)
		snprintf(floor_us, sizeof(floor_us), "%.1f %s",
			 exit_floor_us(vmm), t->exit_floor_reason);
	printf("%-24s %7s %-14s", lg_vmm_name[vmm], iqt, floor_us);
	for (i = 0; i < HT_REASONS && t->reasons[i].n; i++)
		if (t->reasons[i].paired)
			printf(" %s %.1f (%llu)", t->reasons[i].name,
			       1e6 * t->reasons[i].median_s,
			       (unsigned long long)t->reasons[i].paired);
	printf("%s\n", t->lost ? "  (events lost)" : "");
}

static void json_num(FILE *js, const char *key, double v, bool valid)
{
	if (valid)
		fprintf(js, ", \"%s\": %.3f", key, v);
	else
		fprintf(js, ", \"%s\": null", key);
}

static void json_host_row(FILE *js, enum lg_vmm vmm, bool more)
{
	const struct host_row *h = &host_rows[vmm];
	const struct ht_result *t = &h->ht;
	int i;

	fprintf(js, "    \"%s\": ", lg_vmm_name[vmm]);
	if (!h->ok) {
		fprintf(js, "null%s\n", more ? "," : "");
		return;
	}
	fprintf(js, "{\"iters\": %llu, \"loop_s\": %.6f",
		(unsigned long long)h->iters, t->loop_s);
	fprintf(js, ", \"exits\": %llu, \"exits_unpaired\": %llu",
		(unsigned long long)t->exits,
		(unsigned long long)(t->exits - t->paired));
	json_num(js, "exits_per_pair", (double)t->exits / h->iters, true);
	json_num(js, "host_exit_us_per_pair", per_pair_us(h, t->exit_s), true);
	json_num(js, "iqt_exits_per_pair", (double)t->inval_exits / h->iters,
		 true);
	json_num(js, "iqt_exit_us_per_pair", per_pair_us(h, t->inval_s), true);
	json_num(js, "host_us_per_inval", host_us_per_inval(vmm),
		 host_us_per_inval(vmm) > 0);
	json_num(js, "worker_us_per_pair", per_pair_us(h, t->worker_s), true);
	json_num(js, "poller_us_per_pair", per_pair_us(h, t->poller_s), true);
	json_num(js, "poller_busy_cpu_pct", poller_pct(vmm, false),
		 poller_pct(vmm, false) >= 0);
	json_num(js, "poller_idle_cpu_pct", poller_pct(vmm, true),
		 poller_pct(vmm, true) >= 0);
	json_num(js, "worker_idle_cpu_pct",
		 t->have_idle ? 100 * t->idle_worker_s / t->idle_s : 0,
		 t->have_idle);
	json_num(js, "idle_s", t->idle_s, t->have_idle);
	/* The trace prints microseconds: a median is a half at best. */
	fprintf(js, ", \"iqt_exit_us_median\": ");
	if (t->inval_exits && !t->lost)
		fprintf(js, "%.1f", 1e6 * t->inval_median_s);
	else
		fprintf(js, "null");
	fprintf(js, ", \"exit_floor_us\": ");
	if (exit_floor_us(vmm) >= 0)
		fprintf(js, "%.1f, \"exit_floor_reason\": \"%s\"",
			exit_floor_us(vmm), t->exit_floor_reason);
	else
		fprintf(js, "null, \"exit_floor_reason\": null");
	json_num(js, "host_us_per_inval_above_floor",
		 above_floor_us(vmm, exit_floor_us(vmm)),
		 above_floor_us(vmm, exit_floor_us(vmm)) > 0);
	fprintf(js, ", \"events_lost\": %s, \"exit_reasons\": {",
		t->lost ? "true" : "false");
	for (i = 0; i < HT_REASONS && t->reasons[i].n; i++)
		fprintf(js, "%s\"%s\": %llu", i ? ", " : "", t->reasons[i].name,
			(unsigned long long)t->reasons[i].n);
	fprintf(js, "}, \"exit_reason_us_median\": {");
	for (i = 0; i < HT_REASONS && t->reasons[i].n; i++) {
		fprintf(js, "%s\"%s\": ", i ? ", " : "", t->reasons[i].name);
		if (t->reasons[i].paired && !t->lost)
			fprintf(js, "%.1f", 1e6 * t->reasons[i].median_s);
		else
			fprintf(js, "null");
	}
	fprintf(js, "}}%s\n", more ? "," : "");
}

static void json_host(FILE *js)
{
	size_t i;

	fprintf(js, "  \"f_linux_host\": {\n");
	fprintf(js, "    \"unit\": \"%s\",\n",
		"L1's side of the L2 Linux guest's loop, traced apart (us, % of one CPU)");
	for (i = 0; i < ARRAY_SIZE(traced_vmms); i++)
		json_host_row(js, traced_vmms[i], i + 1 < ARRAY_SIZE(traced_vmms));
	fprintf(js, "  },\n");
}

/* The median of vmm's runs' medians in turn_results, 0 if any failed. */
static double turns_median(size_t idx)
{
	double v[MAX_ROUNDS], t;
	unsigned int k, j;

	for (k = 0; k < rounds; k++) {
		if (!turn_results[k][idx].pass || !turn_results[k][idx].median_ns)
			return 0;
		v[k] = turn_results[k][idx].median_ns;
		for (j = k; j && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	}
	if (!rounds)
		return 0;
	return rounds % 2 ? v[rounds / 2] :
	       (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
}

static double turns_over(size_t num, size_t den)
{
	double d = turns_median(den);

	return d ? turns_median(num) / d : 0;
}

static void print_turns(void)
{
	unsigned int k;
	size_t i;

	printf("\nIn turns (%u rounds), median ns per pair of each run:\n",
	       rounds);
	for (i = 0; i < ARRAY_SIZE(turn_vmms); i++) {
		printf("%-24s", lg_vmm_name[turn_vmms[i]]);
		for (k = 0; k < rounds; k++)
			printf(" %12llu",
			       (unsigned long long)turn_results[k][i].median_ns);
		printf("  median %.0f\n", turns_median(i));
	}
}

static void json_turns(FILE *js)
{
	unsigned int k;
	size_t i;

	fprintf(js, "  \"f_linux_turns\": {\"rounds\": %u", rounds);
	for (i = 0; i < ARRAY_SIZE(turn_vmms); i++) {
		fprintf(js, ", \"%s\": [", lg_vmm_name[turn_vmms[i]]);
		for (k = 0; k < rounds; k++) {
			const struct lg_result *r = &turn_results[k][i];

			if (r->pass && r->median_ns)
				fprintf(js, "%s%llu", k ? ", " : "",
					(unsigned long long)r->median_ns);
			else
				fprintf(js, "%snull", k ? ", " : "");
		}
		fprintf(js, "]");
	}
	fprintf(js, "},\n");
}

static bool linux_ok(const struct lg_result *r)
{
	return r->pass && r->median_ns;
}

/* Instructions per pair under @num over under @den, or 0 if not counted. */
static double insns_over(enum lg_vmm num, enum lg_vmm den)
{
	const struct lg_result *a = &linux_results[num], *b = &linux_results[den];

	if (!linux_ok(a) || !linux_ok(b) || !a->have_insns ||
	    !b->have_insns || !b->insns)
		return 0;
	return ((double)a->insns / a->iters) / ((double)b->insns / b->iters);
}

/* A top-level JSON ratio named @fmt (with @anchor), null if not measured. */
static void json_ratio(FILE *js, const char *fmt, const char *anchor,
		       double v)
{
	char key[64];

	snprintf(key, sizeof(key), fmt, anchor);
	if (v)
		fprintf(js, "  \"%s\": %.3f,\n", key, v);
	else
		fprintf(js, "  \"%s\": null,\n", key);
}

/* The testbed, as l1_run.sh and this kernel tell it. */
static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

#define L0_QEMU()	env_or("KVM_VIOMMU_L0_QEMU", "unknown")
#define L2_QEMU()	env_or("KVM_VIOMMU_QEMU_VERSION", "unknown")

/* The anchor's rows: the QEMU inside L1 that QEMU_ANCHOR chose. */
static bool is_qemu_row(int vmm)
{
	return vmm == LG_QEMU_VIOMMU || vmm == LG_QEMU_NO_VIOMMU;
}

static bool is_qemu72_row(int vmm)
{
	return vmm == LG_QEMU72_VIOMMU || vmm == LG_QEMU72_NO_VIOMMU;
}

/* Debian 12's QEMU 7.2's version, as run_qemu.sh --version says it. */
static const char *qemu72_version(void)
{
	static char v[96];
	char cmd[1024];
	FILE *f;

	if (v[0])
		return v;
	snprintf(v, sizeof(v), "7.2");
	/* Without its root, run_qemu.sh would name the installed QEMU. */
	if (!*env_or("KVM_VIOMMU_QEMU72", ""))
		return v;
	snprintf(cmd, sizeof(cmd),
		 "KVM_VIOMMU_QEMU_ROOT='%s' '%s' --version 2>/dev/null",
		 env_or("KVM_VIOMMU_QEMU72", ""),
		 env_or("KVM_VIOMMU_QEMU_RUN", "false"));
	f = popen(cmd, "r");
	if (!f)
		return v;
	if (fgets(v, sizeof(v), f))
		v[strcspn(v, "\n")] = '\0';
	if (pclose(f) || !v[0])
		snprintf(v, sizeof(v), "7.2");
	return v;
}

/* The QEMU a (f) row ran under, or NULL for any other VMM. */
static const char *row_qemu(int vmm)
{
	if (is_qemu_row(vmm))
		return L2_QEMU();
	if (is_qemu72_row(vmm))
		return qemu72_version();
	return NULL;
}

/* A JSON string of s, which comes from the environment. */
static void json_str(FILE *js, const char *s)
{
	fputc('"', js);
	for (; *s; s++)
		if (*s != '"' && *s != '\\' && (unsigned char)*s >= ' ')
			fputc(*s, js);
	fputc('"', js);
}

static void json_testbed(FILE *js)
{
	struct utsname u;

	uname(&u);
	fprintf(js, "  \"testbed\": {\"l0_qemu\": ");
	json_str(js, L0_QEMU());
	fprintf(js, ", \"l1_kernel\": ");
	json_str(js, u.release);
	fprintf(js, ", \"l1_cpus\": %ld, \"l2_qemu\": ",
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(js, L2_QEMU());
	/* L0 counting instructions: every figure of this run under it. */
	fprintf(js, ", \"l0_plugin\": %s",
		*env_or("KVM_VIOMMU_INSN_LOG", "") ? "true" : "false");
	fprintf(js, "},\n");
}

static void print_testbed(void)
{
	struct utsname u;

	uname(&u);
	printf("bench: testbed: L0 QEMU %s; L1 kernel %s on %ld CPUs; (f) under QEMU %s\n",
	       L0_QEMU(), u.release, sysconf(_SC_NPROCESSORS_ONLN), L2_QEMU());
}

static void json_linux_one(FILE *js, int vmm, const struct lg_result *r,
			   bool more)
{
	fprintf(js, "    \"%s\": ", lg_vmm_name[vmm]);
	if (!linux_ok(r)) {
		fprintf(js, "null%s\n", more ? "," : "");
		return;
	}
	fputc('{', js);
	if (row_qemu(vmm)) {
		fprintf(js, "\"qemu\": ");
		json_str(js, row_qemu(vmm));
		fprintf(js, ", ");
	}
	fprintf(js, "\"ns_median\": %llu, \"ns_p99\": %llu, ",
		(unsigned long long)r->median_ns,
		(unsigned long long)r->p99_ns);
	fprintf(js, "\"ns_mean\": %llu, \"iters\": %llu, \"seconds\": %.1f",
		(unsigned long long)r->mean_ns,
		(unsigned long long)r->iters, r->seconds);
	if (r->have_stats)
		fprintf(js, ", \"user_exits_per_op\": %.3f",
			(double)r->relayed_iqt / (2.0 * r->iters));
	if (r->have_loop_exits)
		fprintf(js, ", \"exits_per_pair\": %.3f",
			(double)r->loop_exits / r->iters);
	if (r->have_insns)
		fprintf(js, ", \"insns_per_pair\": %.0f",
			(double)r->insns / r->iters);
	fprintf(js, "}%s\n", more ? "," : "");
}

static void json_linux(FILE *js)
{
	int i;

	fprintf(js, "  \"f_linux\": {\n");
	fprintf(js, "    \"unit\": \"ns per 4 KiB dma_map_single+unmap in L2 Linux\",\n");
	for (i = 0; i < LG_NR_VMMS; i++)
		json_linux_one(js, i, &linux_results[i],
			       i + 1 < LG_NR_VMMS);
	fprintf(js, "  },\n");
}

static void print_linux(int vmm, const struct lg_result *r)
{
	char qemu[64] = "";

	/* "10.0.2 (Debian ...)": the version is enough in the table. */
	if (row_qemu(vmm))
		snprintf(qemu, sizeof(qemu), "QEMU %.*s",
			 (int)strcspn(row_qemu(vmm), " "), row_qemu(vmm));
	else if (lg_is_qemu_kvm(vmm))
		snprintf(qemu, sizeof(qemu), "QEMU 10.0.2 + tools/qemu");
	if (linux_ok(r) && r->have_insns)
		printf("%-24s %12llu %12llu %12.0f  %s\n", lg_vmm_name[vmm],
		       (unsigned long long)r->median_ns,
		       (unsigned long long)r->p99_ns,
		       (double)r->insns / r->iters, qemu);
	else if (linux_ok(r))
		printf("%-24s %12llu %12llu %12s  %s\n", lg_vmm_name[vmm],
		       (unsigned long long)r->median_ns,
		       (unsigned long long)r->p99_ns, "-", qemu);
	else
		printf("%-24s %12s %12s %12s  %s\n", lg_vmm_name[vmm],
		       linux_not_run[vmm] ? "not run" : "failed", "", "",
		       qemu);
}

/*
 * The same QEMU with kvm-viommu=off over kvm-viommu=on: the mean of the
 * off runs' medians over the mean of the on runs'; 0 if any run failed.
 */
static double qemu_accel_speedup(void)
{
	double sum[2] = { 0, 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(qemu_pair); i++) {
		if (!linux_ok(&qemu_pair_results[i]))
			return 0;
		sum[qemu_pair[i] == LG_QEMU_KVM_ON] +=
			qemu_pair_results[i].median_ns;
	}
	return sum[0] / sum[1];
}

static void print_qemu_pair(void)
{
	size_t i;

	printf("\nQEMU 10 (tools/qemu), the same line off and on, in this order:\n");
	for (i = 0; i < ARRAY_SIZE(qemu_pair); i++)
		print_linux(qemu_pair[i], &qemu_pair_results[i]);
}

/* The pair's runs, in their order, for the JSON. */
static void json_qemu_pair(FILE *js)
{
	size_t i;

	fprintf(js, "  \"qemu_accel_pair\": [");
	for (i = 0; i < ARRAY_SIZE(qemu_pair); i++) {
		const struct lg_result *r = &qemu_pair_results[i];

		fprintf(js, "%s{\"kvm_viommu\": %s, \"ns_median\": ",
			i ? ", " : "",
			qemu_pair[i] == LG_QEMU_KVM_ON ? "true" : "false");
		if (linux_ok(r))
			fprintf(js, "%llu}", (unsigned long long)r->median_ns);
		else
			fprintf(js, "null}");
	}
	fprintf(js, "],\n");
}

static const char *verdict(bool ok)
{
	return ok ? "met" : "MISSED";
}

/* KVM_VIOMMU_BENCH_ROWS=name,...: those (f) rows alone, once each. */
static int rows_only(const char *list)
{
	char *names = strdup(list), *save = NULL, *name;
	bool ran[LG_NR_VMMS] = { false };
	int m, bad = 0;

	if (!names)
		return 1;
	set_sidecore_spin();
	for (name = strtok_r(names, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		if (!strcmp(name, "translate")) {
			run_translate();
			continue;
		}
		for (m = 0; m < LG_NR_VMMS; m++)
			if (!strcmp(name, lg_vmm_name[m]))
				break;
		if (m == LG_NR_VMMS) {
			printf("bench: no (f) row %s\n", name);
			bad = 1;
			continue;
		}
		run_linux_guest(m, &linux_results[m]);
		ran[m] = true;
	}
	free(names);
	viommu_restore_params();
	printf("\n%-24s %12s %12s %12s  %s\n", "vmm", "median ns", "p99 ns",
	       "insns/pair", "qemu");
	for (m = 0; m < LG_NR_VMMS; m++)
		if (ran[m])
			print_linux(m, &linux_results[m]);
	print_translate();
	return bad;
}

/* KVM_VIOMMU_BENCH_TRACED=n: the traced pass alone, n times. */
static int traced_only(const char *path, int n)
{
	FILE *js = fopen(path ? path : "/dev/null", "w");
	int i;

	TEST_ASSERT(js, "open %s", path);
	fprintf(js, "{\n  \"a_vcpu_host_runs\": [");
	set_fast_path(true);
	trace_pass = true;
	for (i = 0; i < n; i++) {
		run_mode(MODE_A_VCPU);
		printf("traced %d: %u doorbells, exit to entry %.1f us, ", i,
		       host.n, host.exit_to_entry_us);
		printf("doorbell to the queue run's end %.1f us\n",
		       host.doorbell_to_run_us);
		fprintf(js, "%s\n    {\"doorbells\": %u, ", i ? "," : "",
			host.n);
		fprintf(js, "\"exit_to_entry_us_median\": %.1f, ",
			host.exit_to_entry_us);
		fprintf(js, "\"doorbell_to_run_end_us_median\": %.1f}",
			host.doorbell_to_run_us);
	}
	fprintf(js, "\n  ]\n}\n");
	fclose(js);
	return 0;
}

int main(void)
{
	const char *path = getenv("KVM_VIOMMU_BENCH_OUT");
	const char *traced = getenv("KVM_VIOMMU_BENCH_TRACED");
	struct result *a1, *b1, *c1, *d1;
	double a_over_c, a_over_floor, speedup, linux_ratio, qemu_accel;
	double over_sidecore, over_doorbell, insns_doorbell, insns_sidecore;
	double host_doorbell, host_sidecore, host_qemu72, idle_pct, busy_pct;
	double floor_doorbell, floor_tracked;
	double over_tracked, insns_tracked, host_tracked;
	const char *anchor;
	struct viommu_vfio f;
	const char *why;
	FILE *js;
	int m;
	char fast_path[8] = "";
	uint32_t c;

	print_testbed();
	viommu_mount_debugfs();
	TEST_ASSERT(viommu_read_file(FAST_PATH_PARAM, fast_path,
				     sizeof(fast_path)) > 0,
		    "read %s", FAST_PATH_PARAM);
	if (viommu_vfio_open(&f, NULL, &why)) {
		printf("bench: no device: %s\n", why);
		return 1;
	}
	/* Each mode opens it again, in a container of the kind it needs. */
	viommu_vfio_close(&f);
	if (traced && atoi(traced) > 0)
		return traced_only(path, atoi(traced));
	if (getenv("KVM_VIOMMU_BENCH_ROWS") && *getenv("KVM_VIOMMU_BENCH_ROWS"))
		return rows_only(getenv("KVM_VIOMMU_BENCH_ROWS"));
	for (m = 0; m < NR_MODES; m++) {
		printf("bench: mode %s...\n", mode_name[m]);
		fflush(stdout);
		set_fast_path(m == MODE_A_VCPU);
		run_mode(m);
	}
	printf("bench: mode a_vcpu, 4k_b1, traced...\n");
	fflush(stdout);
	set_fast_path(true);
	trace_pass = true;
	run_mode(MODE_A_VCPU);
	trace_pass = false;
	set_fast_path(fast_path[0] == 'Y' || fast_path[0] == '1');
	printf("bench: (g) translate...\n");
	fflush(stdout);
	run_translate();
	set_sidecore_spin();
	run_linux_guests();
	run_traced_guests();
	viommu_restore_params();

	printf("\n%-14s %-7s %12s %12s %10s\n", "mode", "config",
	       "median ns/op", "p99 ns/op", "exits/op");
	for (m = 0; m < NR_MODES; m++)
		for (c = 0; c < NR_CONFIGS; c++)
			printf("%-14s %-7s %12.0f %12.0f %10.2f\n",
			       mode_name[m], configs[c].name,
			       results[m][c].med_ns, results[m][c].p99_ns,
			       results[m][c].exits_per_op);

	a1 = &results[MODE_A][0];
	b1 = &results[MODE_B][0];
	c1 = &results[MODE_C][0];
	d1 = &results[MODE_D][0];
	a_over_c = a1->med_ns / c1->med_ns;
	/* The floor plus what the host IOMMU work itself costs (from (c)). */
	a_over_floor = a1->med_ns / (d1->med_ns + 2 * c1->host_ns_per_op);
	speedup = results[MODE_A][0].med_ns / results[MODE_A][2].med_ns;
	printf("\na_vcpu 4k_b1, host time per doorbell (%u, traced):\n",
	       host.n);
	printf("  exit to entry %.1f us, doorbell to the queue run's end %.1f us\n",
	       host.exit_to_entry_us, host.doorbell_to_run_us);
	printf("\n(b) relayed IQT costs %.2fx (a)\n", b1->med_ns / a1->med_ns);
	printf("target: (a) zero exits to userspace per op: %.2f, %s\n",
	       a1->exits_per_op, verdict(a1->exits_per_op == 0));
	printf("target: a_over_c <= 0.33: %.3f, %s\n", a_over_c,
	       verdict(a_over_c <= 1.0 / 3));
	printf("target: a_over_floor <= 1.3: %.3f, %s\n", a_over_floor,
	       verdict(a_over_floor <= 1.3));
	printf("target: batch64_speedup >= 5: %.2f, %s\n", speedup,
	       verdict(speedup >= 5));
	printf("\n(f) Linux guest, dma_map_single+dma_unmap_single of 4 KiB:\n");
	printf("%-24s %12s %12s %12s  %s\n", "vmm", "median ns", "p99 ns",
	       "insns/pair", "qemu");
	for (m = 0; m < LG_NR_VMMS; m++)
		print_linux(m, &linux_results[m]);
	print_turns();
	/*
	 * QEMU's median over doorbells', the sidecore's and the tracked
	 * page's, each the median of the runs made in turns (turn_vmms[]:
	 * QEMU, doorbells, sidecore, tracked).
	 */
	anchor = !strncmp(L2_QEMU(), "10", 2) ? "qemu10" :
		 !strncmp(L2_QEMU(), "7.2", 3) ? "qemu72" : "qemu";
	over_doorbell = turns_over(0, 1);
	over_sidecore = turns_over(0, 2);
	over_tracked = turns_over(0, 3);
	linux_ratio = over_doorbell;
	if (over_sidecore)
		printf("target: linux_%s_over_sidecore >= 4 (stretch 10): %.2f, %s\n",
		       anchor, over_sidecore, verdict(over_sidecore >= 4));
	else
		printf("target: linux_%s_over_sidecore: not measured\n",
		       anchor);
	if (over_doorbell)
		printf("target: linux_%s_over_doorbell >= 1.5: %.2f, %s\n",
		       anchor, over_doorbell, verdict(over_doorbell >= 1.5));
	else
		printf("target: linux_%s_over_doorbell: not measured\n",
		       anchor);
	if (over_tracked)
		printf("linux_%s_over_tracked (IQT through write tracking): %.2f\n",
		       anchor, over_tracked);

	insns_doorbell = insns_over(LG_QEMU_VIOMMU, LG_KVM_VIOMMU);
	insns_sidecore = insns_over(LG_QEMU_VIOMMU, LG_KVM_VIOMMU_SIDECORE);
	insns_tracked = insns_over(LG_QEMU_VIOMMU, LG_KVM_VIOMMU_TRACK);
	if (!insns_counted)
		printf("instructions per pair: not counted (L0 runs no plugin)\n");
	if (insns_doorbell)
		printf("insns_%s_over_doorbell: %.2f\n", anchor,
		       insns_doorbell);
	if (insns_sidecore)
		printf("insns_%s_over_sidecore: %.2f\n", anchor,
		       insns_sidecore);
	if (insns_tracked)
		printf("insns_%s_over_tracked: %.2f\n", anchor, insns_tracked);

	printf("\n(f) seen from L1, traced apart: per map+unmap pair, us;\n");
	printf("IQT: exits for IQT writes; host/inv: their exit-to-entry plus the\n");
	printf("workers' and pollers' CPU time, per invalidation (2 a pair), us;\n");
	printf("busy, idle: the pollers' share of a CPU\n");
	printf("%-24s %7s %7s %10s %9s %9s %9s %7s %7s\n", "vmm", "exits",
	       "IQT", "exit-entry", "host/inv", "worker", "poller", "busy",
	       "idle");
	for (m = 0; m < (int)ARRAY_SIZE(traced_vmms); m++)
		print_host_row(traced_vmms[m]);
	printf("\n(f) exit-to-entry medians in the loop, us: the IQT writes' exits;\n");
	printf("each other reason's (its paired exits, IQT writes left out); the\n");
	printf("floor, the lowest of those with %d paired exits or more\n",
	       HT_FLOOR_PAIRED);
	printf("%-24s %7s %-14s %s\n", "vmm", "IQT", "floor", "by reason");
	for (m = 0; m < (int)ARRAY_SIZE(traced_vmms); m++)
		print_exit_medians(traced_vmms[m]);
	floor_doorbell = host_over_floor(LG_QEMU_VIOMMU, LG_KVM_VIOMMU);
	floor_tracked = host_over_floor(LG_QEMU_VIOMMU, LG_KVM_VIOMMU_TRACK);
	host_doorbell = host_over(LG_QEMU_VIOMMU, LG_KVM_VIOMMU);
	host_sidecore = host_over(LG_QEMU_VIOMMU, LG_KVM_VIOMMU_SIDECORE);
	host_tracked = host_over(LG_QEMU_VIOMMU, LG_KVM_VIOMMU_TRACK);
	host_qemu72 = strcmp(anchor, "qemu72") ?
		      host_over(LG_QEMU72_VIOMMU, LG_KVM_VIOMMU) : 0;
	idle_pct = poller_pct(LG_KVM_VIOMMU_SIDECORE, true);
	busy_pct = poller_pct(LG_KVM_VIOMMU_SIDECORE, false);
	if (host_doorbell)
		printf("target: host_%s_over_kvm_viommu >= 4: %.2f, %s\n",
		       anchor, host_doorbell, verdict(host_doorbell >= 4));
	else
		printf("target: host_%s_over_kvm_viommu: not measured\n",
		       anchor);
	if (host_sidecore)
		printf("host_%s_over_sidecore (its spinning poller's CPU time counted): %.2f\n",
		       anchor, host_sidecore);
	if (host_tracked)
		printf("host_%s_over_tracked: %.2f\n", anchor, host_tracked);
	if (host_qemu72)
		printf("host_qemu72_over_kvm_viommu: %.2f\n", host_qemu72);
	if (floor_doorbell)
		printf("host_%s_over_kvm_viommu_above_floor: %.2f\n", anchor,
		       floor_doorbell);
	if (floor_tracked)
		printf("host_%s_over_tracked_above_floor: %.2f\n", anchor,
		       floor_tracked);
	if (idle_pct >= 0)
		printf("target: sidecore_idle_cpu_pct <= 5: %.2f, %s\n",
		       idle_pct, verdict(idle_pct <= 5));
	else
		printf("target: sidecore_idle_cpu_pct: not measured\n");
	if (busy_pct >= 0)
		printf("sidecore_busy_cpu_pct: %.1f\n", busy_pct);

	print_translate();
	print_qemu_pair();
	qemu_accel = qemu_accel_speedup();
	if (qemu_accel)
		printf("qemu_accel_speedup (QEMU 10, kvm-viommu off over on): %.2f\n",
		       qemu_accel);
	else
		printf("qemu_accel_speedup: not measured\n");

	js = path ? fopen(path, "w") : NULL;
	if (!js) {
		printf("bench: cannot write JSON\n");
		return 1;
	}
	fprintf(js, "{\n  \"unit\": \"ns per page op (map+unmap), guest TSC\",\n");
	json_testbed(js);
	if (spin_us)
		fprintf(js, "  \"sidecore_spin_us\": %lu,\n", spin_us);
	else
		fprintf(js, "  \"sidecore_spin_us\": null,\n");
	fprintf(js, "  \"modes\": {\n");
	for (m = 0; m < NR_MODES; m++) {
		fprintf(js, "    \"%s\": {\n", mode_name[m]);
		for (c = 0; c < NR_CONFIGS; c++)
			json_result(js, configs[c].name, &results[m][c],
				    c + 1 < NR_CONFIGS);
		fprintf(js, "    }%s\n", m + 1 < NR_MODES ? "," : "");
	}
	fprintf(js, "  },\n  \"host_vfio_ns_per_op\": %.0f,\n",
		c1->host_ns_per_op);
	fprintf(js, "  \"a_over_c\": %.4f,\n  \"a_over_floor\": %.4f,\n",
		a_over_c, a_over_floor);
	fprintf(js, "  \"batch64_speedup\": %.3f,\n", speedup);
	fprintf(js, "  \"a_vcpu_host\": {\"doorbells\": %u, ", host.n);
	fprintf(js, "\"exit_to_entry_us_median\": %.1f, ", host.exit_to_entry_us);
	fprintf(js, "\"doorbell_to_run_end_us_median\": %.1f},\n",
		host.doorbell_to_run_us);
	json_linux(js);
	json_turns(js);
	json_host(js);
	json_qemu_pair(js);
	json_translate(js);
	if (qemu_accel)
		fprintf(js, "  \"qemu_accel_speedup\": %.3f,\n", qemu_accel);
	else
		fprintf(js, "  \"qemu_accel_speedup\": null,\n");
	json_ratio(js, "linux_%s_over_sidecore", anchor, over_sidecore);
	json_ratio(js, "linux_%s_over_doorbell", anchor, over_doorbell);
	json_ratio(js, "insns_%s_over_doorbell", anchor, insns_doorbell);
	json_ratio(js, "insns_%s_over_sidecore", anchor, insns_sidecore);
	json_ratio(js, "host_%s_over_kvm_viommu", anchor, host_doorbell);
	json_ratio(js, "host_%s_over_sidecore", anchor, host_sidecore);
	json_ratio(js, "linux_%s_over_tracked", anchor, over_tracked);
	json_ratio(js, "insns_%s_over_tracked", anchor, insns_tracked);
	json_ratio(js, "host_%s_over_tracked", anchor, host_tracked);
	json_ratio(js, "host_%s_over_kvm_viommu_above_floor", anchor,
		   floor_doorbell);
	json_ratio(js, "host_%s_over_tracked_above_floor", anchor,
		   floor_tracked);
	if (strcmp(anchor, "qemu72"))
		json_ratio(js, "host_%s_over_kvm_viommu", "qemu72", host_qemu72);
	if (idle_pct >= 0)
		fprintf(js, "  \"sidecore_idle_cpu_pct\": %.3f,\n", idle_pct);
	else
		fprintf(js, "  \"sidecore_idle_cpu_pct\": null,\n");
	if (busy_pct >= 0)
		fprintf(js, "  \"sidecore_busy_cpu_pct\": %.3f,\n", busy_pct);
	else
		fprintf(js, "  \"sidecore_busy_cpu_pct\": null,\n");
	if (linux_ratio)
		fprintf(js, "  \"linux_qemu_over_kvm_viommu\": %.3f\n}\n",
			linux_ratio);
	else
		fprintf(js, "  \"linux_qemu_over_kvm_viommu\": null\n}\n");
	fclose(js);
	return 0;
}
