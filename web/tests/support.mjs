// support.mjs - what the web tests and the web benchmark share: where build/web is, a v86
// machine in node, the static server started as `make serve` starts it, and waiting with a
// timeout.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { FIRMWARE, Transcript, hookDebugExit, v86Options } from "../ferrite.mjs";

export const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// What `make web` built: the page and everything it loads.
export const SITE = process.env.FERRITE_WEB_DIR ?? path.join(REPOSITORY, "build/web");

// Polls `condition` every 20 ms until it holds; throws naming `what` after `timeoutMs`.
export async function waitFor(condition, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await condition()) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

function readSiteFile(name) {
    const bytes = fs.readFileSync(path.join(SITE, name));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

// Boots `boot` (one of ferrite.mjs's BOOTS) in v86 under node from the files in build/web.
export async function startNodeMachine(boot) {
    const { V86 } = await import(path.join(SITE, "libv86.mjs"));
    const files = {};
    for (const name of [FIRMWARE.bios, FIRMWARE.vgaBios, boot.image]) files[name] = readSiteFile(name);
    const emulator = new V86(v86Options(boot, files, { wasm_path: path.join(SITE, "v86.wasm") }));
    const transcript = new Transcript();
    emulator.add_listener("serial0-output-byte", (byte) => transcript.push(byte));
    let exitValue = null;
    await new Promise((resolve) => emulator.add_listener("emulator-ready", resolve));
    if (!hookDebugExit(emulator, (value) => (exitValue = value))) {
        throw new Error("this v86 build does not expose its I/O port table");
    }
    const machine = {
        emulator,
        transcript,
        waitFor,
        screenRows: () => emulator.screen_adapter.get_text_screen(),
        screenRow: (row) => emulator.screen_adapter.get_text_row(row),
        // The byte written to the debug-exit port, once the kernel has written it.
        async exited(timeoutMs) {
            await waitFor(() => exitValue !== null, timeoutMs, "a write to the debug-exit port");
            return exitValue;
        },
        async destroy() {
            await emulator.destroy();
        },
    };
    return machine;
}

// Starts web/serve.mjs, the server `make serve` runs, on a free port of 127.0.0.1; resolves to
// { origin, stop }.
export async function startServer() {
    const server = spawn(process.execPath, [path.join(REPOSITORY, "web/serve.mjs"), SITE, "--port", "0"], {
        stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    const origin = await new Promise((resolve, reject) => {
        server.stdout.on("data", (chunk) => {
            output += chunk;
            const match = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
            if (match) resolve(match[0]);
        });
        server.on("exit", (code) => reject(new Error(`serve.mjs exited with ${code}: ${output}`)));
        setTimeout(() => reject(new Error(`serve.mjs printed no address: ${output}`)), 10_000);
    });
    return {
        origin,
        stop() {
            server.kill();
        },
    };
}
