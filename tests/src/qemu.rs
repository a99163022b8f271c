//! A QEMU process under test: started headless, driven through its monitor, always killed.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::screen::Screen;

/// How the kernel is loaded.
#[derive(Debug, Clone)]
pub enum Boot {
    /// `-kernel build/kernel.elf -append WORDS`: QEMU's own Multiboot loader.
    Kernel(String),
    /// `-kernel build/kernel-bench.elf -append WORDS`: the bench image (`make bench-kernel`),
    /// the kernel with its benchmarks and in-kernel tests compiled in.
    BenchKernel(String),
    /// `-cdrom build/ferrite.iso`: the BIOS boots GRUB, which loads the kernel.
    Iso,
}

/// How QEMU ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QemuExit {
    /// The kernel wrote 0x10 to isa-debug-exit: status 33.
    Success,
    /// The kernel wrote 0x11 to isa-debug-exit: status 35.
    Failure,
    /// Any other status (a triple fault under -no-reboot exits with 0).
    Other(Option<i32>),
}

impl From<ExitStatus> for QemuExit {
    fn from(status: ExitStatus) -> QemuExit {
        match status.code() {
            Some(33) => QemuExit::Success,
            Some(35) => QemuExit::Failure,
            code => QemuExit::Other(code),
        }
    }
}

/// The repository root (the tests crate lives in `tests/`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn kernel_path() -> PathBuf {
    repository_root().join("build/kernel.elf")
}

pub fn bench_kernel_path() -> PathBuf {
    repository_root().join("build/kernel-bench.elf")
}

pub fn iso_path() -> PathBuf {
    repository_root().join("build/ferrite.iso")
}

/// A running QEMU. Dropping it kills the process and removes its scratch directory.
pub struct Qemu {
    child: Child,
    monitor: UnixStream,
    directory: PathBuf,
    exit: Option<ExitStatus>,
}

static NEXT_INSTANCE: AtomicUsize = AtomicUsize::new(0);

/// The shell's prompt, as it appears on screen and serial.
pub const SHELL_PROMPT: &str = "ferrite> ";
/// How long `sendkey` holds each key down.
const KEY_HOLD_MILLISECONDS: u32 = 5;
/// Extra pause after each key's hold time, so QEMU's input queue never fills.
const KEY_GAP_MILLISECONDS: u64 = 3;
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// QEMU's `sendkey` name for the key that types `character` on a US keyboard.
pub fn key_name(character: char) -> String {
    let shifted = |key: &str| format!("shift-{key}");
    match character {
        'a'..='z' | '0'..='9' => character.to_string(),
        'A'..='Z' => shifted(&character.to_ascii_lowercase().to_string()),
        ' ' => "spc".into(),
        '\n' => "ret".into(),
        '-' => "minus".into(),
        '_' => shifted("minus"),
        '=' => "equal".into(),
        '+' => shifted("equal"),
        '.' => "dot".into(),
        ',' => "comma".into(),
        '/' => "slash".into(),
        ';' => "semicolon".into(),
        '\'' => "apostrophe".into(),
        '!' => shifted("1"),
        '@' => shifted("2"),
        '#' => shifted("3"),
        '$' => shifted("4"),
        '%' => shifted("5"),
        '*' => shifted("8"),
        '(' => shifted("9"),
        ')' => shifted("0"),
        '<' => shifted("comma"),
        '>' => shifted("dot"),
        '?' => shifted("slash"),
        ':' => shifted("semicolon"),
        _ => panic!("no key types {character:?}"),
    }
}

impl Qemu {
    /// Starts QEMU headless with serial to a file, a monitor socket, the debug-exit device and
    /// `-no-reboot` (a triple fault ends QEMU instead of rebooting). `extra` adds arguments.
    pub fn start(boot: Boot, extra: &[&str]) -> Qemu {
        let instance = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
        let directory =
            std::env::temp_dir().join(format!("ferrite-test-{}-{instance}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).unwrap();
        let monitor_path = directory.join("monitor.sock");
        let mut command = Command::new(std::env::var("QEMU").unwrap_or("qemu-system-i386".into()));
        command
            .args(["-display", "none", "-no-reboot", "-m", "128M"])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
            .arg("-serial")
            .arg(format!("file:{}", directory.join("serial.log").display()))
            .arg("-monitor")
            .arg(format!("unix:{},server=on,wait=off", monitor_path.display()))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match &boot {
            Boot::Kernel(words) => {
                command.arg("-kernel").arg(kernel_path()).arg("-append").arg(words);
            }
            Boot::BenchKernel(words) => {
                command.arg("-kernel").arg(bench_kernel_path()).arg("-append").arg(words);
            }
            Boot::Iso => {
                command.arg("-cdrom").arg(iso_path());
            }
        }
        let child = command.spawn().expect("qemu-system-i386 could not be started");
        let deadline = Instant::now() + Duration::from_secs(10);
        let monitor = loop {
            match UnixStream::connect(&monitor_path) {
                Ok(stream) => break stream,
                Err(error) if Instant::now() > deadline => {
                    panic!("QEMU monitor did not come up: {error}")
                }
                Err(_) => sleep(Duration::from_millis(20)),
            }
        };
        monitor.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut qemu = Qemu { child, monitor, directory, exit: None };
        qemu.read_until_prompt();
        qemu
    }

    /// Starts QEMU on the kernel ELF with the command-line `words`.
    pub fn kernel(words: &str) -> Qemu {
        Qemu::start(Boot::Kernel(words.to_string()), &[])
    }

    fn read_until_prompt(&mut self) -> String {
        let mut reply = Vec::new();
        let mut buffer = [0u8; 4096];
        while !reply.ends_with(b"(qemu) ") {
            match self.monitor.read(&mut buffer) {
                Ok(0) => break,
                Ok(count) => reply.extend_from_slice(&buffer[..count]),
                Err(error) => panic!("QEMU monitor did not answer: {error}"),
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    /// Runs a human-monitor command and returns its reply.
    pub fn monitor(&mut self, command: &str) -> String {
        self.monitor.write_all(format!("{command}\n").as_bytes()).unwrap();
        self.read_until_prompt()
    }

    /// Everything the kernel has written to COM1 so far.
    pub fn serial(&self) -> String {
        let bytes = std::fs::read(self.directory.join("serial.log")).unwrap_or_default();
        String::from_utf8_lossy(&bytes).replace('\r', "")
    }

    /// Waits until the serial transcript contains `needle`; panics with the transcript if it
    /// does not within `timeout` or QEMU exits first.
    pub fn wait_for_serial(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let transcript = self.serial();
            if transcript.contains(needle) {
                return transcript;
            }
            if self.has_exited() {
                panic!("QEMU exited before printing {needle:?}; serial:\n{transcript}");
            }
            if Instant::now() > deadline {
                panic!("no {needle:?} on serial within {timeout:?}; serial:\n{transcript}");
            }
            sleep(Duration::from_millis(25));
        }
    }

    fn has_exited(&mut self) -> bool {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().unwrap();
        }
        self.exit.is_some()
    }

    /// Waits for QEMU to end by itself, at most `timeout` (then it is killed and this panics).
    pub fn wait_for_exit(&mut self, timeout: Duration) -> QemuExit {
        let deadline = Instant::now() + timeout;
        while !self.has_exited() {
            if Instant::now() > deadline {
                let serial = self.serial();
                let _ = self.child.kill();
                panic!("QEMU still running after {timeout:?}; serial:\n{serial}");
            }
            sleep(Duration::from_millis(20));
        }
        QemuExit::from(self.exit.unwrap())
    }

    /// Whether QEMU is still running (it has not reset or exited).
    pub fn is_running(&mut self) -> bool {
        !self.has_exited()
    }

    /// The text screen as the emulated VGA holds it now.
    pub fn screen(&mut self) -> Screen {
        let path = self.directory.join("vga.bin");
        let _ = std::fs::remove_file(&path);
        let reply = self.monitor(&format!("pmemsave 0xb8000 4000 \"{}\"", path.display()));
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|error| panic!("pmemsave failed ({error}): {reply}"));
        Screen::from_bytes(&bytes)
    }

    /// Writes a PPM screenshot of the display to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        self.monitor(&format!("screendump \"{}\"", path.display()));
    }

    /// Seconds of host CPU time QEMU has used so far (user + system), from /proc.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name, which is in parentheses and may contain spaces.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split(' ').collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        ticks / clock_ticks_per_second()
    }

    /// Presses and releases one key, named as QEMU's `sendkey` names keys (`a`, `shift-a`,
    /// `ret`, `left`, `ctrl-c`, ...). QEMU queues key events with their hold delays and drops
    /// events beyond about fifty queued, so each press waits out its hold time first.
    pub fn press(&mut self, key: &str) {
        self.monitor(&format!("sendkey {key} {KEY_HOLD_MILLISECONDS}"));
        sleep(Duration::from_millis(u64::from(KEY_HOLD_MILLISECONDS) + KEY_GAP_MILLISECONDS));
    }

    /// Types `text` (printable ASCII and `\n`) on the US keyboard.
    pub fn type_text(&mut self, text: &str) {
        for character in text.chars() {
            self.press(&key_name(character));
        }
    }

    /// Types `line` and Enter at the shell prompt and returns what the command printed on
    /// serial, once the next prompt has appeared.
    pub fn run_command(&mut self, line: &str) -> String {
        let before = self.serial().len();
        self.type_text(line);
        self.press("ret");
        let echoed = format!("{line}\n");
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let serial = self.serial();
            let new = &serial[before.min(serial.len())..];
            if let Some(start) = new.find(&echoed) {
                let output = &new[start + echoed.len()..];
                if let Some(end) = output.rfind(SHELL_PROMPT) {
                    return output[..end].to_string();
                }
            }
            assert!(!self.has_exited(), "QEMU exited during {line:?}; serial:\n{serial}");
            assert!(Instant::now() < deadline, "no prompt after {line:?}; serial:\n{serial}");
            sleep(Duration::from_millis(20));
        }
    }

    /// The process id, for measurements from outside.
    pub fn process_id(&self) -> u32 {
        self.child.id()
    }
}

fn clock_ticks_per_second() -> f64 {
    let output = Command::new("getconf").arg("CLK_TCK").output().ok();
    output
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
