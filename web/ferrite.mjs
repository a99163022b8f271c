// ferrite.mjs - what the page and the node tests share: how each kind of boot is set up in v86,
// how the end of a test run is noticed, and what the serial transcript says.
//
// Runs unchanged in the browser (main.js) and in node (tests/machine.test.mjs, bench.mjs), so a
// failure in node points at the kernel or this file, a failure only in the browser at the page.

// The three ways the page boots the machine.
export const BOOTS = {
    // The BIOS boots the ISO from the CD drive; GRUB loads the kernel.
    iso: { label: "the ISO through GRUB", image: "ferrite.iso" },
    // v86's own Multiboot loader, with a command line.
    shell: { label: "straight to the shell (nodemo)", image: "kernel.elf", commandLine: "nodemo" },
    // The in-kernel tests live in the bench image, not in the kernel people boot.
    test: { label: "the in-kernel tests (test)", image: "kernel-bench.elf", commandLine: "test" },
};

// The files the page fetches, by name in build/web/.
export const FIRMWARE = { bios: "bios.bin", vgaBios: "vgabios-stdvga.bin" };

// The machine's RAM, as `make run` gives QEMU (QEMU_MEMORY in the Makefile).
export const MEMORY_BYTES = 128 * 1024 * 1024;

// QEMU's isa-debug-exit port (src/arch/x86/qemu_exit.rs). v86 has no such device: the page
// hooks the port to learn how a test run ended.
export const DEBUG_EXIT_PORT = 0xf4;
// The bytes the kernel writes there (QEMU exit status 33 and 35).
export const EXIT_SUCCESS = 0x10;
export const EXIT_FAILURE = 0x11;

// Serial lines the kernel prints (src/boot/sequence.rs, src/shell/session.rs,
// src/testing/in_kernel.rs).
export const GREETING = "Hello from Rust!";
export const SHELL_READY = "shell: ready";
const DEMO_SUMMARY = /^demo: (\d+) frames in (\d+) ms, (\d+\.\d+) frames\/s$/m;
const TEST_COUNT = /^running (\d+) in-kernel tests$/m;
const TEST_SUMMARY = /^(\d+) passed, (\d+) failed$/m;

// v86's options for `boot`, given the fetched files as ArrayBuffers by name. Each machine gets
// its own copies, so no run can change what the next one boots.
export function v86Options(boot, files, extra = {}) {
    const buffer = (name) => {
        if (!files[name]) throw new Error(`${name} was not loaded`);
        return { buffer: files[name].slice(0) };
    };
    const options = {
        bios: buffer(FIRMWARE.bios),
        vga_bios: buffer(FIRMWARE.vgaBios),
        memory_size: MEMORY_BYTES,
        autostart: true,
        disable_mouse: true,
        disable_speaker: true,
        ...extra,
    };
    if (boot.commandLine === undefined) {
        options.cdrom = buffer(boot.image);
    } else {
        options.multiboot = buffer(boot.image);
        options.cmdline = boot.commandLine;
    }
    return options;
}

// Calls `onExit(value)` when the kernel writes to the debug-exit port. Returns false if this
// v86 build does not expose its port table (then the transcript's summary line still tells).
export function hookDebugExit(emulator, onExit) {
    const io = emulator.v86?.cpu?.io;
    if (!io || typeof io.register_write !== "function") return false;
    io.register_write(DEBUG_EXIT_PORT, {}, (value) => onExit(value & 0xff));
    return true;
}

// The serial transcript as it arrives, byte by byte, and what it says so far. The kernel ends
// lines with CR LF for terminals; `text` keeps only the LF.
export class Transcript {
    constructor() {
        this.text = "";
    }

    push(byte) {
        if (byte !== 0x0d) this.text += String.fromCharCode(byte);
    }

    // Whether the greeting has been printed.
    get greeted() {
        return this.text.includes(GREETING);
    }

    get shellReady() {
        return this.text.includes(SHELL_READY);
    }

    // The demo's own report: { frames, milliseconds, framesPerSecond }, or null before it ends.
    get demo() {
        const match = DEMO_SUMMARY.exec(this.text);
        if (!match) return null;
        return {
            frames: Number(match[1]),
            milliseconds: Number(match[2]),
            framesPerSecond: Number(match[3]),
        };
    }

    // The test run's summary: { announced, passed, failed, ok }, or null before it ends.
    // `ok` counts the "test NAME ... ok" lines.
    get tests() {
        const summary = TEST_SUMMARY.exec(this.text);
        if (!summary) return null;
        const announced = TEST_COUNT.exec(this.text);
        const ok = this.text.split("\n").filter((line) => /^test \S+ \.\.\. ok$/.test(line));
        return {
            announced: announced ? Number(announced[1]) : null,
            passed: Number(summary[1]),
            failed: Number(summary[2]),
            ok: ok.length,
        };
    }
}
