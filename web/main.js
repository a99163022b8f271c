// main.js - the page: boots Ferrite in v86, draws its screen and COM1, passes keys to the
// machine while the screen has focus, and shows boot time, demo speed and test results.
//
// Everything it loads comes from the same folder (build/web/). ?boot=iso|shell|test picks the
// first boot (the ISO by default). window.ferrite exposes the machine for the browser tests.

import { V86 } from "./libv86.mjs";
import { Terminal } from "./xterm.mjs";
import {
    BOOTS,
    EXIT_SUCCESS,
    FIRMWARE,
    Transcript,
    hookDebugExit,
    v86Options,
} from "./ferrite.mjs";

const screenFrame = document.getElementById("screen-frame");
const machineScreen = document.getElementById("screen");
const machineState = document.getElementById("machine-state");
const bootTime = document.getElementById("boot-time");
const demoSpeed = document.getElementById("demo-speed");

// The serial pane. The kernel ends its lines with CR LF itself; the pane only shows.
const terminal = new Terminal({
    cols: 80,
    rows: 14,
    scrollback: 5000,
    disableStdin: true,
    fontSize: 13,
    theme: { background: "#101010" },
});
terminal.open(document.getElementById("serial"));

// Each file is fetched once per page load and shared by every boot.
const downloads = new Map();
function download(name) {
    if (!downloads.has(name)) {
        downloads.set(
            name,
            fetch(name).then((response) => {
                if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
                return response.arrayBuffer();
            }),
        );
    }
    return downloads.get(name);
}

let emulator = null;
let transcript = new Transcript();
let generation = 0; // which boot the callbacks belong to: a restart invalidates the old ones

function setState(state, text = state) {
    machineState.dataset.state = state;
    machineState.textContent = text;
}

// Bytes from COM1 go to the pane in batches: one write per animation frame, not per byte.
let pendingSerial = "";
function flushSerial() {
    if (pendingSerial) terminal.write(pendingSerial);
    pendingSerial = "";
}

async function boot(name) {
    const boot = BOOTS[name];
    const mine = ++generation;
    document.querySelectorAll("#boots button").forEach((button) => {
        button.setAttribute("aria-pressed", String(button.dataset.boot === name));
    });
    if (emulator) {
        const old = emulator;
        emulator = null;
        await old.destroy();
    }
    if (mine !== generation) return;
    transcript = new Transcript();
    window.ferrite.transcript = transcript;
    pendingSerial = "";
    terminal.reset();
    bootTime.textContent = "–";
    delete bootTime.dataset.milliseconds;
    demoSpeed.textContent = "–";
    delete demoSpeed.dataset.framesPerSecond;
    setState("loading", `loading ${boot.label}`);

    const names = [FIRMWARE.bios, FIRMWARE.vgaBios, boot.image];
    const buffers = await Promise.all(names.map(download));
    if (mine !== generation) return;
    const files = Object.fromEntries(names.map((file, index) => [file, buffers[index]]));

    const started = performance.now();
    const machine = new V86(
        v86Options(boot, files, { wasm_path: "v86.wasm", screen: { container: machineScreen } }),
    );
    emulator = machine;
    window.ferrite.emulator = machine;
    machine.keyboard_set_enabled(document.activeElement === screenFrame);
    setState("booting", `booting ${boot.label}`);

    let greeted = false;
    let exitPortHooked = false;
    let finished = false;
    // A test run ends with the summary line and a write to the exit port; the port says how it
    // ended even when a panic cut the run short.
    const finishTestRun = (passed) => {
        if (finished || mine !== generation) return;
        finished = true;
        flushSerial();
        const tests = transcript.tests;
        const summary = tests ? `${tests.passed} passed, ${tests.failed} failed` : "no summary";
        setState(
            passed ? "passed" : "failed",
            `${passed ? "tests passed" : "tests FAILED"} (${summary}); machine stopped`,
        );
        machine.stop();
    };
    machine.add_listener("serial0-output-byte", (byte) => {
        if (mine !== generation) return;
        transcript.push(byte);
        if (!pendingSerial) requestAnimationFrame(flushSerial);
        pendingSerial += String.fromCharCode(byte);
        if (!greeted && transcript.greeted) {
            greeted = true;
            const milliseconds = Math.round(performance.now() - started);
            bootTime.dataset.milliseconds = String(milliseconds);
            bootTime.textContent = `${(milliseconds / 1000).toFixed(2)} s`;
            setState("running", `running: ${boot.label}`);
        }
        if (byte !== 0x0a) return;
        const demo = !demoSpeed.dataset.framesPerSecond && transcript.demo;
        if (demo) {
            demoSpeed.dataset.framesPerSecond = String(demo.framesPerSecond);
            demoSpeed.textContent = `${demo.framesPerSecond.toFixed(1)} frames/s (${demo.frames} frames)`;
        }
        // Without the port hook (another v86 build), the summary line ends the run.
        const tests = !exitPortHooked && boot === BOOTS.test && transcript.tests;
        if (tests) finishTestRun(tests.failed === 0);
    });
    machine.add_listener("emulator-ready", () => {
        if (mine !== generation) return;
        // v86 has no isa-debug-exit device: the kernel's write to its port ends a test run.
        exitPortHooked = hookDebugExit(machine, (value) => finishTestRun(value === EXIT_SUCCESS));
    });
}

// Keys reach the machine only while its screen has focus, so the buttons and the page keep
// theirs.
const keyboardHint = document.getElementById("keyboard-hint");
screenFrame.addEventListener("focus", () => {
    emulator?.keyboard_set_enabled(true);
    keyboardHint.textContent = "your keys go to the machine";
});
screenFrame.addEventListener("blur", () => {
    emulator?.keyboard_set_enabled(false);
    keyboardHint.textContent = "click it to type";
});
screenFrame.addEventListener("mousedown", () => screenFrame.focus());

// On a phone the screen cannot bring up a keyboard; a text field can. Its line is typed on the
// machine's keyboard, followed by Enter.
const lineForm = document.getElementById("type-line");
lineForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const line = lineForm.elements.line;
    if (emulator) {
        // v86 drops simulated keys too while its keyboard is off, as it is with the field
        // focused.
        emulator.keyboard_set_enabled(true);
        emulator.keyboard_send_text(`${line.value}\n`);
        emulator.keyboard_set_enabled(document.activeElement === screenFrame);
    }
    line.value = "";
});

// Scales the 80x25 text screen (or the graphics canvas) to the width it has, so a phone shows
// the whole screen.
function fitScreen() {
    machineScreen.style.transform = "none";
    const naturalWidth = machineScreen.offsetWidth;
    const naturalHeight = machineScreen.offsetHeight;
    if (!naturalWidth || !naturalHeight) return;
    const scale = Math.min(screenFrame.clientWidth / naturalWidth, 1.5);
    machineScreen.style.transform = `scale(${scale})`;
    screenFrame.style.height = `${Math.ceil(naturalHeight * scale)}px`;
}
new ResizeObserver(fitScreen).observe(screenFrame);
new ResizeObserver(fitScreen).observe(machineScreen);

document.querySelectorAll("#boots button").forEach((button) => {
    button.addEventListener("click", () => {
        boot(button.dataset.boot).catch(reportError);
        screenFrame.focus();
    });
});

function reportError(error) {
    setState("error", `error: ${error.message}`);
    console.error(error);
}

window.ferrite = { boot, terminal, transcript, emulator: null };
const requested = new URLSearchParams(location.search).get("boot");
boot(BOOTS[requested] ? requested : "iso").catch(reportError);
screenFrame.focus();
