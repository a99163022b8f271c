// machine.test.mjs - the kernel in v86 under node, without a browser: the files `make web` put in
// build/web/, booted the three ways the page boots them, checked on the screen and serial.
// A failure here means the kernel, v86 or ferrite.mjs broke; page.test.mjs checks the page.

import assert from "node:assert/strict";
import { test } from "node:test";

import { BOOTS, EXIT_SUCCESS, SHELL_READY } from "../ferrite.mjs";
import { startNodeMachine } from "./support.mjs";

test("the ISO boots through GRUB to the greeting on screen and serial", async () => {
    const machine = await startNodeMachine(BOOTS.iso);
    try {
        // The greeting is printed in pieces: wait for the whole line, not just its start.
        const booted = /^Hello from Rust! Booted by GRUB /;
        await machine.waitFor(() => booted.test(machine.screenRow(1)), 60_000, "greeting");
        assert.match(machine.screenRow(1), booted);
        assert.match(machine.screenRow(0), /Ferrite \d+\.\d+ - a Rust kernel for 32-bit x86/);
        await machine.waitFor(() => machine.transcript.greeted, 5_000, "greeting on serial");
    } finally {
        await machine.destroy();
    }
});

test("typing `echo hi` and Enter at the shell prints hi on screen and serial", async () => {
    const machine = await startNodeMachine(BOOTS.shell);
    try {
        await machine.waitFor(() => machine.transcript.shellReady, 60_000, SHELL_READY);
        assert.match(machine.screenRow(1), /^Hello from Rust! Booted by a Multiboot loader\./);
        machine.emulator.keyboard_send_text("echo hi\n");
        const echoed = () => {
            const rows = machine.screenRows();
            const command = rows.findIndex((row) => row.trimEnd() === "ferrite> echo hi");
            return command >= 0 && rows[command + 1]?.trimEnd() === "hi";
        };
        await machine.waitFor(echoed, 10_000, "hi under the command on screen");
        await machine.waitFor(
            () => /\nferrite> echo hi\nhi\nferrite> $/.test(machine.transcript.text),
            10_000,
            "hi on serial",
        );
    } finally {
        await machine.destroy();
    }
});

test("the in-kernel tests all pass and end the run through the debug-exit port", async () => {
    const machine = await startNodeMachine(BOOTS.test);
    try {
        const exit = await machine.exited(120_000);
        const tests = machine.transcript.tests;
        assert.ok(tests, `no summary line on serial:\n${machine.transcript.text}`);
        assert.ok(tests.announced >= 10, `only ${tests.announced} tests announced`);
        assert.equal(tests.ok, tests.announced, machine.transcript.text);
        assert.equal(tests.passed, tests.announced);
        assert.equal(tests.failed, 0, machine.transcript.text);
        assert.ok(
            machine.transcript.text.endsWith(`\n${tests.passed} passed, 0 failed\n`),
            "the summary is the last line",
        );
        assert.equal(exit, EXIT_SUCCESS, `exit byte 0x${exit.toString(16)}`);
    } finally {
        await machine.destroy();
    }
});
