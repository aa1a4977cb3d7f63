# SPDX-License-Identifier: GPL-2.0-only
#
# kvm_viommu, built out of tree against a Debian kernel's headers, and tested
# one level down in a nested-KVM testbed (see README.md).
#
#   make            module, selftests and the reference VMM (viommu-vmm)
#   make check      boot the testbed, run the selftests, print the result
#   make demo       boot the testbed and show what the module does
#   make bench      compare the vIOMMU modes; JSON path on the last line
#   make soak       boot the L2 Linux guest SOAK_BOOTS times in each VMM
#   make soak-dma   the Linux guest SOAK_RUNS (30) times, panic on hangs
#   make qemu       QEMU 10.0.2 with the kvm_viommu patches (tools/qemu), once
#   make qemu-l0    the testbed's L0: QEMU 10.0.2 with tools/qemu/fixes, once
#   make lint       W=1 build, sparse, checkpatch --strict
#   make compat-check  compile against linux-source-6.12 too
#   make check-debug   make check on a KASAN/lockdep/kmemleak L1 kernel
#   make fuzz       fuzz the VT-d core (libFuzzer); fuzz-replay: the corpus
#   make deb        the Debian packages (kvm-viommu-dkms, kvm-viommu-tools)
#                   into build/deb, checked by lintian
#   make install    the module under /lib/modules/<release>/updates for
#                   KERNEL_RELEASE (default: the running kernel), and the
#                   uapi header; make uninstall takes both away
#   make install-check  install and uninstall into build/destdir
#   make plugin-check   the bench's instruction-counting L0 plugin
#   make clean
#
# Testbed variables: L1_KERNEL=6.1|6.12|RELEASE (L1's and the L2 Linux
# guest's kernel, default 6.1), L1_CPUS (default 2), QEMU_ANCHOR=10|7.2
# (the QEMU that runs the L2 Linux guest inside L1, default 10),
# SOAK_BOOTS (default 30).

SELFTESTS := tools/testing/selftests/kvm_viommu
MODDIR := drivers/iommu/kvm_viommu
VMMDIR := tools/kvm/viommu_vmm
BUILD := $(CURDIR)/build
GUESTDIR := $(SELFTESTS)/guest

L1_KERNEL ?= 6.1
L1_CPUS ?= 2
QEMU_ANCHOR ?= 10
SOAK_BOOTS ?= 30
CONFIG_MK := $(BUILD)/config-$(L1_KERNEL).mk

# The package's name and release: debian/changelog's first line is the one
# place they are written (dh_dkms fills dkms.conf's version in from it).
# The module's version is the release less any epoch and Debian revision,
# as DKMS's is.
PKG_NAME := $(shell awk 'NR == 1 { print $$1 }' debian/changelog)
DEB_VERSION := $(shell awk 'NR == 1 { gsub(/[()]/, "", $$2); print $$2 }' \
	     debian/changelog)
VERSION := $(shell echo '$(DEB_VERSION)' | sed 's/^[0-9]*://; s/-[^-]*$$//')
# (File names of .changes and .deb leave the epoch out.)
DEB_FILE_VERSION := $(shell echo '$(DEB_VERSION)' | sed 's/^[0-9]*://')

NO_SETUP_GOALS := clean help install uninstall deb
# The config.mk rule below comes first; a bare `make` still means `all`.
.DEFAULT_GOAL := all
ifeq ($(filter-out $(NO_SETUP_GOALS),$(MAKECMDGOALS))$(if $(MAKECMDGOALS),,all),)
else
# Installs the packages and unpacks the kernel trees on first use; make
# re-reads the variables it writes (KVER, KDIR, KIMG, KSRC, QEMU72), one
# file per L1 kernel.  Made again when setup.sh changes or the cache moves
# (KVM_VIOMMU_CACHE): build/cache-dir names the cache it was made for.
CACHE_DIR := $(or $(KVM_VIOMMU_CACHE),/var/cache/kvm_viommu)
$(shell mkdir -p $(BUILD) && \
	[ "$$(cat $(BUILD)/cache-dir 2>/dev/null)" = '$(CACHE_DIR)' ] || \
	printf '%s\n' '$(CACHE_DIR)' > $(BUILD)/cache-dir)
$(CONFIG_MK): $(SELFTESTS)/setup.sh $(BUILD)/cache-dir
	@mkdir -p $(BUILD)
	$(SELFTESTS)/setup.sh -k $(L1_KERNEL) $@.tmp && mv $@.tmp $@
include $(CONFIG_MK)
endif

# Where the module and the guest's module are built for the L1 kernel:
# in the tree for Debian 12's 6.1 (what lint and a developer build), in a
# copy under build/ for any other kernel, so objects never mix.
ifeq ($(L1_KERNEL),6.1)
KOBJ := $(CURDIR)
else
KOBJ := $(BUILD)/l1-$(KVER)
endif
KO := $(KOBJ)/$(MODDIR)/kvm_viommu.ko
GUEST_INITRD := $(BUILD)/guest/initrd-$(KVER).cpio.gz
KBUILD_ARGS := -C $(KDIR) M=$(KOBJ)/$(MODDIR) CONFIG_KVM_VIOMMU=m \
	KVM_VIOMMU_VERSION=$(VERSION)

# What vmtest.sh boots (see its header).
VMTEST_ENV = VMTEST_CONFIG=$(CONFIG_MK) VMTEST_KO=$(KO) \
	VMTEST_L2_INITRD=$(GUEST_INITRD) VMTEST_SMP=$(L1_CPUS) \
	VMTEST_QEMU_ANCHOR=$(QEMU_ANCHOR)

.PHONY: all copy module selftests vmm guest check check-debug demo bench plugin plugin-check soak soak-dma lint qemu-l0 \
	compat-check fuzz fuzz-replay clean help qemu deb install uninstall \
	install-check

all: module selftests vmm guest

copy:
ifneq ($(KOBJ),$(CURDIR))
	$(SELFTESTS)/copy_module.sh $(KOBJ)
endif

module: copy
	$(MAKE) $(KBUILD_ARGS) modules

selftests:
	$(MAKE) -C $(SELFTESTS) KSRC=$(KSRC) OUTPUT=$(BUILD)/selftests

# The reference VMM (a tool for VMM authors, not a test helper).
vmm:
	$(MAKE) -C $(VMMDIR) OUTPUT=$(BUILD)/vmm

# The L2 Linux guest's side: edu_dma.ko, built against the guest kernel's
# headers (the testbed's L2 runs the same Debian kernel as L1), and the
# initramfs that loads it.
guest: copy
	$(MAKE) -C $(KDIR) M=$(KOBJ)/$(GUESTDIR) modules
	@mkdir -p $(BUILD)/guest
	$(GUESTDIR)/mkinitrd.sh $(GUEST_INITRD) $(KOBJ)/$(GUESTDIR)/edu_dma.ko

check: all
	$(VMTEST_ENV) $(SELFTESTS)/vmtest.sh check

# The debug L1 kernel is a 6.1 built from source; its L2 guest is 6.1's.
check-debug: all
ifneq ($(L1_KERNEL),6.1)
	$(error check-debug builds a 6.1 debug kernel: run it without L1_KERNEL)
endif
	$(VMTEST_ENV) $(SELFTESTS)/debug_kernel.sh $(BUILD)

demo: all
	$(VMTEST_ENV) $(SELFTESTS)/vmtest.sh demo

# About 25 L2 boots of up to a minute each, the modes' guests, an idle
# spell of 3 s in each traced boot: 11 minutes on 2026-11-30.
bench: all
	$(VMTEST_ENV) VMTEST_TIMEOUT=$${VMTEST_TIMEOUT:-1800} \
		$(SELFTESTS)/vmtest.sh bench

# One L1 boot for the whole soak: up to a minute per L2 boot, 7 VMMs.
soak: all
	$(VMTEST_ENV) SOAK_BOOTS=$(SOAK_BOOTS) \
		VMTEST_TIMEOUT=$${VMTEST_TIMEOUT:-$$(($(SOAK_BOOTS) * 420 + 600))} \
		$(SELFTESTS)/vmtest.sh soak

# The Linux guest SOAK_RUNS times in a row (3000 map+unmap pairs each) on
# an L1 that panics on a hung task or a soft lockup: what backs the
# vCPU-context queue path being the default.
SOAK_RUNS ?= 30
soak-dma: all
	$(VMTEST_ENV) KVM_VIOMMU_SOAK_RUNS=$(SOAK_RUNS) VMTEST_TESTS=linux_soak \
	VMTEST_TIMEOUT=$$((300 + 120 * $(SOAK_RUNS))) \
	VMTEST_APPEND="hung_task_panic=1 softlockup_panic=1 hung_task_timeout_secs=60" \
		$(SELFTESTS)/vmtest.sh check

# A W=1 build and a sparse pass (C=2 checks every file, built or not) whose
# output must hold no diagnostic, then checkpatch --strict on every C file
# and header of ours.  checkpatch.pl comes from the linux-source package.
LINT_FILES = $(filter-out %.mod.c,$(wildcard $(MODDIR)/*.[ch] \
		include/uapi/linux/*.h $(SELFTESTS)/*.[ch] $(VMMDIR)/*.[ch] \
		$(SELFTESTS)/guest/*.c))
# libFuzzer's entry point and glib's types (the QEMU plugin) have the
# names they have.
LINT_CAMEL_FILES = $(wildcard $(SELFTESTS)/fuzz/*.[ch] $(SELFTESTS)/plugin/*.c)

lint: module guest
	@echo "lint: W=1 build and sparse"
	@$(MAKE) -s $(KBUILD_ARGS) W=1 C=2 \
		modules > $(BUILD)/lint.log 2>&1 || { cat $(BUILD)/lint.log; exit 1; }
	@$(MAKE) -s -C $(KDIR) M=$(KOBJ)/$(GUESTDIR) W=1 C=2 \
		modules >> $(BUILD)/lint.log 2>&1 || { cat $(BUILD)/lint.log; exit 1; }
	@if grep -E 'warning|error' $(BUILD)/lint.log; then \
		echo "lint: W=1/sparse diagnostics above"; exit 1; fi
	@echo "lint: checkpatch --strict"
	@$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types -f $(LINT_FILES)
	@$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
		--show-types --ignore CAMELCASE -f $(LINT_CAMEL_FILES)
	@echo "lint: clean"

compat-check:
	$(SELFTESTS)/compat_check.sh $(BUILD)

# QEMU with kvm-viommu=on, which the testbed runs in L1 beside Debian's
# QEMU: built once into the cache (keyed by the patch series) and linked
# where guest/run_qemu_kvm.sh looks for it.
qemu:
	@mkdir -p $(BUILD)/qemu
	tools/qemu/build.sh $(BUILD)/qemu/qemu-system-x86_64

# The testbed's L0: the same source with tools/qemu/fixes only (its TCG
# lost vCPU 0's nested-paging flag with two L1 CPUs without them).
L0_QEMU := $(BUILD)/qemu-l0/qemu-system-x86_64
qemu-l0:
	@mkdir -p $(dir $(L0_QEMU))
	tools/qemu/build.sh --l0 $(L0_QEMU)

# VMTEST_L0_QEMU=<binary> runs another L0 and skips this one's build.
check check-debug demo bench soak soak-dma: qemu $(if $(VMTEST_L0_QEMU),,qemu-l0)

# The L0 QEMU's plugin that counts instructions between the L2 guest's
# marks (the bench's instructions per map+unmap), built against the plugin
# header of the QEMU source that tools/qemu/build.sh keeps in the cache.
QEMU_PLUGIN_INC := $(KVM_VIOMMU_CACHE)/qemu-10.0.2-kvm_viommu/src/include/qemu
PLUGIN := $(BUILD)/plugin/mark_insns.so
plugin: $(PLUGIN)
$(PLUGIN): $(addprefix $(SELFTESTS)/plugin/,mark_insns.c profile.c profile.h) | qemu
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -Wno-unused-parameter -shared -fPIC \
		-I$(QEMU_PLUGIN_INC) $$(pkg-config --cflags glib-2.0) -o $@ \
		$(filter %.c,$^)

# The plugin on L0's QEMU itself, with a firmware of a few instructions.
plugin-check: plugin $(if $(VMTEST_L0_QEMU),,qemu-l0)
	KVM_VIOMMU_L0_QEMU_BIN=$${VMTEST_L0_QEMU:-$(L0_QEMU)} \
		$(SELFTESTS)/plugin/plugin_test.sh $(PLUGIN)

bench: plugin

# The Debian source package and its binary packages, built from a copy of
# the tree (what .gitignore names left out) and checked by lintian:
# what check installs in L1.  debian/rules builds viommu-vmm and ships the
# module's sources; DKMS builds the module where the package is installed.
DEB_DIR := $(BUILD)/deb
DEB_INPUTS := $(wildcard Makefile debian/* debian/source/* dkms.conf README.md \
	Documentation/virt/kvm_viommu.rst \
	$(MODDIR)/Kbuild $(MODDIR)/*.[ch] include/uapi/linux/*.h \
	$(VMMDIR)/Makefile $(VMMDIR)/*.[ch] $(VMMDIR)/*.1)
deb: $(DEB_DIR)/.done
$(DEB_DIR)/.done: $(DEB_INPUTS)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	rsync -a --exclude=/.git --filter=':- .gitignore' ./ $(DEB_DIR)/src/
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc > ../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error,warning --info \
		$(DEB_DIR)/$(PKG_NAME)_$(DEB_FILE_VERSION)_$(shell \
		dpkg --print-architecture).changes
	touch $@

check: deb

# A plain install for the running kernel (or KERNEL_RELEASE), built against
# its headers in a copy under build/ (the tree's own objects are the
# testbed's); DESTDIR stages it elsewhere (no depmod there).  The
# packages and this are alternatives: both install the uapi header.
KERNEL_RELEASE ?= $(shell uname -r)
INSTALL_KDIR ?= /lib/modules/$(KERNEL_RELEASE)/build
INSTALL_OBJ := $(BUILD)/install-$(KERNEL_RELEASE)
install:
	$(SELFTESTS)/copy_module.sh $(INSTALL_OBJ)
	$(MAKE) -C $(INSTALL_KDIR) M=$(INSTALL_OBJ)/$(MODDIR) \
		CONFIG_KVM_VIOMMU=m KVM_VIOMMU_VERSION=$(VERSION) modules
	$(MAKE) -C $(INSTALL_KDIR) M=$(INSTALL_OBJ)/$(MODDIR) \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),DEPMOD=true) modules_install
	install -D -m 0644 include/uapi/linux/kvm_viommu.h \
		$(DESTDIR)/usr/include/linux/kvm_viommu.h
ifeq ($(DESTDIR),)
	depmod -a $(KERNEL_RELEASE)
endif

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KERNEL_RELEASE)/updates/kvm_viommu.ko*
	rm -f $(DESTDIR)/usr/include/linux/kvm_viommu.h
ifeq ($(DESTDIR),)
	depmod -a $(KERNEL_RELEASE)
endif

# make install and uninstall into a staging directory, for the testbed's
# kernel (nothing is installed on this machine): what lands where, and
# that uninstall leaves no file.
install-check:
	rm -rf $(BUILD)/destdir
	$(MAKE) -s install DESTDIR=$(BUILD)/destdir KERNEL_RELEASE=$(KVER) \
		INSTALL_KDIR=$(KDIR)
	test -f $(BUILD)/destdir/usr/include/linux/kvm_viommu.h
	modinfo -F version \
		$(BUILD)/destdir/lib/modules/$(KVER)/updates/kvm_viommu.ko* | \
		grep -qx '$(VERSION)'
	$(MAKE) -s uninstall DESTDIR=$(BUILD)/destdir KERNEL_RELEASE=$(KVER)
	test -z "$$(find $(BUILD)/destdir ! -type d)"
	@echo "install-check: make install and uninstall: ok"

fuzz:
	$(MAKE) -C $(SELFTESTS)/fuzz fuzz OUTPUT=$(BUILD)/fuzz

fuzz-replay:
	$(MAKE) -C $(SELFTESTS)/fuzz replay OUTPUT=$(BUILD)/fuzz

# The tree's own objects are 6.1's; every other kernel's live in build/.
clean:
	-[ ! -f $(BUILD)/config-6.1.mk ] || $(MAKE) -C $$(sed -n \
		's/^KDIR := //p' $(BUILD)/config-6.1.mk) M=$(CURDIR)/$(MODDIR) clean
	-[ ! -f $(BUILD)/config-6.1.mk ] || $(MAKE) -C $$(sed -n \
		's/^KDIR := //p' $(BUILD)/config-6.1.mk) M=$(CURDIR)/$(GUESTDIR) clean
	rm -rf $(BUILD)

help:
	@sed -n '3,29p' Makefile
