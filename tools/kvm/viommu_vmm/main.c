// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu-vmm: command line, the VM, its memory and interrupts.
 *
 *   viommu-vmm --kernel bzImage [--initrd FILE] [--append "..."]
 *              [--mem 512M] [--cpus 1|2] [--vfio 0000:00:03.0]
 *              [--viommu caching-mode=on[,sidecore=off|track|poll]]
 *              [--stats FILE]
 *
 * With --vfio and --viommu the guest sees a VT-d unit (ACPI DMAR) whose
 * register page and invalidation queue live in kvm_viommu, and the device's
 * host IOMMU domain follows the guest's own page tables.  With --vfio alone
 * the device has no vIOMMU: all of guest RAM is mapped for it, as a VMM
 * without a vIOMMU does.  sidecore=track (the default where the kernel
 * lets modules track writes) has the guest write the register page itself,
 * KVM trapping each write in the kernel; sidecore=poll adds kvm_viommu's
 * poller, which takes a busy guest's writes with no exit; sidecore=off
 * rings one ioeventfd doorbell per IQT value and relays other writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/kvm_viommu.h>

#include "acpi.h"
#include "vmm.h"

void *gpa_to_hva(struct vmm *vmm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vmm->opts.mem_size || len > vmm->opts.mem_size - gpa)
		return NULL;
	return vmm->ram + gpa;
}

int set_memslot(struct vmm *vmm, uint32_t slot, uint32_t flags,
		uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vmm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

void vmm_set_irq(struct vmm *vmm, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vmm->vm_fd, KVM_IRQ_LINE, &l))
		fprintf(stderr, "viommu-vmm: KVM_IRQ_LINE %u: %s\n", irq,
			strerror(errno));
}

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so it always holds the
 * irqchip's pins besides the unit's MSIs: ISA IRQs on the PICs, and GSIs on
 * the I/O APIC, where the PIT's IRQ 0 arrives on pin 2 as the MADT's
 * interrupt source override says.
 */
int vmm_set_gsi_routes(struct vmm *vmm)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[64];
	} t;
	uint32_t gsi;
	int n = 0, ret;

	memset(&t, 0, sizeof(t));
	for (gsi = 0; gsi < GSI_IOAPIC_PINS; gsi++) {
		if (gsi == 2)
			continue;
		if (gsi < 16) {
			t.e[n].gsi = gsi;
			t.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			t.e[n].u.irqchip.irqchip = gsi < 8 ?
				KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			t.e[n].u.irqchip.pin = gsi % 8;
			n++;
		}
		t.e[n].gsi = gsi;
		t.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t.e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		t.e[n].u.irqchip.pin = gsi ? gsi : 2;
		n++;
	}
	if (vmm->viommu) {
		ret = viommu_add_routes(vmm, &t.e[n], 64 - n);
		if (ret < 0)
			return ret;
		n += ret;
	}
	t.r.nr = n;
	return ioctl(vmm->vm_fd, KVM_SET_GSI_ROUTING, &t.r) ? -errno : 0;
}

int bus_add(struct bus *bus, uint64_t base, uint64_t len,
	    const struct bus_dev *ops)
{
	struct bus_dev *d;

	if (bus->nr == BUS_MAX_DEVS)
		return -ENOSPC;
	d = &bus->devs[bus->nr++];
	*d = *ops;
	d->base = base;
	d->len = len;
	return 0;
}

/* Returns false if nothing sits at addr: reads then see all ones. */
bool bus_access(struct vmm *vmm, struct bus *bus, uint64_t addr, void *data,
		uint32_t len, bool is_write)
{
	int i;

	for (i = 0; i < bus->nr; i++) {
		struct bus_dev *d = &bus->devs[i];

		if (addr < d->base || addr - d->base >= d->len)
			continue;
		if (is_write && d->write)
			d->write(vmm, d->opaque, addr - d->base, data, len);
		else if (!is_write && d->read)
			d->read(vmm, d->opaque, addr - d->base, data, len);
		else if (!is_write)
			memset(data, 0xff, len);
		return true;
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}

/* The VMM to stop on SIGTERM or SIGINT: set once, before any vCPU runs. */
static struct vmm *signal_vmm;

static void signal_handler(int sig)
{
	/* SIGUSR1 only kicks a vCPU thread out of KVM_RUN. */
	if (sig != SIGUSR1 && signal_vmm)
		vmm_stop(signal_vmm, VMM_STOP_ERROR);
}

/* Stops every vCPU: the first reason wins. */
void vmm_stop(struct vmm *vmm, enum vmm_stop why)
{
	int expected = VMM_RUNNING, i;

	if (!__atomic_compare_exchange_n(&vmm->stop, &expected, why, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	for (i = 0; i < vmm->opts.cpus; i++) {
		struct vcpu *v = &vmm->vcpu[i];

		if (!v->run)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (v->started && !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, SIGUSR1);
	}
}

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: viommu-vmm --kernel BZIMAGE [options]\n"
		"  --kernel FILE        Linux bzImage (64-bit boot protocol)\n"
		"  --initrd FILE        initramfs\n"
		"  --append STRING      kernel command line\n"
		"  --mem SIZE           guest RAM, e.g. 512M (16M..3G; default 512M)\n"
		"  --cpus N             vCPUs, 1 or 2 (default 1)\n"
		"  --vfio BDF           assign the vfio-pci device at host address BDF\n"
		"  --viommu caching-mode=on[,sidecore=off|track|poll]\n"
		"                       put a kvm_viommu VT-d unit in front of it\n"
		"  --stats FILE         write kvm_viommu's statistics at exit\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		fallthrough;
	case 'M': case 'm':
		v <<= 10;
		fallthrough;
	case 'K': case 'k':
		v <<= 10;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_viommu(struct vmm_opts *o, const char *arg)
{
	char *s = strdup(arg), *tok, *save = NULL;
	int ret = 0;

	if (!s)
		return -ENOMEM;
	o->viommu = true;
	o->sidecore = KVM_VIOMMU_SIDECORE_TRACK;
	o->sidecore_auto = true;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "sidecore=", 9))
			o->sidecore_auto = false;
		if (!strcmp(tok, "caching-mode=on")) {
			o->caching_mode = true;
		} else if (!strcmp(tok, "sidecore=off")) {
			o->sidecore = 0;
		} else if (!strcmp(tok, "sidecore=track")) {
			o->sidecore = KVM_VIOMMU_SIDECORE_TRACK;
		} else if (!strcmp(tok, "sidecore=poll")) {
			o->sidecore = KVM_VIOMMU_SIDECORE_TRACK |
				      KVM_VIOMMU_SIDECORE_POLL;
		} else if (!strcmp(tok, "caching-mode=off")) {
			fprintf(stderr,
				"viommu-vmm: --viommu: kvm_viommu shadows the guest's tables on invalidation, which needs caching-mode=on\n");
			ret = -EINVAL;
		} else {
			fprintf(stderr, "viommu-vmm: --viommu: unknown option '%s'\n",
				tok);
			ret = -EINVAL;
		}
	}
	free(s);
	if (!ret && !o->caching_mode) {
		fprintf(stderr, "viommu-vmm: --viommu needs caching-mode=on\n");
		ret = -EINVAL;
	}
	return ret;
}

static int parse_opts(struct vmm_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "viommu", required_argument, NULL, 'I' },
		{ "stats", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_size = 512ULL << 20;
	o->cpus = 1;
	o->append = "";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'a':
			o->append = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &o->mem_size) ||
			    o->mem_size < (16ULL << 20) ||
			    o->mem_size > GUEST_RAM_MAX ||
			    o->mem_size & ((2ULL << 20) - 1)) {
				fprintf(stderr,
					"viommu-vmm: --mem '%s': want a multiple of 2M from 16M to 3G\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'c':
			o->cpus = strtol(optarg, &end, 10);
			if (*end || o->cpus < 1 || o->cpus > MAX_VCPUS) {
				fprintf(stderr,
					"viommu-vmm: --cpus '%s': want 1 to %d\n",
					optarg, MAX_VCPUS);
				return -EINVAL;
			}
			break;
		case 'v':
			o->vfio_bdf = optarg;
			break;
		case 'I':
			if (parse_viommu(o, optarg))
				return -EINVAL;
			break;
		case 's':
			o->stats_path = optarg;
			break;
		case 'h':
			print_help(stdout);
			exit(0);
		default:
			fprintf(stderr, "viommu-vmm: bad option '%s'\n",
				argv[optind - 1]);
			print_help(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "viommu-vmm: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!o->kernel) {
		fprintf(stderr, "viommu-vmm: --kernel is required\n");
		print_help(stderr);
		return -EINVAL;
	}
	if (o->viommu && !o->vfio_bdf) {
		fprintf(stderr,
			"viommu-vmm: --viommu needs a device to translate (--vfio)\n");
		return -EINVAL;
	}
	if (strlen(o->append) >= GUEST_CMDLINE_MAX) {
		fprintf(stderr, "viommu-vmm: --append longer than %d bytes\n",
			GUEST_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

static int vm_create(struct vmm *vmm)
{
	struct kvm_pit_config pit = { .flags = 0 };
	int ret;

	vmm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vmm->kvm_fd < 0) {
		fprintf(stderr, "viommu-vmm: /dev/kvm: %s\n", strerror(errno));
		return -errno;
	}
	if (ioctl(vmm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "viommu-vmm: unexpected KVM API version\n");
		return -EINVAL;
	}
	vmm->vm_fd = ioctl(vmm->kvm_fd, KVM_CREATE_VM, 0);
	if (vmm->vm_fd < 0) {
		fprintf(stderr, "viommu-vmm: KVM_CREATE_VM: %s\n",
			strerror(errno));
		return -errno;
	}
	vmm->run_size = ioctl(vmm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	/* Intel VMX wants these; SVM ignores them. */
	ioctl(vmm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	if (ioctl(vmm->vm_fd, KVM_CREATE_IRQCHIP, 0) ||
	    ioctl(vmm->vm_fd, KVM_CREATE_PIT2, &pit)) {
		fprintf(stderr, "viommu-vmm: in-kernel irqchip: %s\n",
			strerror(errno));
		return -errno;
	}

	vmm->ram = mmap(NULL, vmm->opts.mem_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vmm->ram == MAP_FAILED) {
		vmm->ram = NULL;
		fprintf(stderr, "viommu-vmm: guest RAM: %s\n", strerror(errno));
		return -ENOMEM;
	}
	madvise(vmm->ram, vmm->opts.mem_size, MADV_HUGEPAGE);
	ret = set_memslot(vmm, SLOT_RAM, 0, 0, vmm->opts.mem_size, vmm->ram);
	if (ret) {
		fprintf(stderr, "viommu-vmm: RAM memslot: %s\n", strerror(-ret));
		return ret;
	}
	return 0;
}

static int acpi_setup(struct vmm *vmm)
{
	struct acpi_layout l = {
		.ncpus = vmm->opts.cpus,
		.lapic_addr = LAPIC_BASE,
		.ioapic_addr = IOAPIC_BASE,
		.ecam_base = PCI_ECAM_BASE,
		.ecam_end_bus = 0,
		.sci_irq = SCI_IRQ,
		.pm1a_evt_port = PORT_PM1A_EVT,
		.pm1a_cnt_port = PORT_PM1A_CNT,
		.reset_port = PORT_RESET,
		.reset_value = 0x06,
		.s5_slp_typ = S5_SLP_TYP,
		.dmar = vmm->opts.viommu,
		.drhd_base = VIOMMU_REG_BASE,
		.dmar_haw = vmm->opts.viommu ? viommu_haw(vmm) : 48,
		.pci_mmio_base = PCI_MMIO_BASE,
		.pci_mmio_size = PCI_MMIO_SIZE,
		.pci_io_base = PCI_IOPORT_BASE,
		.pci_io_size = PCI_IOPORT_SIZE,
	};
	size_t used;
	int ret;

	ret = acpi_build(vmm->ram + GUEST_ACPI, GUEST_ACPI_SIZE, GUEST_ACPI,
			 &l, &used);
	if (ret)
		fprintf(stderr, "viommu-vmm: ACPI tables: %s\n", strerror(-ret));
	return ret;
}

static void vmm_teardown(struct vmm *vmm)
{
	int i;

	viommu_close(vmm);
	vfio_dev_close(vmm);
	mark_exit(vmm);
	for (i = 0; i < vmm->opts.cpus; i++) {
		if (vmm->vcpu[i].run)
			munmap(vmm->vcpu[i].run, vmm->run_size);
		if (vmm->vcpu[i].fd > 0)
			close(vmm->vcpu[i].fd);
	}
	if (vmm->vm_fd > 0)
		close(vmm->vm_fd);
	if (vmm->kvm_fd > 0)
		close(vmm->kvm_fd);
	if (vmm->ram)
		munmap(vmm->ram, vmm->opts.mem_size);
	serial_exit(vmm);
	free(vmm->pm);
	free(vmm->pci);
}

static int write_stats(struct vmm *vmm)
{
	FILE *f;
	int ret;

	if (!vmm->opts.stats_path)
		return 0;
	f = fopen(vmm->opts.stats_path, "w");
	if (!f) {
		fprintf(stderr, "viommu-vmm: %s: %s\n", vmm->opts.stats_path,
			strerror(errno));
		return -errno;
	}
	ret = viommu_write_stats(vmm, f);
	if (vmm->have_loop_exits)
		fprintf(f, "vmm_loop_exits %llu\n",
			(unsigned long long)vmm->loop_exits);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = signal_handler };
	struct vmm *vmm;
	int i, ret;

	vmm = calloc(1, sizeof(*vmm));
	if (!vmm)
		return 1;
	if (parse_opts(&vmm->opts, argc, argv))
		return 2;
	pthread_mutex_init(&vmm->dev_lock, NULL);
	/* No SA_RESTART: a kick must end KVM_RUN with EINTR. */
	sigaction(SIGUSR1, &sa, NULL);
	signal_vmm = vmm;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	ret = vm_create(vmm);
	if (!ret)
		ret = serial_init(vmm);
	if (!ret)
		ret = pm_init(vmm);
	if (!ret)
		ret = pci_init(vmm);
	/* The device first: kvm_viommu's attach needs its VFIO group. */
	if (!ret && vmm->opts.vfio_bdf)
		ret = vfio_dev_open(vmm, vmm->opts.vfio_bdf, 1 << 3);
	if (!ret && vmm->opts.viommu)
		ret = viommu_open(vmm);
	if (!ret && vmm->opts.viommu)
		ret = viommu_attach(vmm, 1 << 3);
	else if (!ret && vmm->opts.vfio_bdf)
		ret = vfio_dev_map_ram(vmm);
	if (!ret)
		ret = vmm_set_gsi_routes(vmm);
	if (!ret)
		ret = acpi_setup(vmm);
	if (!ret)
		ret = boot_load(vmm);
	for (i = 0; !ret && i < vmm->opts.cpus; i++)
		ret = cpu_init(vmm, i);
	if (!ret)
		ret = mark_init(vmm);
	if (!ret)
		ret = boot_setup_bsp(vmm, vmm->vcpu[0].fd);
	for (i = 0; !ret && i < vmm->opts.cpus; i++) {
		ret = -pthread_create(&vmm->vcpu[i].thread, NULL, cpu_thread,
				      &vmm->vcpu[i]);
		if (ret)
			fprintf(stderr, "viommu-vmm: vCPU thread: %s\n",
				strerror(-ret));
		else
			vmm->vcpu[i].started = true;
	}
	if (ret)
		vmm_stop(vmm, VMM_STOP_ERROR);
	for (i = 0; i < vmm->opts.cpus; i++)
		if (vmm->vcpu[i].started)
			pthread_join(vmm->vcpu[i].thread, NULL);
	if (ret) {
		vmm_teardown(vmm);
		free(vmm);
		return 1;
	}

	ret = vmm->stop == VMM_STOP_ERROR;
	fprintf(stderr, "viommu-vmm: guest %s\n",
		vmm->stop == VMM_STOP_POWEROFF ? "powered off" :
		vmm->stop == VMM_STOP_RESET ? "reset" : "stopped");
	/* The statistics after the guest's last word, before teardown. */
	if (write_stats(vmm))
		ret = 1;
	vmm_teardown(vmm);
	free(vmm);
	return ret;
}
