// bench.mjs - `make bench-web`: boot to greeting and demo frames per second in the page (v86 in
// headless Chromium), next to QEMU's measured in the same run the same way; prints them and
// writes them as the "In the browser" section of docs/benchmarks.md.
//
// Both sides are timed from the emulator's start (QEMU's spawn, the page's `new V86`, after the
// page has fetched the files) to "Hello from Rust!" on serial. The frames per second are the
// kernel's own figure for the demo (its serial line), so both clocks are the guest's. Runs
// alternate between the page and QEMU so host noise falls on both.

import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import puppeteer from "puppeteer-core";

import { GREETING } from "./ferrite.mjs";
import { REPOSITORY, startServer, waitFor } from "./tests/support.mjs";

const BOOT_RUNS = 5;
const DEMO_RUNS = 3;
const TIMEOUT_MS = 120_000;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const QEMU = process.env.QEMU ?? "qemu-system-i386";
const REPORT = path.join(REPOSITORY, "docs/benchmarks.md");
const SECTION = "## In the browser";

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Boots QEMU headless with serial on stdout; resolves to { greetingMs, framesPerSecond } once
// `until` ("greeting" or "demo") is reached, and kills it.
function qemuRun(bootArguments, until) {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const qemu = spawn(
            QEMU,
            ["-m", "128M", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot", ...bootArguments],
            { cwd: REPOSITORY, stdio: ["ignore", "pipe", "ignore"] },
        );
        let serial = "";
        let greetingMs = null;
        const timer = setTimeout(() => {
            qemu.kill();
            reject(new Error(`QEMU: timed out; serial:\n${serial}`));
        }, TIMEOUT_MS);
        qemu.stdout.on("data", (chunk) => {
            serial += chunk.toString("latin1");
            if (greetingMs === null && serial.includes(GREETING)) greetingMs = performance.now() - started;
            const demo = /demo: \d+ frames in \d+ ms, (\d+\.\d+) frames\/s/.exec(serial);
            if ((until === "greeting" && greetingMs !== null) || (until === "demo" && demo)) {
                clearTimeout(timer);
                qemu.kill();
                resolve({ greetingMs, framesPerSecond: demo ? Number(demo[1]) : null });
            }
        });
        qemu.on("error", reject);
        qemu.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`QEMU exited (${code}) early; serial:\n${serial}`));
        });
    });
}

// Loads the page with `?boot=...`; resolves to { greetingMs, framesPerSecond } as the page
// shows them once `until` is reached.
async function pageRun(page, origin, boot, until) {
    await page.goto(`${origin}/?boot=${boot}`, { waitUntil: "load" });
    const read = async () => {
        const shown = await page.evaluate(() => ({
            greeting: document.getElementById("boot-time").dataset.milliseconds ?? null,
            demo: document.getElementById("demo-speed").dataset.framesPerSecond ?? null,
        }));
        return {
            greetingMs: shown.greeting === null ? null : Number(shown.greeting),
            framesPerSecond: shown.demo === null ? null : Number(shown.demo),
        };
    };
    const reached = async () => {
        const figures = await read();
        return (until === "greeting" ? figures.greetingMs : figures.framesPerSecond) !== null;
    };
    await waitFor(reached, TIMEOUT_MS, `the page's ${until}`);
    const figures = await read();
    // Stop the machine, so it does not run on while QEMU is measured.
    await page.goto("about:blank");
    return figures;
}

async function main() {
    const server = await startServer();
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    const rows = [];
    const browserVersion = await browser.version();
    const row = (name, value, note = "") => {
        console.log(`${name.padEnd(48)} ${String(value).padStart(8)}  ${note}`);
        rows.push([name, value, note]);
    };
    try {
        const page = await browser.newPage();
        await page.setViewport({ width: 1024, height: 1200 });
        console.log(`Ferrite in the browser against QEMU (${BOOT_RUNS} boots, ${DEMO_RUNS} demos per median)\n`);

        const figures = { pageIso: [], qemuIso: [], pageKernel: [], qemuKernel: [], pageFps: [], qemuFps: [] };
        for (let run = 0; run < BOOT_RUNS; run++) {
            figures.pageIso.push((await pageRun(page, server.origin, "iso", "greeting")).greetingMs);
            figures.qemuIso.push((await qemuRun(["-cdrom", "build/ferrite.iso"], "greeting")).greetingMs);
            figures.pageKernel.push((await pageRun(page, server.origin, "shell", "greeting")).greetingMs);
            figures.qemuKernel.push(
                (await qemuRun(["-kernel", "build/kernel.elf", "-append", "nodemo"], "greeting")).greetingMs,
            );
        }
        for (let run = 0; run < DEMO_RUNS; run++) {
            figures.pageFps.push((await pageRun(page, server.origin, "iso", "demo")).framesPerSecond);
            figures.qemuFps.push((await qemuRun(["-cdrom", "build/ferrite.iso"], "demo")).framesPerSecond);
        }
        const pageIso = median(figures.pageIso);
        const qemuIso = median(figures.qemuIso);
        const pageKernel = median(figures.pageKernel);
        const qemuKernel = median(figures.qemuKernel);
        const pageFps = median(figures.pageFps);
        const qemuFps = median(figures.qemuFps);
        const against = (page, qemu, digits) =>
            `QEMU TCG ${qemu.toFixed(digits)}; page / QEMU ${(page / qemu).toFixed(2)}x`;
        row("page: start to greeting, ISO through GRUB (ms)", pageIso.toFixed(0), against(pageIso, qemuIso, 0));
        row("page: start to greeting, Multiboot nodemo (ms)", pageKernel.toFixed(0), against(pageKernel, qemuKernel, 0));
        row("page: demo frames per second (v86 JIT)", pageFps.toFixed(1), against(pageFps, qemuFps, 1));
    } finally {
        await browser.close();
        server.stop();
    }
    writeSection(rows, browserVersion);
}

// Replaces (or appends) the "In the browser" section of docs/benchmarks.md; `make bench`'s own
// report keeps this section when it rewrites the rest.
function writeSection(rows, browserVersion) {
    let text = fs.existsSync(REPORT) ? fs.readFileSync(REPORT, "utf8") : "# Benchmarks\n";
    const start = text.indexOf(`\n${SECTION}\n`);
    if (start >= 0) text = text.slice(0, start + 1);
    else text = `${text.trimEnd()}\n\n`;
    const lines = [
        SECTION,
        "",
        "Written by `make bench-web` (web/bench.mjs). The page (build/web/, v86 in headless Chromium)",
        "against QEMU in the same run: both timed from the emulator's start to the greeting on serial,",
        "frames per second as the kernel reports them. Medians; the page's figures include v86's",
        "start-up but not the page's download of the files.",
        "",
        `- measured: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
        `- page: ${browserVersion}, v86 ${packageVersion("v86")}; ${qemuVersion()}`,
        "",
        "| figure | value | reference |",
        "| --- | ---: | --- |",
        ...rows.map(([name, value, note]) => `| ${name} | ${value} | ${note} |`),
        "",
    ];
    fs.writeFileSync(REPORT, text + lines.join("\n"));
    console.log(`\nwritten to ${REPORT}`);
}

function qemuVersion() {
    return execFileSync(QEMU, ["--version"], { encoding: "utf8" }).split("\n")[0];
}

function packageVersion(name) {
    const manifest = path.join(REPOSITORY, "web/node_modules", name, "package.json");
    return JSON.parse(fs.readFileSync(manifest, "utf8")).version.replace(/\+.*/, "");
}

await main();
