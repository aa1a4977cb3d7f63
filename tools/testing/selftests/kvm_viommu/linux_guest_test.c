// SPDX-License-Identifier: GPL-2.0-only
/*
 * An unmodified Linux guest on kvm_viommu: Debian's kernel boots under
 * viommu-vmm with intel_iommu=on, its own DMAR driver programs the unit,
 * and our edu_dma module does real DMA through dma_map_single() in both
 * directions.  Then the VMM's command line and error paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_viommu_util.h"
#include "linux_guest.h"

#define GUEST_ITERS	1000
#define GUEST_TIMEOUT	240

/*
 * A failed guest's last words, for whoever reads the TAP; then, if the
 * guest ran out of time, the registers and counters of the unit that
 * linux_guest.c's dump_units() appended after them.
 */
static void tail_log(struct __test_metadata *_metadata, const char *path,
		     int lines)
{
	static const char dump[] = "== /sys/kernel/debug/kvm_viommu/";
	char ring[25][160], line[160] = "";
	int n = 0, i, shown = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return;
	if (lines > 25)
		lines = 25;
	while (fgets(line, sizeof(line), f) &&
	       strncmp(line, dump, sizeof(dump) - 1))
		memcpy(ring[n++ % lines], line, sizeof(line));
	for (i = n > lines ? n - lines : 0; i < n; i++)
		TH_LOG("| %.*s", (int)strcspn(ring[i % lines], "\n"),
		       ring[i % lines]);
	if (!strncmp(line, dump, sizeof(dump) - 1)) {
		do {
			TH_LOG("debugfs| %.*s", (int)strcspn(line, "\n"),
			       line);
		} while (++shown < 200 && fgets(line, sizeof(line), f));
	}
	fclose(f);
}

static void show(struct __test_metadata *_metadata, const struct lg_result *r)
{
	TH_LOG("exit %d, %.1f s, iommu=%s, dma %s, result %s, dmar_errors %d",
	       r->exit_status, r->seconds, r->iommu[0] ? r->iommu : "?",
	       r->dma_ok ? "ok" : "bad", r->pass ? "pass" : "fail",
	       r->dmar_errors);
	TH_LOG("map+unmap: %llu iterations, median %llu ns, p99 %llu ns",
	       (unsigned long long)r->iters,
	       (unsigned long long)r->median_ns,
	       (unsigned long long)r->p99_ns);
	if (r->have_stats)
		TH_LOG("unit: %llu maps, %llu unmaps, %llu doorbells, %llu pinned, %llu faults",
		       (unsigned long long)r->maps,
		       (unsigned long long)r->unmaps,
		       (unsigned long long)r->doorbells,
		       (unsigned long long)r->pinned_pages,
		       (unsigned long long)r->faults);
	if (r->have_stats)
		TH_LOG("translation on took %llu us, off (%d MiB mapped; 0: by the worker) %llu us",
		       (unsigned long long)r->te_on_ns / 1000, LG_MEM_MB,
		       (unsigned long long)r->te_off_ns / 1000);
	TH_LOG("guest console: %s", r->log);
	if (!r->pass || r->exit_status)
		tail_log(_metadata, r->log, 25);
}

/* A Linux boot takes longer than the harness's default 30 s. */
FIXTURE(guest) {
	int unused;
};

FIXTURE_SETUP(guest)
{
}

/* A test that failed with a module parameter changed leaves it so. */
FIXTURE_TEARDOWN(guest)
{
	viommu_restore_params();
}

/*
 * The guest's own intel-iommu driver, through kvm_viommu under @vmm
 * (doorbells, or the sidecore, tracked or polled).
 */
/* False if the guest could not run: the test is then a skip. */
static bool check_kvm_viommu_arg(struct __test_metadata *_metadata,
				 enum lg_vmm vmm, const char *viommu_arg,
				 unsigned int cpus, unsigned int iters,
				 struct lg_result *out)
{
	struct lg_opts o = {
		.iters = iters, .cpus = cpus, .timeout_s = GUEST_TIMEOUT,
		.viommu_arg = viommu_arg,
	};
	struct lg_result r;
	const char *why;

	if (lg_run_opts(vmm, &o, &r, &why))
		SKIP(return false, "%s", why);
	*out = r;
	show(_metadata, &r);
	ASSERT_EQ(0, r.exit_status);
	ASSERT_TRUE(r.done);
	/* The device sat behind the guest's IOMMU, in a DMA domain. */
	ASSERT_STREQ("translated", r.iommu);
	ASSERT_TRUE(r.dma_ok);
	ASSERT_TRUE(r.pass);
	ASSERT_EQ(iters, r.iters);
	ASSERT_NE(0, r.median_ns);
	ASSERT_EQ(0, r.dmar_errors);
	/* What the unit saw, read before the VMM closed it. */
	ASSERT_TRUE(r.have_stats);
	ASSERT_GE(r.maps, iters);
	ASSERT_GE(r.unmaps, iters);
	ASSERT_NE(0, vmm == LG_KVM_VIOMMU ? r.doorbells :
		     r.tracked_writes + r.polled_writes);
	EXPECT_EQ(0, r.faults);
	EXPECT_EQ(0, r.iq_errors);
	EXPECT_EQ(0, r.walk_faults);
	EXPECT_EQ(0, r.pin_failures);
	EXPECT_EQ(0, r.unmap_mismatches);
	/* No queue submission took the slow path through the VMM. */
	EXPECT_EQ(0, r.relayed_iqt);
	/*
	 * Linux turns translation off at power-off: the guest's mappings
	 * are gone, and the device has all of guest RAM, untranslated.
	 */
	EXPECT_EQ(LG_MEM_PAGES, r.pinned_pages);
	/* KVM's exits in the timed loop, counted by viommu-vmm. */
	ASSERT_TRUE(r.have_loop_exits);
	TH_LOG("%s: %.3f exits per map+unmap (%llu in the loop)",
	       lg_vmm_name[vmm], (double)r.loop_exits / r.iters,
	       (unsigned long long)r.loop_exits);
	TH_LOG("%llu tracked writes, %llu polled, %llu poller runs",
	       (unsigned long long)r.tracked_writes,
	       (unsigned long long)r.polled_writes,
	       (unsigned long long)r.polled_runs);
	return true;
}

static bool check_kvm_viommu_as(struct __test_metadata *_metadata,
				enum lg_vmm vmm, unsigned int cpus,
				unsigned int iters, struct lg_result *out)
{
	return check_kvm_viommu_arg(_metadata, vmm, NULL, cpus, iters, out);
}

static void check_kvm_viommu(struct __test_metadata *_metadata,
			     unsigned int cpus, unsigned int iters)
{
	struct lg_result r = {};

	check_kvm_viommu_as(_metadata, LG_KVM_VIOMMU, cpus, iters, &r);
}

TEST_F_TIMEOUT(guest, kvm_viommu_dma, GUEST_TIMEOUT + 30)
{
	check_kvm_viommu(_metadata, 1, GUEST_ITERS);
}

/* Two vCPUs: the guest's invalidations may come from either. */
TEST_F_TIMEOUT(guest, kvm_viommu_dma_2_vcpus, GUEST_TIMEOUT + 30)
{
	check_kvm_viommu(_metadata, 2, GUEST_ITERS / 4);
}

/*
 * With the sidecore, tracked: every register write is KVM's to trap and
 * the unit's to take in the kernel; the guest works as with doorbells.
 */
TEST_F_TIMEOUT(guest, kvm_viommu_tracked_dma, GUEST_TIMEOUT + 30)
{
	struct lg_result r = {};

	if (!check_kvm_viommu_as(_metadata, LG_KVM_VIOMMU_TRACK, 1,
				 GUEST_ITERS, &r))
		return;
	EXPECT_EQ(0, r.polled_writes);
}

/*
 * viommu-vmm's default (no sidecore=): the tracked sidecore, so no IQT
 * doorbell, whose delivery costs KVM a walk of up to 256 ioeventfds; and
 * where the module refuses the sidecore with EOPNOTSUPP (its sidecore=N,
 * as on a kernel without KVM write tracking for modules), doorbells: the
 * register page goes back to read-only and the guest works the same.
 */
TEST_F_TIMEOUT(guest, kvm_viommu_default_tracks_else_rings,
	       2 * GUEST_TIMEOUT + 60)
{
	struct lg_result r = {};
	bool ran;

	if (!check_kvm_viommu_arg(_metadata, LG_KVM_VIOMMU_TRACK,
				  "caching-mode=on", 1, GUEST_ITERS / 4, &r))
		return;
	EXPECT_LT(0, r.tracked_writes);
	EXPECT_EQ(0, r.polled_writes);
	EXPECT_EQ(0, r.doorbells);
	ASSERT_EQ(0, viommu_set_param("sidecore", "N"));
	ran = check_kvm_viommu_arg(_metadata, LG_KVM_VIOMMU, "caching-mode=on",
				   1, GUEST_ITERS / 4, &r);
	viommu_restore_params();
	if (!ran)
		return;
	EXPECT_EQ(0, r.tracked_writes);
	EXPECT_LT(0, r.doorbells);
	EXPECT_EQ(0, r.relayed_iqt);
}

/*
 * With the sidecore polling: the poller takes the guest's invalidations
 * from the page, with no exit for those (KVM's tracking takes the rest:
 * the ones after the poller parked, until it runs again).  Exits per
 * map+unmap are logged; make bench measures them.  The poller needs an
 * L1 CPU of its own, or it runs only when the vCPU is preempted.
 */
TEST_F_TIMEOUT(guest, kvm_viommu_sidecore_dma, GUEST_TIMEOUT + 30)
{
	struct lg_result r = {};
	bool ran;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one L1 CPU: the sidecore poller has none of its own");
	/* This testbed's guest runs far slower than on hardware. */
	ASSERT_EQ(0, viommu_set_param("sidecore_spin_us", "20000"));
	ran = check_kvm_viommu_as(_metadata, LG_KVM_VIOMMU_SIDECORE, 1,
				  GUEST_ITERS, &r);
	viommu_restore_params();
	if (!ran)
		return;
	ASSERT_TRUE(r.have_loop_exits);
	EXPECT_LT(0, r.polled_writes);
}

/* The same guest with no vIOMMU: the device sees guest RAM as is. */
TEST_F_TIMEOUT(guest, no_viommu_dma, GUEST_TIMEOUT + 30)
{
	struct lg_result r;
	const char *why;

	if (lg_run(LG_VMM_NO_VIOMMU, GUEST_ITERS, GUEST_TIMEOUT, &r, &why))
		SKIP(return, "%s", why);
	show(_metadata, &r);
	ASSERT_EQ(0, r.exit_status);
	ASSERT_TRUE(r.done);
	ASSERT_STREQ("none", r.iommu);
	ASSERT_TRUE(r.dma_ok);
	ASSERT_TRUE(r.pass);
	ASSERT_EQ(0, r.dmar_errors);
	ASSERT_FALSE(r.have_stats);
}

/* Runs viommu-vmm with args; returns its exit status and output. */
static int vmm_output(const char *args, char *out, size_t len)
{
	const char *vmm = getenv("KVM_VIOMMU_VMM");
	char cmd[1024];
	size_t n = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1 </dev/null", vmm, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && !feof(f))
		n += fread(out + n, 1, len - 1 - n, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Copies src to dst with @K and @B replaced by kernel and bdf. */
static void expand(char *dst, size_t len, const char *src, const char *kernel,
		   const char *bdf)
{
	size_t n = 0;

	for (; *src && n + 1 < len; src++) {
		const char *with = NULL;

		if (src[0] == '@' && src[1] == 'K')
			with = kernel;
		else if (src[0] == '@' && src[1] == 'B')
			with = bdf;
		if (!with) {
			dst[n++] = *src;
			continue;
		}
		n += snprintf(dst + n, len - n, "%s", with);
		if (n >= len)
			n = len - 1;
		src++;
	}
	dst[n] = '\0';
}

/* Every bad option, missing file and busy device gets a clear error. */
TEST(bad_options)
{
	static const struct {
		const char *args;
		int status;
		const char *says;
	} cases[] = {
		{ "", 2, "--kernel is required" },
		{ "--kernel", 2, "bad option" },
		{ "--bogus", 2, "bad option" },
		{ "--kernel @K extra", 2, "unexpected argument" },
		{ "--kernel @K --mem 1K", 2, "--mem '1K'" },
		{ "--kernel @K --mem 4G", 2, "--mem '4G'" },
		{ "--kernel @K --mem 3M", 2, "--mem '3M'" },
		{ "--kernel @K --cpus 0", 2, "--cpus '0'" },
		{ "--kernel @K --cpus 3", 2, "--cpus '3'" },
		{ "--kernel @K --viommu caching-mode=on", 2, "needs a device" },
		{ "--kernel @K --vfio @B --viommu caching-mode=off", 2,
		  "needs caching-mode=on" },
		{ "--kernel @K --vfio @B --viommu bogus", 2, "unknown option" },
		{ "--kernel /nonexistent", 1, "No such file" },
		{ "--kernel /etc/hostname", 1, "not a bzImage" },
		{ "--kernel @K --initrd /nonexistent", 1, "--initrd" },
		{ "--kernel @K --vfio 1:2", 1, "want a host PCI address" },
		{ "--kernel @K --vfio 0000:00:1f.7", 1, "no such PCI device" },
		{ "--kernel @K --vfio 0000:00:00.0", 1, "not bound to vfio-pci" },
	};
	const char *kernel = getenv("KVM_VIOMMU_L2_KERNEL");
	const char *bdf = getenv("KVM_VIOMMU_EDU_BDF");
	char args[512], out[4096];
	size_t i;
	int st;

	if (!getenv("KVM_VIOMMU_VMM") || !kernel || !bdf)
		SKIP(return, "not in the testbed (KVM_VIOMMU_VMM unset)");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		expand(args, sizeof(args), cases[i].args, kernel, bdf);
		st = vmm_output(args, out, sizeof(out));
		TH_LOG("viommu-vmm %s -> %d: %.*s", cases[i].args, st,
		       (int)strcspn(out, "\n"), out);
		EXPECT_EQ(cases[i].status, st);
		EXPECT_NE(NULL, strstr(out, cases[i].says));
	}
}

/* A device another process holds is refused as busy, at once. */
TEST(device_busy)
{
	const char *kernel = getenv("KVM_VIOMMU_L2_KERNEL");
	const char *bdf = getenv("KVM_VIOMMU_EDU_BDF");
	const char *grp = getenv("KVM_VIOMMU_EDU_GROUP");
	char path[64], args[512], out[4096];
	int fd;

	if (!getenv("KVM_VIOMMU_VMM") || !kernel || !bdf || !grp)
		SKIP(return, "not in the testbed (KVM_VIOMMU_VMM unset)");
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	snprintf(args, sizeof(args), "--kernel %s --vfio %s", kernel, bdf);
	EXPECT_EQ(1, vmm_output(args, out, sizeof(out)));
	TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "busy"));
	close(fd);
}

TEST_HARNESS_MAIN
