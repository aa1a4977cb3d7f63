// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_bench's traced pass in L1; see host_trace.h.
 *
 * The trace interleaves L1's CPUs in time order (trace_clock global, so
 * that an exit on one CPU and its entry on another compare).  Exits are
 * matched to entries per thread: a vCPU thread's kvm_exit is paired with
 * the next kvm_entry of the same thread (the pid in the line), whatever
 * CPU either ran on.  kvm_viommu's threads are followed per CPU through
 * sched_switch: on-CPU from the switch that names one as next to the
 * switch that names it as prev on that CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_trace.h"
#include "linux_guest.h"

#define HT_TRACEFS	"/sys/kernel/debug/tracing"
#define HT_INSTANCE	HT_TRACEFS "/instances/kvm_viommu_bench"
/* Per L1 CPU.  A QEMU row's loop of 300 pairs traces well under 1 MiB. */
#define HT_BUFFER_KB	"8192"

#define HT_THREADS	16	/* vCPU threads followed at once */
#define HT_CPUS		64
#define HT_ALL_REASONS	32

#define WORKER_PREFIX	"kvm-viommu-"
#define POLLER_PREFIX	"kvm-viommu-sc/"

enum ht_kind { HT_NONE, HT_WORKER, HT_POLLER };

/* An on-CPU spell of one of kvm_viommu's threads. */
struct ht_spell {
	double start, end;
	enum ht_kind kind;
};

/* Exit-to-entry times of one kind of exit, kept for their median. */
struct ht_times {
	double *v;
	size_t n, cap;
};

struct ht_parser {
	struct ht_result *r;
	/* The loop: from mark 1 until mark 2 by the same thread. */
	bool in_loop;
	double t1, t2, t3, t4;
	bool seen3, seen4;
	double first_ts, last_ts;
	/* Each vCPU thread's exit waiting for its entry (0: none). */
	struct {
		int pid;
		double exit_ts;
		int reason;	/* its index in reasons, or -1 */
		bool inval;	/* a write to IQT */
	} pending[HT_THREADS];
	/* What runs on each CPU, if it is one of kvm_viommu's threads. */
	struct {
		enum ht_kind kind;
		double since;
		bool seen;
	} cpu[HT_CPUS];
	struct ht_spell *spells;
	size_t nr_spells, cap_spells;
	struct ht_reason reasons[HT_ALL_REASONS];
	struct ht_times reason_times[HT_ALL_REASONS];
	struct ht_times inval_times;
	bool no_memory;		/* a time could not be kept */
};

/* What a thread of this name is to us. */
static enum ht_kind kind_of(const char *comm, size_t len)
{
	size_t wl = strlen(WORKER_PREFIX), pl = strlen(POLLER_PREFIX);

	if (len > pl && !strncmp(comm, POLLER_PREFIX, pl))
		return HT_POLLER;
	if (len > wl && !strncmp(comm, WORKER_PREFIX, wl) &&
	    comm[wl] >= '0' && comm[wl] <= '9')
		return HT_WORKER;
	return HT_NONE;
}

static void add_spell(struct ht_parser *p, double start, double end,
		      enum ht_kind kind)
{
	struct ht_spell *s;

	if (kind == HT_NONE || end <= start)
		return;
	if (p->nr_spells == p->cap_spells) {
		size_t cap = p->cap_spells ? 2 * p->cap_spells : 256;

		s = realloc(p->spells, cap * sizeof(*s));
		if (!s)
			return;
		p->spells = s;
		p->cap_spells = cap;
	}
	s = &p->spells[p->nr_spells++];
	s->start = start;
	s->end = end;
	s->kind = kind;
}

/* Keeps s; false if it could not (no memory). */
static bool times_add(struct ht_times *t, double s)
{
	double *v;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;

		v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return false;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = s;
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median (the mean of the middle two for an even count), or 0. */
static double times_median(struct ht_times *t)
{
	if (!t->n)
		return 0;
	qsort(t->v, t->n, sizeof(*t->v), cmp_double);
	return t->n & 1 ? t->v[t->n / 2] :
	       (t->v[t->n / 2 - 1] + t->v[t->n / 2]) / 2;
}

/*
 * A trace line: "<comm>-<pid> [<cpu>] <flags> <seconds>: <event>: <what>",
 * where comm may hold blanks.  Returns what the event printed, with its
 * name in *event (up to the ':'), or NULL for any other line.
 */
static const char *split_line(const char *line, char *event, size_t len,
			      double *ts, int *pid, int *cpu)
{
	const char *colon, *p, *name, *b;
	size_t n;

	/* The first ": " after the CPU's "] " ends the timestamp. */
	b = strstr(line, "] ");
	if (!b)
		return NULL;
	colon = strstr(b, ": ");
	if (!colon)
		return NULL;
	for (p = colon; p > b && p[-1] != ' '; p--)
		;
	*ts = strtod(p, NULL);
	name = colon + 2;
	n = strcspn(name, ":");
	if (name[n] != ':' || n >= len)
		return NULL;
	memcpy(event, name, n);
	event[n] = '\0';
	/* Back from "] " to '[', then over blanks and the pid's digits. */
	for (p = b; p > line && *p != '['; p--)
		;
	*cpu = atoi(p + 1);
	while (p > line && p[-1] == ' ')
		p--;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	*pid = atoi(p);
	return name + n + 1 + (name[n + 1] == ' ');
}

/* Is this kvm_exit one for a write to the unit's IQT? */
static bool is_inval_exit(const char *what)
{
	const char *s = strstr(what, "reason npf "), *i2;
	unsigned long long gpa;

	if (!s)
		return false;
	i2 = strstr(s, " info2 ");
	return i2 && sscanf(i2, " info2 %llx", &gpa) == 1 &&
	       gpa == HT_IQT_GPA;
}

/* Counts an exit by its reason; returns the reason's index, or -1. */
static int count_reason(struct ht_parser *p, const char *what)
{
	const char *s = strstr(what, "reason ");
	char name[sizeof(p->reasons[0].name)];
	int i;

	if (!s || sscanf(s, "reason %23s", name) != 1)
		return -1;
	for (i = 0; i < HT_ALL_REASONS && p->reasons[i].name[0]; i++)
		if (!strcmp(p->reasons[i].name, name))
			break;
	if (i == HT_ALL_REASONS)
		return -1;
	if (!p->reasons[i].name[0])
		snprintf(p->reasons[i].name, sizeof(p->reasons[i].name), "%s",
			 name);
	p->reasons[i].n++;
	return i;
}

static int pending_slot(struct ht_parser *p, int pid, bool add)
{
	int i, free_slot = -1;

	for (i = 0; i < HT_THREADS; i++) {
		if (p->pending[i].pid == pid)
			return i;
		if (!p->pending[i].pid && free_slot < 0)
			free_slot = i;
	}
	if (add && free_slot >= 0)
		p->pending[free_slot].pid = pid;
	return add ? free_slot : -1;
}

static void on_mark(struct ht_parser *p, const char *what, double ts,
		    int pid)
{
	struct ht_result *r = p->r;
	unsigned int port, val;
	int i;

	if (sscanf(what, "pio_write at %x size 1 count 1 val %x", &port,
		   &val) != 2 || port != LG_MARK_PORT)
		return;
	switch (val) {
	case 1:
		if (r->marked)
			break;
		/* A later start mark starts the loop again. */
		memset(p->pending, 0, sizeof(p->pending));
		memset(p->reasons, 0, sizeof(p->reasons));
		for (i = 0; i < HT_ALL_REASONS; i++)
			p->reason_times[i].n = 0;
		p->inval_times.n = 0;
		r->exits = 0;
		r->paired = 0;
		r->exit_s = 0;
		r->inval_exits = 0;
		r->inval_s = 0;
		p->in_loop = true;
		p->t1 = ts;
		r->vcpu_tid = pid;
		break;
	case 2:
		if (!p->in_loop || pid != r->vcpu_tid)
			break;
		/* The exit just before this mark is the mark's own. */
		i = pending_slot(p, pid, false);
		if (i >= 0 && p->pending[i].exit_ts) {
			r->exits--;
			if (p->pending[i].reason >= 0)
				p->reasons[p->pending[i].reason].n--;
			p->pending[i].exit_ts = 0;
		}
		p->in_loop = false;
		p->t2 = ts;
		r->marked = true;
		break;
	case 3:
		if (r->marked && pid == r->vcpu_tid && !p->seen3) {
			p->t3 = ts;
			p->seen3 = true;
		}
		break;
	case 4:
		if (p->seen3 && pid == r->vcpu_tid && !p->seen4) {
			p->t4 = ts;
			p->seen4 = true;
		}
		break;
	}
}

static void on_exit_event(struct ht_parser *p, const char *what, double ts,
			  int pid)
{
	int i;

	if (!p->in_loop)
		return;
	i = pending_slot(p, pid, true);
	if (i < 0)
		return;
	p->r->exits++;
	/* An exit with no entry traced after the one before: unpaired. */
	p->pending[i].exit_ts = ts;
	p->pending[i].reason = count_reason(p, what);
	p->pending[i].inval = is_inval_exit(what);
}

static void on_entry(struct ht_parser *p, double ts, int pid)
{
	double d;
	int i, k;

	if (!p->in_loop)
		return;
	i = pending_slot(p, pid, false);
	if (i < 0 || !p->pending[i].exit_ts)
		return;
	d = ts - p->pending[i].exit_ts;
	p->r->paired++;
	p->r->exit_s += d;
	k = p->pending[i].reason;
	if (p->pending[i].inval) {
		p->r->inval_exits++;
		p->r->inval_s += d;
		if (!times_add(&p->inval_times, d))
			p->no_memory = true;
	} else if (k >= 0) {
		/* The reasons' times leave the IQT writes out. */
		p->reasons[k].paired++;
		if (!times_add(&p->reason_times[k], d))
			p->no_memory = true;
	}
	p->pending[i].exit_ts = 0;
}

/* "prev_comm=A prev_pid=..." or "next_comm=B next_pid=...": the name. */
static enum ht_kind switch_kind(const char *what, const char *field,
				const char *end)
{
	const char *s = strstr(what, field), *e;

	if (!s)
		return HT_NONE;
	s += strlen(field);
	e = strstr(s, end);
	return e ? kind_of(s, e - s) : HT_NONE;
}

static void on_switch(struct ht_parser *p, const char *what, double ts,
		      int cpu)
{
	enum ht_kind prev, next;

	if (cpu < 0 || cpu >= HT_CPUS)
		return;
	prev = switch_kind(what, "prev_comm=", " prev_pid=");
	next = switch_kind(what, "next_comm=", " next_pid=");
	/*
	 * A thread that leaves a CPU it was not seen arrive on has run
	 * there since before the trace's first event.
	 */
	if (prev != HT_NONE)
		add_spell(p, p->cpu[cpu].seen && p->cpu[cpu].kind == prev ?
			  p->cpu[cpu].since : p->first_ts, ts, prev);
	p->cpu[cpu].kind = next;
	p->cpu[cpu].since = ts;
	p->cpu[cpu].seen = true;
}

/* The time spells of kind spent within [from, to]. */
static double overlap(const struct ht_parser *p, enum ht_kind kind,
		      double from, double to)
{
	double sum = 0, a, b;
	size_t i;

	for (i = 0; i < p->nr_spells; i++) {
		if (p->spells[i].kind != kind)
			continue;
		a = p->spells[i].start > from ? p->spells[i].start : from;
		b = p->spells[i].end < to ? p->spells[i].end : to;
		if (b > a)
			sum += b - a;
	}
	return sum;
}

static int cmp_reason(const void *a, const void *b)
{
	const struct ht_reason *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

void ht_parse(FILE *f, struct ht_result *r)
{
	struct ht_parser p = { .r = r };
	unsigned long long in_buf, written;
	char *line = NULL, event[32];
	const char *what;
	size_t cap = 0;
	int pid, cpu, i;
	double ts;

	memset(r, 0, sizeof(*r));
	r->exit_floor_s = -1;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#') {
			if (sscanf(line, "# entries-in-buffer/entries-written: %llu/%llu",
				   &in_buf, &written) == 2 && written > in_buf)
				r->lost = true;
			continue;
		}
		what = split_line(line, event, sizeof(event), &ts, &pid, &cpu);
		if (!what)
			continue;
		if (!r->events++)
			p.first_ts = ts;
		p.last_ts = ts;
		if (!strcmp(event, "kvm_pio"))
			on_mark(&p, what, ts, pid);
		else if (!strcmp(event, "kvm_exit"))
			on_exit_event(&p, what, ts, pid);
		else if (!strcmp(event, "kvm_entry"))
			on_entry(&p, ts, pid);
		else if (!strcmp(event, "sched_switch"))
			on_switch(&p, what, ts, cpu);
	}
	free(line);
	/* Whoever is still on a CPU runs until the trace's end. */
	for (i = 0; i < HT_CPUS; i++)
		if (p.cpu[i].seen)
			add_spell(&p, p.cpu[i].since, p.last_ts, p.cpu[i].kind);
	if (r->marked) {
		r->loop_s = p.t2 - p.t1;
		r->worker_s = overlap(&p, HT_WORKER, p.t1, p.t2);
		r->poller_s = overlap(&p, HT_POLLER, p.t1, p.t2);
		r->inval_median_s = times_median(&p.inval_times);
		for (i = 0; i < HT_ALL_REASONS; i++)
			p.reasons[i].median_s = times_median(&p.reason_times[i]);
		/* Over all reasons, before the rarer ones are left out. */
		for (i = 0; i < HT_ALL_REASONS; i++) {
			if (p.reasons[i].paired < HT_FLOOR_PAIRED ||
			    (r->exit_floor_s >= 0 &&
			     p.reasons[i].median_s >= r->exit_floor_s))
				continue;
			r->exit_floor_s = p.reasons[i].median_s;
			memcpy(r->exit_floor_reason, p.reasons[i].name,
			       sizeof(r->exit_floor_reason));
		}
		qsort(p.reasons, HT_ALL_REASONS, sizeof(p.reasons[0]),
		      cmp_reason);
		memcpy(r->reasons, p.reasons, sizeof(r->reasons));
	}
	if (p.seen4 && p.t4 - p.t3 > HT_IDLE_SETTLE_S) {
		double from = p.t3 + HT_IDLE_SETTLE_S;

		r->have_idle = true;
		r->idle_s = p.t4 - from;
		r->idle_worker_s = overlap(&p, HT_WORKER, from, p.t4);
		r->idle_poller_s = overlap(&p, HT_POLLER, from, p.t4);
	}
	for (i = 0; i < HT_ALL_REASONS; i++)
		free(p.reason_times[i].v);
	free(p.inval_times.v);
	free(p.spells);
	if (p.no_memory)
		r->lost = true;
}

/* Writes val to the instance's file; a trigger is added, never replaced. */
static int ht_write(const char *file, const char *val)
{
	bool trigger = strstr(file, "/trigger") && val[0] != '!';
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), HT_INSTANCE "/%s", file);
	/* O_TRUNC would remove the event's other triggers. */
	fd = open(path, O_WRONLY | (trigger ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * On kvm_pio, each with the marks' filter and "val == <mark>": kvm_exit
 * and kvm_entry from mark 1 on, nothing recorded after mark 4.  They
 * cannot be switched off again at mark 2: enable_event and disable_event
 * of one event on one trigger file are the same kind of trigger, which
 * the kernel takes once (EEXIST).  So the idle spell's exits are
 * recorded too, and the reading stops counting at mark 2.  traceoff runs
 * after its event is recorded: mark 4 is in the trace.
 */
static const struct {
	const char *cmd;
	int mark;
} ht_triggers[] = {
	{ "enable_event:kvm:kvm_exit", 1 },
	{ "enable_event:kvm:kvm_entry", 1 },
	{ "traceoff", 4 },
	{ NULL, 0 },
};

/* Everything ht_start() may have set up, and the instance, gone. */
static void ht_teardown(void)
{
	char cmd[64];
	size_t i;

	if (access(HT_INSTANCE, F_OK))
		return;
	ht_write("tracing_on", "0");
	for (i = 0; ht_triggers[i].cmd; i++) {
		snprintf(cmd, sizeof(cmd), "!%s", ht_triggers[i].cmd);
		ht_write("events/kvm/kvm_pio/trigger", cmd);
	}
	ht_write("events/kvm/kvm_pio/enable", "0");
	ht_write("events/kvm/kvm_exit/enable", "0");
	ht_write("events/kvm/kvm_entry/enable", "0");
	ht_write("events/sched/sched_switch/enable", "0");
	rmdir(HT_INSTANCE);
}

int ht_start(const char **why)
{
	static const char switch_filter[] =
		"prev_comm ~ \"" WORKER_PREFIX "*\" || next_comm ~ \"" WORKER_PREFIX "*\"";
	char mark[96], trig[160];
	size_t i;

	/* A run that died left its instance; so might this one. */
	ht_teardown();
	if (mkdir(HT_INSTANCE, 0755)) {
		*why = "no tracefs instance in L1 (" HT_TRACEFS ")";
		return -errno;
	}
	/* Only one-byte writes of the marks' port, only what they mark. */
	snprintf(mark, sizeof(mark), "rw == 1 && port == %#x && size == 1",
		 LG_MARK_PORT);
	/*
	 * A full buffer drops new events rather than the oldest: the marks
	 * and the threads' first arrivals must stay, and a drop is counted
	 * (ht_stop() reads it back).
	 */
	if (ht_write("tracing_on", "0") ||
	    ht_write("options/overwrite", "0") ||
	    ht_write("buffer_size_kb", HT_BUFFER_KB) ||
	    ht_write("trace_clock", "global") ||
	    ht_write("events/kvm/kvm_pio/filter", mark) ||
	    ht_write("events/sched/sched_switch/filter", switch_filter))
		goto fail;
	for (i = 0; ht_triggers[i].cmd; i++) {
		snprintf(trig, sizeof(trig), "%s if %s && val == %d",
			 ht_triggers[i].cmd, mark, ht_triggers[i].mark);
		if (ht_write("events/kvm/kvm_pio/trigger", trig))
			goto fail;
	}
	if (ht_write("events/kvm/kvm_pio/enable", "1") ||
	    ht_write("events/sched/sched_switch/enable", "1") ||
	    ht_write("tracing_on", "1"))
		goto fail;
	return 0;
fail:
	*why = "cannot set up L1's tracepoints (kvm_pio triggers, sched_switch)";
	ht_teardown();
	return -EIO;
}

/* Whether any CPU's buffer dropped or overwrote an event. */
static bool ht_dropped(void)
{
	unsigned long long n;
	char path[128], line[96];
	bool dropped = false;
	int cpu;
	FILE *f;

	for (cpu = 0; cpu < HT_CPUS; cpu++) {
		snprintf(path, sizeof(path), HT_INSTANCE "/per_cpu/cpu%d/stats",
			 cpu);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if ((sscanf(line, "overrun: %llu", &n) == 1 ||
			     sscanf(line, "commit overrun: %llu", &n) == 1 ||
			     sscanf(line, "dropped events: %llu", &n) == 1) && n)
				dropped = true;
		fclose(f);
	}
	return dropped;
}

void ht_stop(struct ht_result *r)
{
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->exit_floor_s = -1;
	ht_write("tracing_on", "0");
	f = fopen(HT_INSTANCE "/trace", "r");
	if (f) {
		ht_parse(f, r);
		fclose(f);
	}
	r->lost |= ht_dropped();
	ht_teardown();
}
