// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of viommu_bench's reading of L1's trace (host_trace.c): plain
 * userspace, no KVM, no tracefs.  Each test feeds ht_parse() a trace in
 * tracefs's text format, written by hand with known spells, and checks
 * the figures the bench reports from it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#include "host_trace.h"

/* Within a nanosecond: the trace's clock prints microseconds. */
#define NEAR(a, b)	(fabs((a) - (b)) < 0.000000001)

static void parse(const char *text, struct ht_result *r)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	if (!f) {
		memset(r, 0xff, sizeof(*r));
		return;
	}
	ht_parse(f, r);
	fclose(f);
}

#define PIO_AT(comm_pid, cpu, ts, port, val)				\
	"  " comm_pid " [" cpu "] ..... " ts ": kvm_pio: "		\
	"pio_write at " port " size 1 count 1 val 0x" val "\n"
#define PIO(comm_pid, cpu, ts, val)	PIO_AT(comm_pid, cpu, ts, "0x510", val)
#define EXIT_AT(comm_pid, cpu, ts, reason, gpa)				\
	"  " comm_pid " [" cpu "] d..1. " ts ": kvm_exit: "		\
	"vcpu 0 reason " reason " rip 0xffffffff81000000 "		\
	"info1 0x0000000000000000 info2 0x" gpa " "			\
	"intr_info 0x00000000 error_code 0x00000000\n"
/* info2 of an npf exit is its GPA: this one is IQT's. */
#define EXIT(comm_pid, cpu, ts, reason)					\
	EXIT_AT(comm_pid, cpu, ts, reason, "00000000fed90088")
#define ENTRY(comm_pid, cpu, ts)					\
	"  " comm_pid " [" cpu "] d..1. " ts ": kvm_entry: "		\
	"vcpu 0, rip 0xffffffff81000000\n"
#define SWITCH(cpu, ts, prev, next)					\
	"  task-7 [" cpu "] d..2. " ts ": sched_switch: "		\
	"prev_comm=" prev " prev_pid=7 prev_prio=120 prev_state=S ==> "	\
	"next_comm=" next " next_pid=8 next_prio=120\n"

/* QEMU names its vCPU threads with a blank: "CPU 0/KVM". */
#define VCPU	"CPU 0/KVM-500"

static const char loop_trace[] =
	"# tracer: nop\n"
	"#\n"
	"# entries-in-buffer/entries-written: 19/19   #P:2\n"
	SWITCH("001", "1.000000", "swapper/1", "kvm-viommu-sc/0")
	PIO(VCPU, "000", "10.000000", "1")
	ENTRY(VCPU, "000", "10.000010")
	EXIT(VCPU, "000", "10.000100", "npf")
	SWITCH("001", "10.000150", "kvm-viommu-sc/0", "swapper/1")
	/* The exit's entry on the other CPU: the thread migrated. */
	ENTRY(VCPU, "001", "10.000300")
	EXIT(VCPU, "001", "10.000400", "io")
	ENTRY(VCPU, "001", "10.000450")
	SWITCH("000", "10.000500", "swapper/0", "kvm-viommu-123")
	SWITCH("000", "10.000600", "kvm-viommu-123", "swapper/0")
	EXIT(VCPU, "001", "10.000700", "npf")
	ENTRY(VCPU, "001", "10.000710")
	/* The end mark's own exit, and the mark. */
	EXIT(VCPU, "001", "10.000900", "io")
	PIO(VCPU, "001", "10.000901", "2")
	/* The end mark's entry: after the loop, not timed. */
	ENTRY(VCPU, "001", "10.000950")
	PIO(VCPU, "001", "11.000000", "3")
	SWITCH("000", "11.300000", "swapper/0", "kvm-viommu-sc/0")
	SWITCH("000", "11.700000", "kvm-viommu-sc/0", "swapper/0")
	PIO(VCPU, "001", "12.000000", "4");

TEST(loop_exits_entries_and_threads)
{
	struct ht_result r;

	parse(loop_trace, &r);
	ASSERT_TRUE(r.marked);
	EXPECT_FALSE(r.lost);
	EXPECT_EQ(500, r.vcpu_tid);
	EXPECT_EQ(19ULL, r.events);
	EXPECT_TRUE(NEAR(r.loop_s, 0.000901));
	/* Three in the loop; the end mark's own is not the loop's. */
	EXPECT_EQ(3ULL, r.exits);
	EXPECT_EQ(3ULL, r.paired);
	EXPECT_TRUE(NEAR(r.exit_s, 0.000200 + 0.000050 + 0.000010));
	/* The two npf exits at IQT are the invalidations'. */
	EXPECT_EQ(2ULL, r.inval_exits);
	EXPECT_TRUE(NEAR(r.inval_s, 0.000200 + 0.000010));
	/* On CPU 1 since before the loop, off 150 us into it. */
	EXPECT_TRUE(NEAR(r.poller_s, 0.000150));
	EXPECT_TRUE(NEAR(r.worker_s, 0.000100));
	/* An even count's median is the mean of the middle two. */
	EXPECT_TRUE(NEAR(r.inval_median_s, (0.000200 + 0.000010) / 2));
	/* The reasons' times leave the IQT writes out. */
	EXPECT_STREQ("npf", r.reasons[0].name);
	EXPECT_EQ(2ULL, r.reasons[0].n);
	EXPECT_EQ(0ULL, r.reasons[0].paired);
	/* The end mark's own io exit is neither counted nor timed. */
	EXPECT_STREQ("io", r.reasons[1].name);
	EXPECT_EQ(1ULL, r.reasons[1].n);
	EXPECT_EQ(1ULL, r.reasons[1].paired);
	EXPECT_TRUE(NEAR(r.reasons[1].median_s, 0.000050));
	EXPECT_EQ(0ULL, r.reasons[2].n);
	/* No reason has HT_FLOOR_PAIRED exits: no floor. */
	EXPECT_TRUE(r.exit_floor_s < 0);
	EXPECT_STREQ("", r.exit_floor_reason);
	/* Idle from 0.5 s after mark 3: the poller's 11.5 to 11.7. */
	ASSERT_TRUE(r.have_idle);
	EXPECT_TRUE(NEAR(r.idle_s, 0.5));
	EXPECT_TRUE(NEAR(r.idle_poller_s, 0.2));
	EXPECT_TRUE(NEAR(r.idle_worker_s, 0));
}

/* A poller that never leaves its CPU runs until the trace's end. */
static const char spinning_trace[] =
	"# entries-in-buffer/entries-written: 4/4   #P:2\n"
	PIO("viommu-vmm-42", "000", "5.000000", "1")
	SWITCH("001", "5.000100", "swapper/1", "kvm-viommu-sc/0")
	EXIT("viommu-vmm-42", "000", "5.000900", "io")
	PIO("viommu-vmm-42", "000", "5.001000", "2");

TEST(poller_on_cpu_at_the_end)
{
	struct ht_result r;

	parse(spinning_trace, &r);
	ASSERT_TRUE(r.marked);
	EXPECT_EQ(42, r.vcpu_tid);
	EXPECT_EQ(0ULL, r.exits);
	EXPECT_EQ(0ULL, r.paired);
	EXPECT_TRUE(NEAR(r.poller_s, 0.000900));
	EXPECT_FALSE(r.have_idle);
}

/*
 * Two vCPU threads whose exits and entries interleave, an npf exit that
 * is not IQT's, an exit of the other thread whose entry comes after the
 * end mark (unpaired), and kvm_pio as 6.1 prints it, with a trailing
 * blank (\x20 here: checkpatch takes a blank before \n for a slip).
 */
#define VCPU1	"CPU 1/KVM-501"

static const char two_vcpus_trace[] =
	"# entries-in-buffer/entries-written: 11/11   #P:2\n"
	"  " VCPU " [000] ..... 20.000000: kvm_pio: pio_write at 0x510 size 1 count 1 val 0x1\x20\n"
	EXIT(VCPU, "000", "20.000100", "npf")
	EXIT_AT(VCPU1, "001", "20.000150", "npf", "00000000fee00300")
	ENTRY(VCPU1, "001", "20.000170")
	ENTRY(VCPU, "000", "20.000400")
	EXIT(VCPU1, "001", "20.000500", "npf")
	ENTRY(VCPU1, "001", "20.000560")
	EXIT(VCPU1, "001", "20.000600", "msr")
	EXIT(VCPU, "000", "20.000800", "io")
	"  " VCPU " [000] ..... 20.000801: kvm_pio: pio_write at 0x510 size 1 count 1 val 0x2\x20\n"
	ENTRY(VCPU1, "001", "20.000900");

TEST(two_vcpus_interleaved)
{
	struct ht_result r;

	parse(two_vcpus_trace, &r);
	ASSERT_TRUE(r.marked);
	EXPECT_EQ(500, r.vcpu_tid);
	/* Five exits in the loop, less the end mark's own: four. */
	EXPECT_EQ(4ULL, r.exits);
	/* VCPU1's msr exit is entered after the end mark. */
	EXPECT_EQ(3ULL, r.paired);
	EXPECT_TRUE(NEAR(r.exit_s, 0.000300 + 0.000020 + 0.000060));
	/* Two at IQT, one from each thread; fee00300 is not IQT. */
	EXPECT_EQ(2ULL, r.inval_exits);
	EXPECT_TRUE(NEAR(r.inval_s, 0.000300 + 0.000060));
	EXPECT_TRUE(NEAR(r.inval_median_s, (0.000300 + 0.000060) / 2));
	/* Of the three npf exits, the one not at IQT has a time. */
	EXPECT_STREQ("npf", r.reasons[0].name);
	EXPECT_EQ(3ULL, r.reasons[0].n);
	EXPECT_EQ(1ULL, r.reasons[0].paired);
	EXPECT_TRUE(NEAR(r.reasons[0].median_s, 0.000020));
	/* The unpaired msr exit is counted but has no time. */
	EXPECT_STREQ("msr", r.reasons[1].name);
	EXPECT_EQ(1ULL, r.reasons[1].n);
	EXPECT_EQ(0ULL, r.reasons[1].paired);
	EXPECT_TRUE(NEAR(r.reasons[1].median_s, 0));
}

/* The same lines as EXIT_AT, ENTRY and PIO, for a trace built in a loop. */
#define EXIT_FMT							\
	"  " VCPU " [000] d..1. %.6f: kvm_exit: vcpu 0 reason %s "	\
	"rip 0xffffffff81000000 info1 0x0000000000000000 "		\
	"info2 0x%016llx intr_info 0x00000000 error_code 0x00000000\n"
#define ENTRY_FMT							\
	"  " VCPU " [000] d..1. %.6f: kvm_entry: "			\
	"vcpu 0, rip 0xffffffff81000000\n"
#define PIO_FMT								\
	"  " VCPU " [000] ..... %.6f: kvm_pio: "			\
	"pio_write at 0x510 size 1 count 1 val 0x%x\n"

/* Appends one exit of reason at info2 gpa, entered us later, to f. */
static void exit_for(FILE *f, double *ts, const char *reason,
		     unsigned long long gpa, double us)
{
	fprintf(f, EXIT_FMT, *ts, reason, gpa);
	*ts += us / 1e6;
	fprintf(f, ENTRY_FMT, *ts);
	*ts += 0.000010;
}

static void mark(FILE *f, double *ts, int val)
{
	fprintf(f, PIO_FMT, *ts, val);
	*ts += 0.000010;
}

/*
 * A loop started twice, the first start's exits forgotten (io's and the
 * IQT writes' times there would move both medians); a rare reason first, then more IQT
 * writes than the first allocation holds, more than HT_REASONS reasons,
 * and the floor's reason among the rarer ones.
 */
TEST(medians_and_floor)
{
	static const char *const many[] = {
		"hlt", "cpuid", "pause", "rdpmc", "xsetbv", "invlpg", "wbinvd",
	};
	struct ht_result r;
	char *text = NULL;
	size_t len = 0, i, k;
	double ts = 1;
	FILE *f;

	f = open_memstream(&text, &len);
	ASSERT_NE(NULL, f);
	fprintf(f, "# tracer: nop\n");
	mark(f, &ts, 1);
	for (i = 0; i < 12; i++)
		exit_for(f, &ts, "io", 0, 1);
	for (i = 0; i < 301; i++)
		exit_for(f, &ts, "npf", HT_IQT_GPA, 1);
	mark(f, &ts, 1);
	for (i = 0; i < 10; i++)
		exit_for(f, &ts, "io", 0, 40);
	for (i = 0; i < 300; i++)
		exit_for(f, &ts, "npf", HT_IQT_GPA, 100);
	for (i = 0; i < 12; i++)
		exit_for(f, &ts, "npf", 0xfee00300, 200);
	for (k = 0; k < 7; k++)
		for (i = 0; i < 12; i++)
			exit_for(f, &ts, many[k], 0, 500);
	for (i = 0; i < 11; i++)
		exit_for(f, &ts, "vintr", 0, 30);
	/* Cheaper, but one short of HT_FLOOR_PAIRED. */
	for (i = 0; i < HT_FLOOR_PAIRED - 1; i++)
		exit_for(f, &ts, "msr", 0, 2);
	mark(f, &ts, 2);
	ASSERT_EQ(0, fclose(f));
	parse(text, &r);
	free(text);

	ASSERT_TRUE(r.marked);
	EXPECT_FALSE(r.lost);
	EXPECT_EQ(10ULL + 312 + 7 * 12 + 11 + HT_FLOOR_PAIRED - 1, r.exits);
	EXPECT_EQ(300ULL, r.inval_exits);
	EXPECT_TRUE(NEAR(r.inval_median_s, 0.000100));
	/* vintr: io's 1 us were before the second start. */
	EXPECT_TRUE(NEAR(r.exit_floor_s, 0.000030));
	EXPECT_STREQ("vintr", r.exit_floor_reason);
	EXPECT_STREQ("npf", r.reasons[0].name);
	EXPECT_EQ(312ULL, r.reasons[0].n);
	EXPECT_EQ(12ULL, r.reasons[0].paired);
	EXPECT_TRUE(NEAR(r.reasons[0].median_s, 0.000200));
	/* The seven with 12 each; vintr (11) is ninth, io (10) tenth. */
	for (i = 1; i < HT_REASONS; i++) {
		EXPECT_EQ(12ULL, r.reasons[i].n);
		EXPECT_TRUE(NEAR(r.reasons[i].median_s, 0.000500));
		EXPECT_NE(0, strcmp("vintr", r.reasons[i].name));
		EXPECT_NE(0, strcmp("io", r.reasons[i].name));
	}
}

/* No end mark, another thread's "end", a port not ours, an overflow. */
static const char broken_trace[] =
	"# entries-in-buffer/entries-written: 4/9   #P:2\n"
	PIO("viommu-vmm-42", "000", "5.000000", "1")
	PIO_AT("viommu-vmm-43", "001", "5.000500", "0x511", "2")
	PIO("viommu-vmm-43", "001", "5.000600", "2")
	EXIT("viommu-vmm-42", "000", "5.000900", "io");

TEST(no_end_mark_is_no_loop)
{
	struct ht_result r;

	parse(broken_trace, &r);
	EXPECT_FALSE(r.marked);
	EXPECT_TRUE(r.lost);
	EXPECT_EQ(4ULL, r.events);
	EXPECT_TRUE(NEAR(r.loop_s, 0));
	EXPECT_EQ(0ULL, r.paired);
	EXPECT_TRUE(NEAR(r.exit_s, 0));
	EXPECT_FALSE(r.have_idle);
}

TEST_HARNESS_MAIN
