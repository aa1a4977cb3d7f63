/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * viommu-vmm: a small reference VMM that boots a Linux guest with an
 * assigned VFIO device behind a VT-d unit emulated by kvm_viommu.
 *
 * Guest-physical layout (below 4 GiB; RAM starts at 0):
 *
 *   0x00000500  GDT for the 64-bit boot protocol
 *   0x00007000  boot_params (the "zero page")
 *   0x00009000  identity page tables (PML4, PDPT, 4 PDs: 4 GiB in 2 MiB)
 *   0x00020000  kernel command line
 *   0x000e0000  ACPI tables, RSDP first
 *   0x00100000  the kernel's protected-mode code (or its pref_address)
 *   top of RAM  the initramfs
 *   0xc0000000  PCI MMIO window (BARs)
 *   0xe0000000  PCI ECAM, bus 0
 *   0xfec00000  I/O APIC (KVM)
 *   0xfed90000  the VT-d register page (kvm_viommu)
 *   0xfee00000  local APICs (KVM)
 */
#ifndef VIOMMU_VMM_H
#define VIOMMU_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BIT(n)			(1U << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define fallthrough		__attribute__((__fallthrough__))

#define GUEST_GDT		0x500ULL
#define GUEST_ZERO_PAGE		0x7000ULL
#define GUEST_PGTABLE		0x9000ULL
#define GUEST_CMDLINE		0x20000ULL
#define GUEST_CMDLINE_MAX	4096
#define GUEST_ACPI		0xe0000ULL
#define GUEST_ACPI_SIZE		0x10000ULL
#define GUEST_EBDA		0x9fc00ULL
#define GUEST_KERNEL		0x100000ULL
#define GUEST_RAM_MAX		0xc0000000ULL

#define PCI_MMIO_BASE		0xc0000000ULL
#define PCI_MMIO_SIZE		0x20000000ULL
#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_ECAM_SIZE		0x100000ULL	/* bus 0 only */
#define PCI_IOPORT_BASE		0x1000
#define PCI_IOPORT_SIZE		0xf000
#define IOAPIC_BASE		0xfec00000ULL
#define LAPIC_BASE		0xfee00000ULL
#define VIOMMU_REG_BASE		0xfed90000ULL

/* Legacy and ACPI I/O ports. */
#define PORT_PCI_CONF_ADDR	0xcf8
#define PORT_PCI_CONF_DATA	0xcfc
#define PORT_RESET		0xcf9
#define PORT_PM1A_EVT		0x600
#define PORT_PM1A_CNT		0x604
#define PORT_COM1		0x3f8
#define PORT_CMOS		0x70
/* Not in any table: edu_dma's mark_port (mark.c). */
#define PORT_MARK		0x510
#define SCI_IRQ			9
#define COM1_IRQ		4
#define S5_SLP_TYP		5

/* Memslots. */
#define SLOT_RAM		0
#define SLOT_VIOMMU_REGS	1
#define SLOT_BAR_BASE		2	/* + BAR index */

/* GSIs: 0-23 the I/O APIC's pins; the unit's two MSIs after them. */
#define GSI_IOAPIC_PINS		24
#define GSI_VIOMMU_BASE		24

#define MAX_VCPUS		2

struct vmm;

/* An address range on the port or MMIO bus, served in userspace. */
struct bus_dev {
	uint64_t base;
	uint64_t len;
	/* Called with vmm->dev_lock held; data is little-endian, len 1-8. */
	void (*read)(struct vmm *vmm, void *opaque, uint64_t off, void *data,
		     uint32_t len);
	void (*write)(struct vmm *vmm, void *opaque, uint64_t off,
		      const void *data, uint32_t len);
	void *opaque;
};

#define BUS_MAX_DEVS		16

struct bus {
	struct bus_dev devs[BUS_MAX_DEVS];
	int nr;
};

struct serial;
struct pm;
struct pci;
struct vfio_dev;
struct viommu;

/* Why the guest stopped. */
enum vmm_stop {
	VMM_RUNNING = 0,
	VMM_STOP_POWEROFF,	/* ACPI S5 */
	VMM_STOP_RESET,		/* reset port, triple fault */
	VMM_STOP_ERROR,		/* the VMM gave up; said why on stderr */
};

struct vmm_opts {
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *vfio_bdf;	/* host PCI address, e.g. 0000:00:03.0 */
	bool viommu;
	bool caching_mode;
	uint32_t sidecore;	/* KVM_VIOMMU_SIDECORE_*: --viommu sidecore= */
	bool sidecore_auto;	/* no sidecore=: track, or doorbells if not */
	uint64_t mem_size;
	int cpus;
	const char *stats_path;	/* kvm_viommu statistics at exit */
};

struct vcpu {
	struct vmm *vmm;
	int idx;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	int stats_fd;		/* KVM's binary statistics (mark.c) */
	long exits_off;		/* where "exits" is in them */
};

struct vmm {
	struct vmm_opts opts;
	int kvm_fd;
	int vm_fd;
	struct vcpu vcpu[MAX_VCPUS];
	size_t run_size;
	uint8_t *ram;
	uint64_t kernel_gpa;	/* where the protected-mode code is */
	struct bus pio;
	struct bus mmio;
	/*
	 * Serialises device models (serial, PCI config, PM) against the
	 * vCPU threads that call them; taken in thread context only.
	 */
	pthread_mutex_t dev_lock;
	/* Set once, by the first vCPU that sees the guest stop. */
	int stop;
	struct serial *serial;
	struct pm *pm;
	struct pci *pci;
	struct vfio_dev *vfio;
	struct viommu *viommu;
	/* mark.c: vCPU exits between the guest's marks, under dev_lock. */
	uint64_t mark_exits0;
	uint64_t loop_exits;
	bool have_loop_exits;
};

void *gpa_to_hva(struct vmm *vmm, uint64_t gpa, uint64_t len);
void vmm_stop(struct vmm *vmm, enum vmm_stop why);
void vmm_set_irq(struct vmm *vmm, uint32_t irq, int level);
int vmm_set_gsi_routes(struct vmm *vmm);
int set_memslot(struct vmm *vmm, uint32_t slot, uint32_t flags,
		uint64_t gpa, uint64_t size, void *hva);

int bus_add(struct bus *bus, uint64_t base, uint64_t len,
	    const struct bus_dev *ops);
bool bus_access(struct vmm *vmm, struct bus *bus, uint64_t addr, void *data,
		uint32_t len, bool is_write);

int boot_load(struct vmm *vmm);
int boot_setup_bsp(struct vmm *vmm, int vcpu_fd);

int cpu_init(struct vmm *vmm, int idx);
/* The thread of one vCPU; arg is its struct vcpu. */
void *cpu_thread(void *arg);

int serial_init(struct vmm *vmm);
void serial_exit(struct vmm *vmm);
int pm_init(struct vmm *vmm);

int pci_init(struct vmm *vmm);

int mark_init(struct vmm *vmm);
void mark_exit(struct vmm *vmm);

/* A function on bus 0; its config space is served by the callbacks. */
struct pci_func {
	uint8_t devfn;
	uint32_t (*cfg_read)(struct vmm *vmm, struct pci_func *f, uint32_t off,
			     uint32_t len);
	void (*cfg_write)(struct vmm *vmm, struct pci_func *f, uint32_t off,
			  uint32_t len, uint32_t val);
	void *opaque;
};

int pci_add_func(struct vmm *vmm, struct pci_func *f);

int vfio_dev_open(struct vmm *vmm, const char *bdf, uint8_t devfn);
int vfio_dev_map_ram(struct vmm *vmm);
void vfio_dev_close(struct vmm *vmm);
/* The assigned device's VFIO device fd (what a unit attaches), or -ENODEV. */
int vfio_dev_fd(struct vmm *vmm);

int vfio_dev_iova_bits(struct vmm *vmm);
int viommu_open(struct vmm *vmm);
int viommu_haw(struct vmm *vmm);
int viommu_attach(struct vmm *vmm, uint16_t sid);
void viommu_mmio(struct vmm *vmm, uint64_t off, void *data, uint32_t len,
		 bool is_write);
int viommu_add_routes(struct vmm *vmm, void *entries, int max);
int viommu_write_stats(struct vmm *vmm, FILE *out);
void viommu_close(struct vmm *vmm);

#endif /* VIOMMU_VMM_H */
