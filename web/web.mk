# web/web.mk - Ferrite in the browser (docs/web.md), included by the Makefile: build/web/ with
# the page, v86, xterm.js, SeaBIOS and the kernel; `make serve`; the browser tests; the figures.

WEB_DIR        := $(BUILD_DIR)/web
WEB_PORT       ?= 8086
# Debian's seabios package: v86 ships no BIOS images.
SEABIOS_DIR    := /usr/share/seabios
WEB_PAGE_FILES := web/index.html web/main.js web/style.css web/ferrite.mjs
# npm writes this file last, so it stands for a finished `npm ci`.
WEB_MODULES    := web/node_modules/.package-lock.json

.PHONY: web serve test-web test-web-firefox bench-web

web: $(WEB_DIR)/index.html

$(WEB_MODULES): web/package.json web/package-lock.json | setup
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Static files only: everything the page loads at run time is in this folder. The kernel is the
# stripped copy the ISO holds; the in-kernel tests run on a stripped copy of the bench image.
# Licences of what is redistributed go along.
$(WEB_DIR)/index.html: $(WEB_PAGE_FILES) $(WEB_MODULES) $(ISO) $(BENCH_ELF) web/web.mk | setup
	rm -rf $(WEB_DIR)
	mkdir -p $(WEB_DIR)/licenses
	cp web/main.js web/style.css web/ferrite.mjs $(WEB_DIR)/
	cp web/node_modules/v86/build/libv86.mjs web/node_modules/v86/build/v86.wasm $(WEB_DIR)/
	cp web/node_modules/@xterm/xterm/lib/xterm.mjs web/node_modules/@xterm/xterm/css/xterm.css $(WEB_DIR)/
	cp $(SEABIOS_DIR)/bios.bin $(SEABIOS_DIR)/vgabios-stdvga.bin $(WEB_DIR)/
	cp $(ISO) $(WEB_DIR)/ferrite.iso
	cp $(ISO_ROOT)/boot/kernel.elf $(WEB_DIR)/kernel.elf
	objcopy --strip-all $(BENCH_ELF) $(WEB_DIR)/kernel-bench.elf
	cp web/node_modules/v86/LICENSE $(WEB_DIR)/licenses/v86.txt
	cp web/node_modules/@xterm/xterm/LICENSE $(WEB_DIR)/licenses/xterm.txt
	cp /usr/share/doc/seabios/copyright $(WEB_DIR)/licenses/seabios.txt
	cp web/index.html $@

serve: web
	node web/serve.mjs $(WEB_DIR) --port $(WEB_PORT)

# The kernel in v86 under node, then the page in headless Chromium.
test-web: web
	cd web && node --test tests/machine.test.mjs tests/page.test.mjs

# The page tests in Firefox: not part of `make test`, as CI installs no Firefox.
test-web-firefox: web
	@[ -n "$$FIREFOX" ] || command -v firefox-esr >/dev/null || \
	    { echo "test-web-firefox: install firefox-esr, or set FIREFOX=/path/to/firefox" >&2; exit 1; }
	cd web && FERRITE_BROWSER=firefox node --test tests/page.test.mjs

bench-web: web $(ISO)
	node web/bench.mjs

test: test-web
bench: bench-web
