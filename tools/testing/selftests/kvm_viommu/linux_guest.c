// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs the Linux guest under one VMM; see linux_guest.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm_viommu_util.h"
#include "linux_guest.h"

#define LG_STR(x)	#x
#define LG_XSTR(x)	LG_STR(x)
#define LG_MEM_ARG	LG_XSTR(LG_MEM_MB) "M"

const char *const lg_vmm_name[LG_NR_VMMS] = {
	[LG_KVM_VIOMMU] = "kvm_viommu",
	[LG_VMM_NO_VIOMMU] = "no_viommu",
	[LG_QEMU_VIOMMU] = "qemu_viommu",
	[LG_QEMU_NO_VIOMMU] = "qemu_no_viommu",
	[LG_KVM_VIOMMU_TRACK] = "kvm_viommu_tracked",
	[LG_KVM_VIOMMU_SIDECORE] = "kvm_viommu_sidecore",
	[LG_QEMU_KVM_ON] = "qemu_kvm_viommu_on",
	[LG_QEMU_KVM_OFF] = "qemu_kvm_viommu_off",
	[LG_QEMU_KVM_SIDECORE] = "qemu_kvm_viommu_sidecore",
	[LG_QEMU_KVM_TRACKED] = "qemu_kvm_viommu_tracked",
	[LG_QEMU72_VIOMMU] = "qemu72_viommu",
	[LG_QEMU72_NO_VIOMMU] = "qemu72_no_viommu",
};

/* run_qemu_kvm.sh's first argument for each of the patched QEMU's modes. */
static const char *const lg_qemu_kvm_mode[LG_NR_VMMS] = {
	[LG_QEMU_KVM_ON] = "on",
	[LG_QEMU_KVM_OFF] = "off",
	[LG_QEMU_KVM_SIDECORE] = "poll",
	[LG_QEMU_KVM_TRACKED] = "track",
};

/* viommu-vmm's --viommu for each of its kvm_viommu modes. */
static const char *const lg_viommu_arg[LG_NR_VMMS] = {
	[LG_KVM_VIOMMU] = "caching-mode=on,sidecore=off",
	[LG_KVM_VIOMMU_TRACK] = "caching-mode=on,sidecore=track",
	[LG_KVM_VIOMMU_SIDECORE] = "caching-mode=on,sidecore=poll",
};

static const char *env_path(const char *name, const char **why)
{
	const char *p = getenv(name);

	if (!p || !*p || access(p, R_OK)) {
		*why = name;
		return NULL;
	}
	return p;
}

/* guest/run_qemu_kvm.sh, beside run_qemu.sh; NULL with *why set if not. */
static const char *qemu_kvm_run(char *buf, size_t len, const char **why)
{
	const char *run = env_path("KVM_VIOMMU_QEMU_RUN", why);
	const char *slash = run ? strrchr(run, '/') : NULL;

	if (!slash)
		return NULL;
	snprintf(buf, len, "%.*s/run_qemu_kvm.sh", (int)(slash - run), run);
	if (access(buf, X_OK)) {
		*why = "guest/run_qemu_kvm.sh missing";
		return NULL;
	}
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A guest that ran out of time: what every kvm_viommu unit looked like,
 * and where each thread of the VMM's process group (@pgid) is in the
 * kernel, appended to its console log for whoever reads it.
 */
static void dump_units(const char *log, pid_t pgid)
{
	char cmd[768];

	snprintf(cmd, sizeof(cmd),
		 "{ for d in /sys/kernel/debug/kvm_viommu/*/; do echo \"== $d\"; cat $d/info $d/regs $d/stats; done; "
		 "for p in $(pgrep -g %d); do for t in /proc/$p/task/*; do echo \"== $t $(cat $t/comm) $(cat $t/wchan)\"; cat $t/stack; done; done; } >> %s 2>&1",
		 (int)pgid, log);
	if (system(cmd))
		return;
}

/* Runs argv with stdout and stderr to log; kills it after timeout_s. */
static int run_logged(char *const argv[], const char *log,
		      unsigned int timeout_s)
{
	double deadline = now_s() + timeout_s;
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		/* Its own process group, so the timeout reaches QEMU too. */
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_s() > deadline) {
			dump_units(log, pid);
			/* Every task's stack to L1's log, while it still hangs. */
			viommu_write_file("/proc/sysrq-trigger", "t");
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(50 * 1000);
	}
}

static uint64_t field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void parse_console(struct lg_result *r)
{
	char line[512];
	const char *p;
	FILE *f;

	f = fopen(r->log, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "guest: done"))
			r->done = true;
		p = strstr(line, "guest: dmar_errors=");
		if (p)
			r->dmar_errors = atoi(p + strlen("guest: dmar_errors="));
		if (!strstr(line, "edu_dma: "))
			continue;
		p = strstr(line, "edu_dma: iommu=");
		if (p)
			sscanf(p, "edu_dma: iommu=%15s", r->iommu);
		if (strstr(line, "edu_dma: dma_check") && strstr(line, " ok"))
			r->dma_ok = true;
		if (strstr(line, "edu_dma: map_unmap ")) {
			r->iters = field(line, "iters=");
			r->median_ns = field(line, "median_ns=");
			r->p99_ns = field(line, "p99_ns=");
			r->mean_ns = field(line, "mean_ns=");
		}
		if (strstr(line, "edu_dma: result pass"))
			r->pass = true;
	}
	fclose(f);
}

static void parse_stats(struct lg_result *r, const char *path)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "maps", offsetof(struct lg_result, maps) },
		{ "unmaps", offsetof(struct lg_result, unmaps) },
		{ "pinned_pages", offsetof(struct lg_result, pinned_pages) },
		{ "faults", offsetof(struct lg_result, faults) },
		{ "iq_errors", offsetof(struct lg_result, iq_errors) },
		{ "doorbells", offsetof(struct lg_result, doorbells) },
		{ "walk_faults", offsetof(struct lg_result, walk_faults) },
		{ "pin_failures", offsetof(struct lg_result, pin_failures) },
		{ "vmm_relayed_iqt", offsetof(struct lg_result, relayed_iqt) },
		{ "vmm_relayed_writes",
		  offsetof(struct lg_result, relayed_writes) },
		{ "unmap_mismatches",
		  offsetof(struct lg_result, unmap_mismatches) },
		{ "forwarded", offsetof(struct lg_result, forwarded) },
		{ "vfio_kvm_viommu_containers",
		  offsetof(struct lg_result, kvm_viommu_containers) },
		{ "vmm_te_on_ns", offsetof(struct lg_result, te_on_ns) },
		{ "vmm_te_off_ns", offsetof(struct lg_result, te_off_ns) },
		{ "tracked_writes",
		  offsetof(struct lg_result, tracked_writes) },
		{ "polled_writes", offsetof(struct lg_result, polled_writes) },
		{ "polled_runs", offsetof(struct lg_result, polled_runs) },
		{ "vmm_sidecore_fallbacks",
		  offsetof(struct lg_result, sidecore_fallbacks) },
		{ "vmm_loop_exits", offsetof(struct lg_result, loop_exits) },
		{ }
	};
	unsigned long long val;
	char key[64];
	size_t i;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return;
	while (fscanf(f, "%63s %llu", key, &val) == 2) {
		if (!strcmp(key, "viommu"))
			r->have_stats = val;
		if (!strcmp(key, "vmm_loop_exits"))
			r->have_loop_exits = true;
		for (i = 0; keys[i].key; i++)
			if (!strcmp(key, keys[i].key))
				*(uint64_t *)((char *)r + keys[i].off) = val;
	}
	fclose(f);
}

int lg_qemu_cmdline(enum lg_vmm vmm, char *buf, size_t len)
{
	char run[512], cmd[600];
	const char *why, *tool;
	size_t n = 0;
	FILE *f;

	if (!lg_is_qemu_kvm(vmm) || !len)
		return -EINVAL;
	tool = qemu_kvm_run(run, sizeof(run), &why);
	if (!tool)
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "%s --cmdline %s", tool,
		 lg_qemu_kvm_mode[vmm]);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	while (n + 1 < len && !feof(f) && !ferror(f))
		n += fread(buf + n, 1, len - 1 - n, f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return pclose(f) ? -EIO : 0;
}

int lg_run(enum lg_vmm vmm, unsigned int iters, unsigned int timeout_s,
	   struct lg_result *r, const char **why)
{
	return lg_run_cpus(vmm, iters, 1, timeout_s, r, why);
}

int lg_run_cpus(enum lg_vmm vmm, unsigned int iters, unsigned int cpus,
		unsigned int timeout_s, struct lg_result *r, const char **why)
{
	struct lg_opts o = {
		.iters = iters, .cpus = cpus, .timeout_s = timeout_s,
	};

	return lg_run_opts(vmm, &o, r, why);
}

/*
 * QEMU 7.2's rows: run_qemu.sh runs the QEMU unpacked at
 * $KVM_VIOMMU_QEMU72 when KVM_VIOMMU_QEMU_ROOT says so.  The anchor's root
 * (empty for QEMU 10) goes back once the guest is done, into *saved.
 */
static int qemu72_root(char **saved, const char **why)
{
	const char *root = getenv("KVM_VIOMMU_QEMU72");
	const char *old = getenv("KVM_VIOMMU_QEMU_ROOT");
	char bin[512];

	snprintf(bin, sizeof(bin), "%s/usr/bin/qemu-system-x86_64",
		 root ? root : "");
	if (!root || !*root || access(bin, X_OK)) {
		*why = "no QEMU 7.2 (KVM_VIOMMU_QEMU72)";
		return -ENOENT;
	}
	*saved = strdup(old ? old : "");
	if (!*saved || setenv("KVM_VIOMMU_QEMU_ROOT", root, 1)) {
		free(*saved);
		*saved = NULL;
		*why = "no memory";
		return -ENOMEM;
	}
	return 0;
}

int lg_run_opts(enum lg_vmm vmm, const struct lg_opts *o,
		struct lg_result *r, const char **why)
{
	const char *kernel, *initrd, *tool, *bdf;
	char append[320], stats[256], guest_args[128], cpus_arg[16];
	char run_kvm[512], *argv[24], *saved_root = NULL;
	const char *tmp = getenv("TMPDIR");
	bool qemu_kvm = lg_is_qemu_kvm(vmm);
	bool qemu = lg_is_qemu(vmm);
	bool viommu = vmm == LG_QEMU_VIOMMU || vmm == LG_QEMU72_VIOMMU ||
		      lg_viommu_arg[vmm];
	double t0;
	int n;

	memset(r, 0, sizeof(*r));
	r->dmar_errors = -1;
	kernel = env_path("KVM_VIOMMU_L2_KERNEL", why);
	initrd = env_path("KVM_VIOMMU_L2_INITRD", why);
	if (qemu_kvm)
		tool = qemu_kvm_run(run_kvm, sizeof(run_kvm), why);
	else
		tool = env_path(qemu ? "KVM_VIOMMU_QEMU_RUN" : "KVM_VIOMMU_VMM",
				why);
	bdf = getenv("KVM_VIOMMU_EDU_BDF");
	if (!bdf) {
		*why = "no edu device bound to vfio-pci (run in the testbed)";
		return -ENODEV;
	}
	if (!kernel || !initrd || !tool)
		return -ENOENT;
	if ((vmm == LG_QEMU72_VIOMMU || vmm == LG_QEMU72_NO_VIOMMU) &&
	    qemu72_root(&saved_root, why))
		return -ENOENT;
	if (!tmp)
		tmp = "/tmp";
	snprintf(r->log, sizeof(r->log), "%s/l2-%s.log", tmp,
		 lg_vmm_name[vmm]);
	snprintf(stats, sizeof(stats), "%s/l2-%s.stats", tmp,
		 lg_vmm_name[vmm]);
	/*
	 * The marks (LG_MARK_PORT) under every VMM: viommu-vmm counts the
	 * loop's exits itself (see its mark.c), and L1 sees them all.
	 */
	snprintf(guest_args, sizeof(guest_args),
		 "edu_dma.iters=%u edu_dma.mark_port=%#x edu_dma.idle_ms=%u",
		 o->iters, LG_MARK_PORT, o->idle_ms);
	snprintf(cpus_arg, sizeof(cpus_arg), "%u", o->cpus);
	unlink(stats);
	/* quiet: every console byte is an exit to the VMM. */
	snprintf(append, sizeof(append),
		 "console=ttyS0 quiet panic=-1 intel_iommu=%s %s",
		 viommu ? "on" : "off", guest_args);

	t0 = now_s();
	n = 0;
	argv[n++] = (char *)tool;
	if (qemu_kvm) {
		argv[n++] = (char *)lg_qemu_kvm_mode[vmm];
		argv[n++] = (char *)kernel;
		argv[n++] = (char *)initrd;
		setenv("GUEST_APPEND", guest_args, 1);
		setenv("GUEST_STATS", stats, 1);
	} else if (qemu) {
		argv[n++] = viommu ? "viommu" : "none";
		argv[n++] = (char *)kernel;
		argv[n++] = (char *)initrd;
		/* run_qemu.sh adds these to the guest's command line. */
		setenv("GUEST_APPEND", guest_args, 1);
	} else {
		argv[n++] = "--kernel";
		argv[n++] = (char *)kernel;
		argv[n++] = "--initrd";
		argv[n++] = (char *)initrd;
		argv[n++] = "--append";
		argv[n++] = append;
		argv[n++] = "--mem";
		argv[n++] = LG_MEM_ARG;
		argv[n++] = "--cpus";
		argv[n++] = cpus_arg;
		argv[n++] = "--vfio";
		argv[n++] = (char *)bdf;
		argv[n++] = "--stats";
		argv[n++] = stats;
		if (viommu) {
			argv[n++] = "--viommu";
			argv[n++] = (char *)(o->viommu_arg ? o->viommu_arg :
					     lg_viommu_arg[vmm]);
		}
	}
	argv[n] = NULL;
	r->exit_status = run_logged(argv, r->log, o->timeout_s);
	r->seconds = now_s() - t0;
	if (saved_root) {
		setenv("KVM_VIOMMU_QEMU_ROOT", saved_root, 1);
		free(saved_root);
	}
	if (qemu_kvm) {
		unsetenv("GUEST_STATS");
		/* run_qemu_kvm.sh's skip: the patched QEMU was not built. */
		if (r->exit_status == 4) {
			*why = "no patched QEMU (make qemu)";
			return -ENOENT;
		}
	}
	parse_console(r);
	if (!qemu)
		parse_stats(r, stats);
	return 0;
}
