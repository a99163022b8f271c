# Makefile - build, boot and test Ferrite. `make help` lists the targets.

PROFILE        ?= release
TARGET_SPEC    := i686-kernel.json
TARGET_NAME    := i686-kernel
BUILD_DIR      := build
# Cargo puts the dev profile's output in `debug/`.
PROFILE_DIRECTORY := $(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
KERNEL_LIBRARY := target/$(TARGET_NAME)/$(PROFILE_DIRECTORY)/libferrite.a
KERNEL_ELF     := $(BUILD_DIR)/kernel.elf
# The bench image: the same kernel with its benchmarks and in-kernel tests (the `bench` and
# `in-kernel-tests` features), built in a target directory of its own so the two builds never
# overwrite each other's library. The shipped image carries neither.
BENCH_TARGET_DIR := target/bench
BENCH_LIBRARY  := $(BENCH_TARGET_DIR)/$(TARGET_NAME)/$(PROFILE_DIRECTORY)/libferrite.a
BENCH_ELF      := $(BUILD_DIR)/kernel-bench.elf
# The host build with `--cfg loom` (loom's locks and parking behind src/sync's seam), in a
# target directory of its own so it never invalidates the ordinary builds.
LOOM_TARGET_DIR := target/loom
ISO            := $(BUILD_DIR)/ferrite.iso
ISO_ROOT       := $(BUILD_DIR)/iso
# The bench image on the same GRUB, so `make bench` can measure it on a framebuffer too.
BENCH_ISO      := $(BUILD_DIR)/ferrite-bench.iso
BENCH_ISO_ROOT := $(BUILD_DIR)/iso-bench
ASM_OBJECTS    := $(BUILD_DIR)/multiboot_header.o $(BUILD_DIR)/boot.o $(BUILD_DIR)/interrupts.o \
                  $(BUILD_DIR)/context_switch.o $(BUILD_DIR)/ap_trampoline.o
CARGO_RUN      := scripts/cargo.sh
EMBED_SYMBOLS  := tools/target/release/embed-symbols
QEMU           ?= qemu-system-i386
QEMU_MEMORY    ?= 128M
QEMU_CPUS      ?= 2

ifeq ($(PROFILE),release)
CARGO_PROFILE_FLAG := --release
else
CARGO_PROFILE_FLAG :=
endif

# Build core/alloc from source for our own target (see docs/machines-and-toolchain.md, "Toolchain").
BUILD_STD_FLAGS := --target $(TARGET_SPEC) -Zjson-target-spec \
                   -Zbuild-std=core,compiler_builtins,alloc \
                   -Zbuild-std-features=compiler-builtins-mem

# GRUB modules the ISO needs to load a Multiboot kernel from the CD or a USB stick, on every
# platform: a name missing from one platform's modules fails the build, so `all_video` (VBE on
# BIOS, GOP/UGA on UEFI) rather than each driver; grub-mkrescue adds the disk drivers itself.
# smbios and regexp read the OEM string QEMU passes (see grub/grub.cfg); test gives `if [`.
# The EFI image's built-in configuration loads every partition-table module: without the rarer
# ones GRUB prints a "not found" error for each on screen before the menu.
GRUB_MODULES := multiboot multiboot2 normal configfile iso9660 part_msdos part_gpt fat all_video \
                smbios regexp test part_acorn part_amiga part_bsd part_dfly part_dvh \
                part_plan part_sun part_sunpc
# The platforms the hybrid ISO boots, each from its GRUB package (see scripts/setup.sh).
GRUB_PLATFORMS := i386-pc x86_64-efi i386-efi
# UEFI firmware for QEMU (Debian's ovmf and ovmf-ia32); the variable stores are copied.
OVMF_CODE      := /usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS      := /usr/share/OVMF/OVMF_VARS_4M.fd
QEMU_UEFI      ?= qemu-system-x86_64

# `make run` opens a window when a display is available, else draws the VGA text in the
# terminal with curses (serial output then goes to build/serial.log).
ifneq ($(strip $(DISPLAY)$(WAYLAND_DISPLAY)),)
RUN_DISPLAY := -serial stdio
else
RUN_DISPLAY := -display curses -serial file:$(BUILD_DIR)/serial.log
endif
# A framebuffer cannot be drawn in a terminal: without a display, run-uefi serves it over VNC.
ifneq ($(strip $(DISPLAY)$(WAYLAND_DISPLAY)),)
RUN_UEFI_DISPLAY := -serial stdio
else
RUN_UEFI_DISPLAY := -display vnc=127.0.0.1:0 -serial stdio
endif

# A recipe that fails (say, embed-symbols) must not leave a half-made target behind.
.DELETE_ON_ERROR:

.PHONY: all kernel iso run run-uefi run-kernel debug test test-host test-loom test-e2e bench \
        bench-kernel soak clean \
        setup help fmt clippy check check-size FORCE

all: kernel

help:
	@echo "Ferrite make targets:"
	@echo "  make / make kernel  build the kernel ELF ($(KERNEL_ELF))"
	@echo "  make iso            build a bootable hybrid CD/USB image ($(ISO))"
	@echo "  make run            boot the ISO in QEMU (window, or the terminal without a display)"
	@echo "  make run-uefi       boot the ISO in QEMU under 64-bit UEFI firmware (OVMF)"
	@echo "  make run-kernel     boot the ELF directly with qemu -kernel (ARGS='nodemo' adds words)"
	@echo "  make debug          boot the ELF with QEMU waiting for gdb on localhost:1234"
	@echo "  make test           host unit tests, loom models, in-kernel, end-to-end and browser tests"
	@echo "  make test-host      host unit tests only"
	@echo "  make test-loom      loom models of the blocking primitives in src/sync"
	@echo "  make bench          build the bench image, measure, write docs/benchmarks.md"
	@echo "  make soak           ten minutes of keys and threads, then checks (SOAK_SECONDS=...)"
	@echo "  make web            build the page that boots Ferrite in the browser (build/web/)"
	@echo "  make serve          serve build/web on http://127.0.0.1:$(WEB_PORT)/"
	@echo "  make test-web       the kernel in v86 under node, then the page in headless Chromium"
	@echo "  make test-web-firefox  the page tests in Firefox (firefox-esr; not part of make test)"
	@echo "  make bench-web      boot time and demo speed in the page next to QEMU's"
	@echo "  make check          cargo fmt --check, clippy, and the image against its size budget"
	@echo "  make setup          install missing packages (Debian/Ubuntu; root or sudo)"
	@echo "  make clean          remove build outputs"
	@echo "Variables: PROFILE=release|dev, CARGO=/path/to/cargo, QEMU=..., ARGS=..."

setup:
	@scripts/setup.sh

kernel: $(KERNEL_ELF)

$(BUILD_DIR):
	@mkdir -p $@

$(BUILD_DIR)/%.o: asm/%.asm | $(BUILD_DIR) setup
	nasm -f elf32 -Wall -o $@ $<

# Cargo decides what is stale; it is always asked.
$(KERNEL_LIBRARY): FORCE | setup
	$(CARGO_RUN) rustc --lib --crate-type staticlib $(CARGO_PROFILE_FLAG) $(BUILD_STD_FLAGS)

$(BENCH_LIBRARY): FORCE | setup
	$(CARGO_RUN) rustc --lib --crate-type staticlib $(CARGO_PROFILE_FLAG) $(BUILD_STD_FLAGS) \
	    --features bench,in-kernel-tests --target-dir $(BENCH_TARGET_DIR)

$(EMBED_SYMBOLS): tools/Cargo.toml tools/src/embed_symbols.rs src/diagnostics/symbol_table.rs src/bytes.rs | setup
	$(CARGO_RUN) build --release --quiet --manifest-path tools/Cargo.toml

LINK := ld -m elf_i386 -n --gc-sections -T linker.ld

# Changes (and so relinks the kernel) only when PROFILE does: the other profile's library may
# be older than the kernel file.
$(BUILD_DIR)/profile: FORCE | $(BUILD_DIR)
	@echo $(PROFILE) | cmp -s - $@ || echo $(PROFILE) > $@

# link-kernel LIBRARY, OUTPUT: two links. The first, with an empty name table, gives the
# functions' addresses and names; tools/embed-symbols writes them as a table; the second link
# includes it. The table is the last section of the image, so the second link moves no
# function, which embed-symbols --check confirms.
define link-kernel
	nasm -f elf32 -Wall -o $(BUILD_DIR)/symbols-empty.o asm/symbols.asm
	$(LINK) -o $(2:.elf=-first-link.elf) $(ASM_OBJECTS) $(BUILD_DIR)/symbols-empty.o $(1)
	$(EMBED_SYMBOLS) $(2:.elf=-first-link.elf) $(2:.elf=-symbols.bin)
	nasm -f elf32 -Wall -DSYMBOL_TABLE_FILE='"$(2:.elf=-symbols.bin)"' -o $(2:.elf=-symbols.o) asm/symbols.asm
	$(LINK) -o $(2) $(ASM_OBJECTS) $(2:.elf=-symbols.o) $(1)
	$(EMBED_SYMBOLS) --check $(2) $(2:.elf=-symbols.bin)
	@grub-file --is-x86-multiboot $(2) || (echo "error: $(2) has no valid Multiboot header" >&2; exit 1)
endef

LINK := ld -m elf_i386 -n --gc-sections -T linker.ld
KERNEL_INPUTS := $(ASM_OBJECTS) linker.ld asm/symbols.asm $(EMBED_SYMBOLS) $(BUILD_DIR)/profile

$(KERNEL_ELF): $(KERNEL_LIBRARY) $(KERNEL_INPUTS)
	$(call link-kernel,$(KERNEL_LIBRARY),$@)

$(BENCH_ELF): $(BENCH_LIBRARY) $(KERNEL_INPUTS)
	$(call link-kernel,$(BENCH_LIBRARY),$@)

bench-kernel: $(BENCH_ELF)

iso: $(ISO)

# make-iso KERNEL, ROOT, OUTPUT: the hybrid ISO for every platform in GRUB_PLATFORMS, with the
# bench image beside the kernel for the menu's in-kernel tests entry.
define make-iso
	@for platform in $(GRUB_PLATFORMS); do test -d /usr/lib/grub/$$platform || \
	    { echo "error: no GRUB for $$platform in /usr/lib/grub; run make setup" >&2; exit 1; }; done
	@mkdir -p $(2)/boot/grub
	objcopy --strip-all $(1) $(2)/boot/kernel.elf
	objcopy --strip-all $(BENCH_ELF) $(2)/boot/kernel-bench.elf
	cp grub/grub.cfg $(2)/boot/grub/grub.cfg
	grub-mkrescue --install-modules="$(GRUB_MODULES)" \
	    --fonts= --locales= --themes= --compress=xz -o $(3) $(2) 2>$(3:.iso=-mkrescue.log) \
	    || (cat $(3:.iso=-mkrescue.log) >&2; exit 1)
	@size=$$(stat -c %s $(3)); [ $$size -le 5242880 ] || \
	    { echo "error: $(3) is $$size bytes, over the 5 MiB budget" >&2; exit 1; }
endef

$(ISO): $(KERNEL_ELF) $(BENCH_ELF) grub/grub.cfg Makefile
	$(call make-iso,$(KERNEL_ELF),$(ISO_ROOT),$@)

$(BENCH_ISO): $(BENCH_ELF) grub/grub.cfg Makefile
	$(call make-iso,$(BENCH_ELF),$(BENCH_ISO_ROOT),$@)

# ARGS reaches the kernel through GRUB as an SMBIOS OEM string (see grub/grub.cfg).
comma := ,
RUN_OEM_STRING := $(if $(strip $(ARGS)),-smbios "type=11$(comma)value=ferrite::$(ARGS)")

run: $(ISO)
	$(QEMU) -m $(QEMU_MEMORY) -smp $(QEMU_CPUS) -cdrom $(ISO) $(RUN_DISPLAY) $(RUN_OEM_STRING)

# The ISO under 64-bit UEFI firmware (OVMF), with a fresh copy of its variable store.
run-uefi: $(ISO)
	@[ -n "$(strip $(DISPLAY)$(WAYLAND_DISPLAY))" ] || echo "No display: connect a VNC viewer to 127.0.0.1:5900."
	cp $(OVMF_VARS) $(BUILD_DIR)/ovmf-vars.fd
	$(QEMU_UEFI) -m $(QEMU_MEMORY) -smp $(QEMU_CPUS) -nic none \
	    -drive if=pflash,format=raw,readonly=on,file=$(OVMF_CODE) \
	    -drive if=pflash,format=raw,file=$(BUILD_DIR)/ovmf-vars.fd \
	    -cdrom $(ISO) $(RUN_UEFI_DISPLAY) $(RUN_OEM_STRING)

run-kernel: $(KERNEL_ELF)
	$(QEMU) -m $(QEMU_MEMORY) -smp $(QEMU_CPUS) -kernel $(KERNEL_ELF) -append "$(ARGS)" $(RUN_DISPLAY)

debug: $(KERNEL_ELF)
	@echo "QEMU waits for gdb. In another terminal:"
	@echo "  gdb $(KERNEL_ELF) -ex 'target remote localhost:1234' -ex 'break kernel_main' -ex continue"
	$(QEMU) -m $(QEMU_MEMORY) -kernel $(KERNEL_ELF) -append "$(ARGS)" $(RUN_DISPLAY) -s -S

test: test-host test-loom test-e2e

test-host: | setup
	$(CARGO_RUN) test --lib

# The blocking primitives under loom's model checker; only the `loom_models` tests run.
test-loom: | setup
	RUSTFLAGS="--cfg loom" $(CARGO_RUN) test --lib --target-dir $(LOOM_TARGET_DIR) -- loom_models

# The end-to-end tests that read the screen, run again on a framebuffer (GRUB's VBE entry).
SCREEN_TESTS := --test boot --test demo --test faults --test panic --test shell

# Every end-to-end test in VGA text mode (and the UEFI and USB boots), then the screen tests
# on a framebuffer. The in-kernel suite's runs on one to four CPUs go one at a time: two of
# them side by side would give eight virtual CPUs two host cores, and its clock tests would
# measure the host's load.
test-e2e: $(KERNEL_ELF) $(BENCH_ELF) $(ISO) $(BENCH_ISO)
	$(CARGO_RUN) test --release --manifest-path tests/Cargo.toml -- --test-threads=2 \
	    --skip suite_passes_
	$(CARGO_RUN) test --release --manifest-path tests/Cargo.toml --test in_kernel -- \
	    --test-threads=1 suite_passes_
	FERRITE_SCREEN=framebuffer $(CARGO_RUN) test --release --manifest-path tests/Cargo.toml \
	    $(SCREEN_TESTS) -- --test-threads=2

# Ten minutes of random keys, spinner and channel-traffic threads started and killed, then a
# check that nothing faulted, no message was lost and memory is back at its baseline. Not part
# of `make test`; SOAK_SECONDS=60 shortens it.
soak: $(KERNEL_ELF)
	$(CARGO_RUN) run --release --quiet --manifest-path tests/Cargo.toml --bin soak

bench: $(KERNEL_ELF) $(BENCH_ELF) $(ISO) $(BENCH_ISO)
	$(CARGO_RUN) run --release --quiet --manifest-path tests/Cargo.toml --bin bench

fmt:
	$(CARGO_RUN) fmt --all
	$(CARGO_RUN) fmt --all --manifest-path tests/Cargo.toml
	$(CARGO_RUN) fmt --all --manifest-path tools/Cargo.toml

# The image people boot, stripped as the ISO carries it, against its budget (docs/benchmarks.md).
IMAGE_BUDGET := 196608
check-size: $(KERNEL_ELF)
	objcopy --strip-all $(KERNEL_ELF) $(BUILD_DIR)/kernel-stripped.elf
	@size=$$(stat -c %s $(BUILD_DIR)/kernel-stripped.elf); \
	    echo "kernel.elf stripped: $$size bytes, budget $(IMAGE_BUDGET)"; \
	    [ $$size -le $(IMAGE_BUDGET) ] || { echo "error: the image is over its budget" >&2; exit 1; }

check: check-size | setup
	$(CARGO_RUN) fmt --all -- --check
	$(CARGO_RUN) fmt --all --manifest-path tests/Cargo.toml -- --check
	$(CARGO_RUN) fmt --all --manifest-path tools/Cargo.toml -- --check
	$(CARGO_RUN) clippy $(CARGO_PROFILE_FLAG) $(BUILD_STD_FLAGS) -- -D warnings
	$(CARGO_RUN) clippy --tests -- -D warnings
	RUSTFLAGS="--cfg loom" $(CARGO_RUN) clippy --tests --target-dir $(LOOM_TARGET_DIR) -- -D warnings
	$(CARGO_RUN) clippy --manifest-path tests/Cargo.toml --all-targets -- -D warnings
	$(CARGO_RUN) clippy --manifest-path tools/Cargo.toml --all-targets -- -D warnings

clean:
	rm -rf $(BUILD_DIR) target tests/target tools/target

FORCE:

include web/web.mk
