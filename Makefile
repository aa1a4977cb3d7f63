# SPDX-License-Identifier: GPL-2.0-only
#
# kvm_viommu, built out of tree against a Debian kernel's headers, and tested
# one level down in a nested-KVM testbed (see README.md).
#
#   make            module, selftests and the reference VMM (viommu-vmm)
#   make check      boot the testbed, run the selftests, print the result
#   make demo       boot the testbed and show what the module does
#   make bench      compare the vIOMMU modes; JSON path on the last line
#   make qemu       QEMU 10.0.2 with the kvm_viommu patches (tools/qemu), once
#   make lint       W=1 build, sparse, checkpatch --strict
#   make compat-check  compile against linux-source-6.12 too
#   make check-debug   make check on a KASAN/lockdep/kmemleak L1 kernel
#   make fuzz       fuzz the VT-d core (libFuzzer); fuzz-replay: the corpus
#   make clean

SELFTESTS := tools/testing/selftests/kvm_viommu
MODDIR := drivers/iommu/kvm_viommu
VMMDIR := tools/kvm/viommu_vmm
BUILD := $(CURDIR)/build
CONFIG_MK := $(BUILD)/config.mk

NO_SETUP_GOALS := clean help
# The config.mk rule below comes first; a bare `make` still means `all`.
.DEFAULT_GOAL := all
ifeq ($(filter-out $(NO_SETUP_GOALS),$(MAKECMDGOALS))$(if $(MAKECMDGOALS),,all),)
else
# Installs the packages and unpacks the kernel trees on first use; make
# re-reads the variables it writes (KVER, KDIR, KIMG, KSRC).
$(CONFIG_MK): $(SELFTESTS)/setup.sh
	@mkdir -p $(BUILD)
	$(SELFTESTS)/setup.sh $@.tmp && mv $@.tmp $@
include $(CONFIG_MK)
endif

KBUILD_ARGS := -C $(KDIR) M=$(CURDIR)/$(MODDIR) CONFIG_KVM_VIOMMU=m

.PHONY: all module selftests vmm guest check check-debug demo bench lint compat-check \
	fuzz fuzz-replay clean help qemu

all: module selftests vmm guest

module:
	$(MAKE) $(KBUILD_ARGS) modules

selftests:
	$(MAKE) -C $(SELFTESTS) KSRC=$(KSRC) OUTPUT=$(BUILD)/selftests

# The reference VMM (a tool for VMM authors, not a test helper).
vmm:
	$(MAKE) -C $(VMMDIR) OUTPUT=$(BUILD)/vmm

# The L2 Linux guest's side: edu_dma.ko, built against the guest kernel's
# headers (the testbed's L2 runs the same Debian kernel as L1), and the
# initramfs that loads it.
GUESTDIR := $(SELFTESTS)/guest
guest:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(GUESTDIR) modules
	@mkdir -p $(BUILD)/guest
	$(GUESTDIR)/mkinitrd.sh $(BUILD)/guest/initrd.cpio.gz \
		$(GUESTDIR)/edu_dma.ko

check: all
	$(SELFTESTS)/vmtest.sh check

check-debug: all
	$(SELFTESTS)/debug_kernel.sh $(BUILD)

demo: all
	$(SELFTESTS)/vmtest.sh demo

bench: all
	$(SELFTESTS)/vmtest.sh bench

# A W=1 build and a sparse pass (C=2 checks every file, built or not) whose
# output must hold no diagnostic, then checkpatch --strict on every C file
# and header of ours.  checkpatch.pl comes from the linux-source package.
LINT_FILES = $(filter-out %.mod.c,$(wildcard $(MODDIR)/*.[ch] \
		include/uapi/linux/*.h $(SELFTESTS)/*.[ch] $(VMMDIR)/*.[ch] \
		$(SELFTESTS)/guest/*.c))
FUZZ_LINT_FILES = $(wildcard $(SELFTESTS)/fuzz/*.[ch])

lint: module guest
	@echo "lint: W=1 build and sparse"
	@$(MAKE) -s $(KBUILD_ARGS) W=1 C=2 \
		modules > $(BUILD)/lint.log 2>&1 || { cat $(BUILD)/lint.log; exit 1; }
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR)/$(GUESTDIR) W=1 C=2 \
		modules >> $(BUILD)/lint.log 2>&1 || { cat $(BUILD)/lint.log; exit 1; }
	@if grep -E 'warning|error' $(BUILD)/lint.log; then \
		echo "lint: W=1/sparse diagnostics above"; exit 1; fi
	@echo "lint: checkpatch --strict"
	@$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types -f $(LINT_FILES)
	@# libFuzzer's entry point has the one name it has.
	@$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types --ignore CAMELCASE -f $(FUZZ_LINT_FILES)
	@echo "lint: clean"

compat-check:
	$(SELFTESTS)/compat_check.sh $(BUILD)

# QEMU with kvm-viommu=on, which the testbed runs in L1 beside Debian's
# QEMU: built once into the cache (keyed by the patch series) and linked
# where guest/run_qemu_kvm.sh looks for it.
qemu:
	@mkdir -p $(BUILD)/qemu
	tools/qemu/build.sh $(BUILD)/qemu/qemu-system-x86_64

check demo bench: qemu

fuzz:
	$(MAKE) -C $(SELFTESTS)/fuzz fuzz OUTPUT=$(BUILD)/fuzz

fuzz-replay:
	$(MAKE) -C $(SELFTESTS)/fuzz replay OUTPUT=$(BUILD)/fuzz

clean:
	-[ ! -f $(CONFIG_MK) ] || $(MAKE) -C $$(sed -n 's/^KDIR := //p' \
		$(CONFIG_MK)) M=$(CURDIR)/$(MODDIR) clean
	-[ ! -f $(CONFIG_MK) ] || $(MAKE) -C $$(sed -n 's/^KDIR := //p' \
		$(CONFIG_MK)) M=$(CURDIR)/$(SELFTESTS)/guest clean
	rm -rf $(BUILD)

help:
	@sed -n '3,16p' Makefile
