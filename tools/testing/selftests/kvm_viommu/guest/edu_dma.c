// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu_dma: the L2 guest's half of the end-to-end test.
 *
 * Drives QEMU's edu device (1234:11e8), assigned to the guest, through the
 * DMA API, so that whatever IOMMU the guest kernel sees (a vIOMMU or none)
 * translates its DMA.  On probe it checks that data survives a round trip
 * RAM -> edu -> RAM in both directions, then times dma_map_single() plus
 * dma_unmap_single() of one page, the cost a vIOMMU adds to every I/O.
 *
 * Everything it reports is one KERN_INFO line starting "edu_dma: ", ending
 * with "edu_dma: result pass" or "edu_dma: result fail".  It never waits
 * for an interrupt (the VMM under test does not deliver the device's) and
 * never waits forever: each DMA is polled with a timeout.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sort.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_BAR			0

/* BAR0 registers. */
#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID			0x010000ed
#define EDU_CMD_START		BIT(0)	/* set to start; reads 1 while busy */
#define EDU_CMD_TO_RAM		BIT(1)	/* device buffer -> RAM */

/*
 * The device's own 4 KiB buffer, at this device address.  QEMU's model
 * aborts on a transfer that ends exactly at the buffer's end, so every
 * transfer stays within its first half.
 */
#define EDU_BUF_ADDR		0x40000
#define EDU_XFER_MAX		2048

/* The model masks DMA addresses to 28 bits. */
#define EDU_DMA_BITS		28

/*
 * QEMU's model starts a transfer from a timer 100 ms after the command;
 * allow a slow nested host many times that.  Polling every few ms rather
 * than every one keeps the guest's timer interrupts, each an injection
 * through two levels of virtualization, few.
 */
#define EDU_POLL_US		5000
#define EDU_TIMEOUT_US		(5 * USEC_PER_SEC)

/* Host memory each direction's buffer spans, to vary offsets across. */
#define CHECK_BUF_SIZE		(2 * PAGE_SIZE)
#define GUARD_BYTE		0x5a

static unsigned int iters = 3000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "map+unmap pairs to time (0: skip, max 1000000)");

static ushort mark_port;
module_param(mark_port, ushort, 0444);
MODULE_PARM_DESC(mark_port,
		 "I/O port to write 1 to before the timed loop and 2 after, for a VMM that counts exits in between (0: none)");

static unsigned int idle_ms;
module_param(idle_ms, uint, 0444);
MODULE_PARM_DESC(idle_ms,
		 "After the timed loop, sleep this long between writes of 3 and 4 to mark_port, for a host that measures what an idle guest costs it (0: none, max 60000)");

static unsigned int rounds = 32;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "DMA round trips to check (1..1000)");

#define ITERS_MAX		1000000
#define ROUNDS_MAX		1000
#define IDLE_MS_MAX		60000

static bool probed;

struct edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	/* A transfer timed out: the device may still write, so free nothing */
	bool wedged;
};

/*
 * Runs one transfer between @iova and the device buffer at @dev_off, and
 * waits for it to finish.
 */
static int edu_transfer(struct edu *edu, dma_addr_t iova, u32 dev_off,
			u32 len, bool to_ram)
{
	u64 src = to_ram ? EDU_BUF_ADDR + dev_off : iova;
	u64 dst = to_ram ? iova : EDU_BUF_ADDR + dev_off;
	u32 cmd;
	int ret;

	cmd = readl(edu->regs + EDU_REG_DMA_CMD);
	if (cmd & EDU_CMD_START) {
		pr_info("device busy before a transfer (cmd=0x%x)\n", cmd);
		return -EBUSY;
	}
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	writel(EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0),
	       edu->regs + EDU_REG_DMA_CMD);

	ret = readl_poll_timeout(edu->regs + EDU_REG_DMA_CMD, cmd,
				 !(cmd & EDU_CMD_START), EDU_POLL_US,
				 EDU_TIMEOUT_US);
	if (ret) {
		edu->wedged = true;
		pr_info("transfer timed out (%s iova=0x%llx len=%u)\n",
			to_ram ? "from_device" : "to_device", (u64)iova, len);
	}
	return ret;
}

/* A byte pattern that differs from round to round and byte to byte. */
static u8 pattern_byte(unsigned int round, unsigned int i)
{
	u32 x = (round + 1) * 2654435761u ^ (i * 40503u + round);

	x ^= x >> 13;
	x *= 0x5bd1e995u;
	return x >> 24;
}

/*
 * Maps @len bytes at @buf for the device, has it move them (@to_ram: from
 * its buffer into @buf; else from @buf into its buffer) and unmaps them.
 * A failure is reported as round @round's.
 */
static int map_and_transfer(struct edu *edu, unsigned int round, u8 *buf,
			    u32 len, u32 dev_off, bool to_ram,
			    dma_addr_t *iova_out)
{
	enum dma_data_direction dir = to_ram ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	const char *what = to_ram ? "from_device" : "to_device";
	struct device *dev = &edu->pdev->dev;
	dma_addr_t iova;
	int ret;

	iova = dma_map_single(dev, buf, len, dir);
	if (dma_mapping_error(dev, iova)) {
		pr_info("dma_check FAILED round=%u %s map_error len=%u\n",
			round, what, len);
		return -ENOMEM;
	}
	if (iova_out)
		*iova_out = iova;
	ret = edu_transfer(edu, iova, dev_off, len, to_ram);
	if (ret) {
		pr_info("dma_check FAILED round=%u %s transfer err=%d\n",
			round, what, ret);
		/* A device that may still write keeps its mapping. */
		if (edu->wedged)
			return ret;
	}
	dma_unmap_single(dev, iova, len, dir);
	return ret;
}

/*
 * One round trip: @len bytes from @out (at @off) into the device buffer at
 * @dev_off, then back into @in (at @off).  Returns 0 when they arrived
 * intact and nothing around them changed, -EIO on a data mismatch, or the
 * error of the mapping or transfer that failed.
 */
static int dma_round(struct edu *edu, unsigned int round, u8 *out, u8 *in,
		     size_t off, u32 dev_off, u32 len, dma_addr_t *first_iova)
{
	size_t i;
	int ret;

	for (i = 0; i < CHECK_BUF_SIZE; i++) {
		out[i] = pattern_byte(round, i);
		in[i] = GUARD_BYTE ^ round;
	}

	ret = map_and_transfer(edu, round, out + off, len, dev_off, false,
			       first_iova);
	if (ret)
		return ret;
	ret = map_and_transfer(edu, round, in + off, len, dev_off, true, NULL);
	if (ret)
		return ret;

	for (i = 0; i < CHECK_BUF_SIZE; i++) {
		bool inside = i >= off && i < off + len;
		u8 want = inside ? pattern_byte(round, i) : GUARD_BYTE ^ round;

		if (in[i] != want) {
			pr_info("dma_check FAILED round=%u mismatch off=%zu len=%u dev_off=%u at=%zu want=0x%02x got=0x%02x%s\n",
				round, off, len, dev_off, i, want, in[i],
				inside ? "" : " (outside the transfer)");
			return -EIO;
		}
	}
	return 0;
}

/*
 * The round trips.  Buffers come from ZONE_DMA: with no IOMMU the device
 * sees physical addresses, and it reaches only 28 bits of them, while a
 * guest with little memory has no swiotlb to bounce through.
 */
static int run_dma_check(struct edu *edu)
{
	dma_addr_t first_iova = 0;
	unsigned int round;
	u8 *out, *in;
	int ret = 0;

	out = kmalloc(CHECK_BUF_SIZE, GFP_KERNEL | GFP_DMA);
	in = kmalloc(CHECK_BUF_SIZE, GFP_KERNEL | GFP_DMA);
	if (!out || !in) {
		pr_info("dma_check FAILED no memory\n");
		ret = -ENOMEM;
		goto out_free;
	}

	for (round = 0; round < rounds; round++) {
		/* Lengths from 1 to 2048 bytes, offsets crossing pages. */
		u32 len = round == 0 ? EDU_XFER_MAX :
			  1 + (round * 397u) % EDU_XFER_MAX;
		u32 dev_off = (round * 8u) % (EDU_XFER_MAX - len + 1);
		size_t off = (round * 1237u) % (CHECK_BUF_SIZE - len + 1);

		ret = dma_round(edu, round, out, in, off, dev_off, len,
				round == 0 ? &first_iova : NULL);
		if (ret)
			break;
	}
	if (!ret)
		pr_info("dma_check rounds=%u ok iova0=0x%llx\n", rounds,
			(u64)first_iova);

out_free:
	if (edu->wedged) {
		/* The device may still write to them: leak rather than reuse */
		pr_info("dma buffers leaked after a timeout\n");
		return ret;
	}
	kfree(in);
	kfree(out);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The sample at percentile @pct of @n sorted ones (nearest rank). */
static u64 percentile(const u64 *sorted, unsigned int n, unsigned int pct)
{
	u64 rank = DIV_ROUND_UP_ULL((u64)n * pct, 100);

	return sorted[rank ? rank - 1 : 0];
}

/* Times dma_map_single() + dma_unmap_single() of one page. */
static int time_map_unmap(struct edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	u64 *ns, sum = 0;
	unsigned int i;
	dma_addr_t iova;
	void *page;
	int ret = 0;

	if (!iters) {
		pr_info("map_unmap skipped\n");
		return 0;
	}
	page = kmalloc(PAGE_SIZE, GFP_KERNEL | GFP_DMA);
	ns = kvmalloc_array(iters, sizeof(*ns), GFP_KERNEL);
	if (!page || !ns) {
		pr_info("map_unmap FAILED no memory\n");
		ret = -ENOMEM;
		goto out_free;
	}

	if (mark_port)
		outb(1, mark_port);
	for (i = 0; i < iters; i++) {
		u64 t0 = ktime_get_ns();

		iova = dma_map_single(dev, page, PAGE_SIZE, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(dev, iova)) {
			pr_info("map_unmap FAILED map error at iter=%u\n", i);
			ret = -ENOMEM;
			goto out_free;
		}
		dma_unmap_single(dev, iova, PAGE_SIZE, DMA_BIDIRECTIONAL);
		ns[i] = ktime_get_ns() - t0;
		sum += ns[i];
		cond_resched();
	}
	if (mark_port)
		outb(2, mark_port);
	/*
	 * No DMA API call and no register write of the vIOMMU in here: what
	 * the host spends on this guest now is what an idle guest costs it.
	 */
	if (mark_port && idle_ms) {
		outb(3, mark_port);
		msleep(idle_ms);
		outb(4, mark_port);
	}

	sort(ns, iters, sizeof(*ns), cmp_u64, NULL);
	pr_info("map_unmap iters=%u median_ns=%llu p99_ns=%llu mean_ns=%llu min_ns=%llu max_ns=%llu\n",
		iters, percentile(ns, iters, 50), percentile(ns, iters, 99),
		div_u64(sum, iters), ns[0], ns[iters - 1]);

out_free:
	kvfree(ns);
	kfree(page);
	return ret;
}

/* What stands between the device and memory, as this kernel set it up. */
static void report_iommu(struct pci_dev *pdev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(&pdev->dev);
	struct iommu_group *group = iommu_group_get(&pdev->dev);
	const char *mode = "none", *type = "none";
	int group_id = -1;

	if (group) {
		group_id = iommu_group_id(group);
		iommu_group_put(group);
	}
	if (domain) {
		switch (domain->type) {
		case IOMMU_DOMAIN_DMA:
			mode = "translated";
			type = "dma";
			break;
		case IOMMU_DOMAIN_DMA_FQ:
			mode = "translated";
			type = "dma_fq";
			break;
		case IOMMU_DOMAIN_IDENTITY:
			mode = "identity";
			type = "identity";
			break;
		case IOMMU_DOMAIN_UNMANAGED:
			mode = "other";
			type = "unmanaged";
			break;
		case IOMMU_DOMAIN_BLOCKED:
			mode = "other";
			type = "blocked";
			break;
		default:
			mode = "other";
			type = "unknown";
			break;
		}
	}
	pr_info("iommu=%s group=%d domain=%s\n", mode, group_id, type);
}

static int edu_check_regs(struct edu *edu)
{
	static const u32 probes[] = { 0x12345678, 0xa5a5a5a5 };
	unsigned int i;
	u32 id, got;

	id = readl(edu->regs + EDU_REG_ID);
	if (id != EDU_ID) {
		pr_info("unexpected id 0x%08x\n", id);
		return -ENODEV;
	}
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		writel(probes[i], edu->regs + EDU_REG_LIVENESS);
		got = readl(edu->regs + EDU_REG_LIVENESS);
		if (got != ~probes[i]) {
			pr_info("liveness check failed: wrote 0x%08x read 0x%08x\n",
				probes[i], got);
			return -EIO;
		}
	}
	pr_info("device %s id=0x%08x live\n", pci_name(edu->pdev), id);
	return 0;
}

static int edu_setup(struct pci_dev *pdev, struct edu *edu)
{
	int ret;

	edu->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret) {
		pr_info("cannot enable the device: %d\n", ret);
		return ret;
	}
	ret = pcim_iomap_regions(pdev, BIT(EDU_BAR), KBUILD_MODNAME);
	if (ret) {
		pr_info("cannot map BAR%d: %d\n", EDU_BAR, ret);
		return ret;
	}
	edu->regs = pcim_iomap_table(pdev)[EDU_BAR];
	pci_set_master(pdev);

	ret = edu_check_regs(edu);
	if (ret)
		return ret;

	ret = dma_set_mask_and_coherent(&pdev->dev,
					DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		pr_info("cannot set a %d-bit DMA mask: %d\n", EDU_DMA_BITS,
			ret);
	return ret;
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *edu;
	int ret;

	probed = true;
	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu) {
		pr_info("result fail\n");
		return -ENOMEM;
	}
	ret = edu_setup(pdev, edu);
	if (ret) {
		pr_info("result fail\n");
		return ret;
	}
	report_iommu(pdev);

	ret = run_dma_check(edu);
	/* Don't time mappings on a device that may still be transferring */
	if (!edu->wedged && !time_map_unmap(edu) && !ret)
		pr_info("result pass\n");
	else
		pr_info("result fail\n");

	/*
	 * Stay bound whatever the result: it has been reported.  Unbinding
	 * disables the device, bus mastering included.
	 */
	return 0;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_ids,
	.probe = edu_probe,
};

static int __init edu_dma_init(void)
{
	int ret;

	if (!rounds || rounds > ROUNDS_MAX || iters > ITERS_MAX ||
	    idle_ms > IDLE_MS_MAX) {
		pr_info("bad parameters rounds=%u iters=%u idle_ms=%u\n", rounds,
			iters, idle_ms);
		pr_info("result fail\n");
		return -EINVAL;
	}
	ret = pci_register_driver(&edu_driver);
	if (ret) {
		pr_info("cannot register the driver: %d\n", ret);
		pr_info("result fail\n");
		return ret;
	}
	/* PCI drivers probe synchronously: a device, if any, has been seen. */
	if (!probed) {
		pr_info("no edu device\n");
		pr_info("result fail\n");
	}
	return 0;
}
module_init(edu_dma_init);

static void __exit edu_dma_exit(void)
{
	pci_unregister_driver(&edu_driver);
}
module_exit(edu_dma_exit);

MODULE_DESCRIPTION("DMA-API round trips and map/unmap timing on QEMU's edu");
MODULE_LICENSE("GPL");
