// page.test.mjs - the page in headless Chromium (Debian's chromium, driven by puppeteer-core),
// served from build/web by web/serve.mjs on 127.0.0.1 as `make serve` serves it: what a person
// sees on the page's screen and in its serial pane, when they press its buttons and type.
// Saves build/web-test/page.png (docs/web.png is a copy of it). FERRITE_BROWSER=firefox runs
// the same tests in Firefox.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import puppeteer from "puppeteer-core";

import { REPOSITORY, startServer } from "./support.mjs";

// FERRITE_BROWSER=firefox runs the same tests in Firefox (`make test-web-firefox`).
const BROWSER = process.env.FERRITE_BROWSER ?? "chrome";
const EXECUTABLES = {
    chrome: process.env.CHROMIUM ?? "/usr/bin/chromium",
    firefox: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
};
const SCREENSHOT = path.join(REPOSITORY, `build/web-test/page${BROWSER === "chrome" ? "" : `-${BROWSER}`}.png`);
const VIEWPORT = { width: 1024, height: 1200 };
const BOOT_TIMEOUT_MS = 90_000;

// The text rows of the page's screen, as v86 drew them into the page.
function screenRows(page) {
    return page.$$eval("#screen .text-mode > *", (rows) =>
        rows.map((row) => row.textContent.replace(/\u00a0/g, " ").trimEnd()),
    );
}

// The serial pane's lines, as the terminal widget holds them.
function serialLines(page) {
    return page.evaluate(() => {
        const buffer = window.ferrite.terminal.buffer.active;
        const lines = [];
        for (let row = 0; row < buffer.length; row++) {
            lines.push(buffer.getLine(row).translateToString(true));
        }
        while (lines.length && lines[lines.length - 1] === "") lines.pop();
        return lines;
    });
}

async function waitUntil(page, what, condition, timeoutMs = BOOT_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await condition()) return;
        if (Date.now() > deadline) {
            const rows = await screenRows(page).catch(() => []);
            const serial = await serialLines(page).catch(() => []);
            throw new Error(
                `timed out waiting for ${what}\nscreen:\n${rows.join("\n")}\nserial:\n${serial.join("\n")}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

// Decoded by the page: the fraction of pixels in `image` (a PNG) that differ from `reference`
// (a PNG of the same size), and the fraction within `clip` that differ from its corner pixel.
function comparePixels(page, image, reference, clip) {
    return page.evaluate(
        async (imageBase64, referenceBase64, clip) => {
            const decode = async (base64) => {
                const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
                const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
                const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
                const context = canvas.getContext("2d");
                context.drawImage(bitmap, 0, 0);
                return context.getImageData(0, 0, bitmap.width, bitmap.height);
            };
            const [shot, blank] = await Promise.all([decode(imageBase64), decode(referenceBase64)]);
            // Colors further apart than this (summed over red, green and blue) differ.
            const differs = (a, aIndex, b, bIndex) =>
                Math.abs(a[aIndex] - b[bIndex]) + Math.abs(a[aIndex + 1] - b[bIndex + 1]) +
                    Math.abs(a[aIndex + 2] - b[bIndex + 2]) > 48;
            let changed = 0;
            for (let index = 0; index < shot.data.length; index += 4) {
                if (differs(shot.data, index, blank.data, index)) changed++;
            }
            const background = (clip.y * shot.width + clip.x) * 4;
            let drawn = 0;
            for (let y = clip.y; y < clip.y + clip.height; y++) {
                for (let x = clip.x; x < clip.x + clip.width; x++) {
                    if (differs(shot.data, (y * shot.width + x) * 4, shot.data, background)) drawn++;
                }
            }
            return {
                sameSize: shot.width === blank.width && shot.height === blank.height,
                changed: changed / (shot.width * shot.height),
                drawn: drawn / (clip.width * clip.height),
            };
        },
        image,
        reference,
        clip,
    );
}

describe(`the page in headless ${BROWSER === "chrome" ? "Chromium" : "Firefox"}`, () => {
    let server;
    let browser;
    let page;
    const consoleErrors = [];
    const foreignRequests = [];
    const failedRequests = [];

    before(async () => {
        server = await startServer();
        browser = await puppeteer.launch({
            browser: BROWSER,
            executablePath: EXECUTABLES[BROWSER],
            headless: true,
            args: BROWSER === "chrome" ? ["--no-sandbox"] : [],
        });
        page = await browser.newPage();
        await page.setViewport(VIEWPORT);
        page.on("console", (message) => {
            if (message.type() === "error") consoleErrors.push(message.text());
        });
        page.on("pageerror", (error) => consoleErrors.push(String(error)));
        page.on("request", (request) => {
            const url = request.url();
            if (!url.startsWith(`${server.origin}/`) && !/^(data|blob):/.test(url)) {
                foreignRequests.push(url);
            }
        });
        page.on("requestfailed", (request) => failedRequests.push(request.url()));
        page.on("response", (response) => {
            if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
        });
    });

    after(async () => {
        await browser?.close();
        server?.stop();
    });

    test("the page loads from the local server with no console error", async () => {
        await page.goto(`${server.origin}/`, { waitUntil: "load" });
        await waitUntil(page, "the machine to start", async () =>
            ["booting", "running"].includes(
                await page.$eval("#machine-state", (element) => element.dataset.state),
            ),
        );
        assert.deepEqual(consoleErrors, []);
        assert.deepEqual(foreignRequests, []);
        assert.deepEqual(failedRequests, []);
        // serve.mjs's headers isolate the page, which gives v86 a finer clock (docs/web.md).
        assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    });

    test("the ISO boots to the greeting on the page's screen and the boot time shows", async () => {
        await waitUntil(page, "the greeting on the page's screen", async () =>
            (await screenRows(page))[1]?.startsWith("Hello from Rust! Booted by GRUB"),
        );
        const rows = await screenRows(page);
        assert.match(rows[0], /Ferrite \d+\.\d+ - a Rust kernel for 32-bit x86/);
        await waitUntil(page, "the boot time", () =>
            page.$eval("#boot-time", (element) => element.dataset.milliseconds !== undefined),
        );
        const shown = await page.$eval("#boot-time", (element) => ({
            milliseconds: Number(element.dataset.milliseconds),
            text: element.textContent,
        }));
        assert.ok(shown.milliseconds > 0 && shown.milliseconds < BOOT_TIMEOUT_MS, shown.text);
        assert.equal(shown.text, `${(shown.milliseconds / 1000).toFixed(2)} s`);
    });

    test("the demo draws on the page, and its frames per second show as the kernel reported them", async () => {
        await waitUntil(page, "the demo's animation", async () =>
            (await serialLines(page)).includes("demo: animation"),
        );
        // Let the scene fill the screen, then keep a picture for the README.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const screenshot = await page.screenshot({ encoding: "base64" });
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        fs.writeFileSync(SCREENSHOT, Buffer.from(screenshot, "base64"));

        const blankPage = await browser.newPage();
        await blankPage.setViewport(VIEWPORT);
        const blank = await blankPage.screenshot({ encoding: "base64" });
        await blankPage.close();
        const box = await (await page.$("#screen-frame")).boundingBox();
        const clip = {
            x: Math.round(box.x) + 2,
            y: Math.round(box.y) + 2,
            width: Math.round(box.width) - 4,
            height: Math.round(box.height) - 4,
        };
        const pixels = await comparePixels(page, screenshot, blank, clip);
        assert.ok(pixels.sameSize, "the screenshot and the blank page differ in size");
        assert.ok(pixels.changed > 0.3, `only ${pixels.changed} of the page differs from a blank page`);
        assert.ok(pixels.drawn > 0.03, `only ${pixels.drawn} of the machine's screen is drawn on`);

        await waitUntil(page, "the demo's end", async () =>
            (await serialLines(page)).some((line) => line.startsWith("demo: ") && line.endsWith(" frames/s")),
        );
        const line = (await serialLines(page)).find((text) => / frames\/s$/.test(text));
        const reported = /, (\d+\.\d+) frames\/s$/.exec(line);
        assert.ok(reported, line);
        await waitUntil(page, "the page's frames per second", () =>
            page.$eval("#demo-speed", (element) => element.dataset.framesPerSecond !== undefined),
        );
        const shown = await page.$eval("#demo-speed", (element) => element.dataset.framesPerSecond);
        assert.equal(Number(shown), Number(reported[1]));
        assert.ok(Number(shown) > 0);
    });

    test("typing `echo hi` and Enter on the focused screen gives hi on screen and in the serial pane", async () => {
        await page.click('#boots button[data-boot="shell"]');
        await waitUntil(page, "the shell", async () => (await serialLines(page)).includes("shell: ready"));
        // Keys typed elsewhere on the page do not reach the machine.
        await page.click("header h1");
        await page.keyboard.type("zz");
        await page.click("#screen-frame");
        await page.keyboard.type("echo hi", { delay: 30 });
        await page.keyboard.press("Enter");
        await waitUntil(page, "hi under the command on screen", async () => {
            const rows = await screenRows(page);
            const command = rows.indexOf("ferrite> echo hi");
            return command >= 0 && rows[command + 1] === "hi";
        }, 20_000);
        await waitUntil(page, "hi in the serial pane", async () => {
            const lines = await serialLines(page);
            const command = lines.indexOf("ferrite> echo hi");
            return command >= 0 && lines[command + 1] === "hi";
        }, 20_000);
        assert.ok(!(await screenRows(page)).some((row) => row.includes("zz")), "keys leaked to the machine");
    });

    test("a line sent from the text field (for phones) is typed on the machine", async () => {
        await page.type("#line", "echo from the field");
        await page.keyboard.press("Enter");
        await waitUntil(page, "the line's answer on screen", async () => {
            const rows = await screenRows(page);
            const command = rows.indexOf("ferrite> echo from the field");
            return command >= 0 && rows[command + 1] === "from the field";
        }, 20_000);
        assert.equal(await page.$eval("#line", (input) => input.value), "");
    });

    test("the test button runs the in-kernel tests and the serial pane ends with N passed, 0 failed", async () => {
        await page.click('#boots button[data-boot="test"]');
        await waitUntil(page, "the end of the test run", async () =>
            ["passed", "failed"].includes(
                await page.$eval("#machine-state", (element) => element.dataset.state),
            ),
        );
        const lines = await serialLines(page);
        const announced = lines
            .map((line) => /^running (\d+) in-kernel tests$/.exec(line))
            .find(Boolean);
        assert.ok(announced, lines.join("\n"));
        const count = Number(announced[1]);
        assert.ok(count >= 10, `only ${count} tests`);
        assert.equal(lines.filter((line) => /^test \S+ \.\.\. ok$/.test(line)).length, count, lines.join("\n"));
        assert.equal(lines[lines.length - 1], `${count} passed, 0 failed`);
        const state = await page.$eval("#machine-state", (element) => element.textContent);
        assert.match(state, /^tests passed .*machine stopped$/);
    });

    test("on a phone the page boots and the machine's whole screen fits the page's width", async () => {
        // Puppeteer reloads the page to emulate a phone: it boots the ISO again.
        await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
        await waitUntil(page, "the greeting on the phone", async () =>
            (await screenRows(page))[1]?.startsWith("Hello from Rust! Booted by GRUB"),
        );
        const box = await (await page.$("#screen")).boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= 390 && box.width > 300, JSON.stringify(box));
        const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(pageWidth <= 390, `the page is ${pageWidth} px wide`);
    });

    test("over the whole session: no console error, no failed request, none beyond the server", () => {
        assert.deepEqual(consoleErrors, []);
        assert.deepEqual(foreignRequests, []);
        assert.deepEqual(failedRequests, []);
    });
});
