//! A QEMU process under test: started headless, driven through its monitor, always killed.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use ferrite::console::framebuffer::{
    ChannelField, ColorModel, FramebufferDescription, FramebufferLayout,
};

use crate::screen::{Image, Screen};

/// How the kernel is loaded.
#[derive(Debug, Clone)]
pub enum Boot {
    /// `-kernel build/kernel.elf -append WORDS`: QEMU's own Multiboot loader.
    Kernel(String),
    /// `-kernel build/kernel-bench.elf -append WORDS`: the bench image (`make bench-kernel`),
    /// the kernel with its benchmarks and in-kernel tests compiled in.
    BenchKernel(String),
    /// `build/ferrite.iso` through GRUB: the firmware boots GRUB from `medium`, which boots the
    /// menu entry with id `entry` (empty: the default) with `words` added to the command line
    /// (passed as the SMBIOS OEM string grub/grub.cfg reads).
    Iso { firmware: Firmware, medium: Medium, entry: &'static str, words: String },
    /// `build/ferrite-bench.iso` (the bench image on the same GRUB) under the BIOS, menu entry
    /// `entry`, with `words`.
    BenchIso { entry: &'static str, words: String },
}

impl Boot {
    /// The ISO from CD under the BIOS, default entry: what `make run` does.
    pub fn iso() -> Boot {
        Boot::Iso { firmware: Firmware::Bios, medium: Medium::Cdrom, entry: "", words: "".into() }
    }

    /// The ISO under `firmware` from `medium`, default entry, with `words`.
    pub fn iso_on(firmware: Firmware, medium: Medium, words: &str) -> Boot {
        Boot::Iso { firmware, medium, entry: "", words: words.into() }
    }

    /// What this boot becomes in `mode`: in framebuffer mode, a boot that would use VGA text
    /// (QEMU's loader, the BIOS's default entry) goes through GRUB's VBE entry instead.
    fn in_mode(self, mode: ScreenMode) -> Boot {
        match (mode, self) {
            (ScreenMode::Framebuffer, Boot::BenchKernel(words)) => {
                Boot::BenchIso { entry: "vbe", words }
            }
            (ScreenMode::Framebuffer, Boot::Kernel(words)) => {
                Boot::Iso { firmware: Firmware::Bios, medium: Medium::Cdrom, entry: "vbe", words }
            }
            (
                ScreenMode::Framebuffer,
                Boot::Iso { firmware: Firmware::Bios, medium, entry, words },
            ) if entry.is_empty() || entry == "text" => {
                Boot::Iso { firmware: Firmware::Bios, medium, entry: "vbe", words }
            }
            (_, boot) => boot,
        }
    }
}

/// The firmware QEMU starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS, QEMU's default, on `qemu-system-i386`.
    Bios,
    /// OVMF for x86_64 (64-bit UEFI), on `qemu-system-x86_64`.
    Uefi64,
    /// OVMF for ia32 (32-bit UEFI), on `qemu-system-i386 -machine q35`.
    Uefi32,
}

/// Where the ISO is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Cdrom,
    /// A USB stick on an xHCI controller, the ISO written to it as `dd` would.
    UsbStick,
}

/// Which console the screen tests drive, from `FERRITE_SCREEN` (`text`, the default, or
/// `framebuffer`): `make test` runs the screen tests in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenMode {
    Text,
    Framebuffer,
}

impl ScreenMode {
    pub fn from_environment() -> ScreenMode {
        match std::env::var("FERRITE_SCREEN").as_deref() {
            Ok("framebuffer") => ScreenMode::Framebuffer,
            Ok("text") | Err(_) => ScreenMode::Text,
            Ok(other) => panic!("FERRITE_SCREEN={other}: use text or framebuffer"),
        }
    }
}

/// OVMF's firmware code and its variable store template, for each UEFI platform.
fn ovmf_files(firmware: Firmware) -> (&'static str, &'static str) {
    match firmware {
        Firmware::Uefi64 => ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
        _ => ("/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF32_VARS_4M.fd"),
    }
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

pub fn bench_iso_path() -> PathBuf {
    repository_root().join("build/ferrite-bench.iso")
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
    /// Under `FERRITE_SCREEN=framebuffer`, boots that would show VGA text use GRUB's VBE entry.
    pub fn start(boot: Boot, extra: &[&str]) -> Qemu {
        Qemu::start_in_mode(boot.in_mode(ScreenMode::from_environment()), extra)
    }

    /// As `start`, whatever `FERRITE_SCREEN` says.
    pub fn start_in_mode(boot: Boot, extra: &[&str]) -> Qemu {
        let instance = NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed);
        let directory =
            std::env::temp_dir().join(format!("ferrite-test-{}-{instance}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).unwrap();
        let monitor_path = directory.join("monitor.sock");
        let program = match &boot {
            Boot::Iso { firmware: Firmware::Uefi64, .. } => "qemu-system-x86_64".to_string(),
            _ => std::env::var("QEMU").unwrap_or("qemu-system-i386".into()),
        };
        let mut command = Command::new(program);
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
            Boot::Iso { firmware, medium, entry, words } => {
                if *firmware != Firmware::Bios {
                    let (code, variables) = ovmf_files(*firmware);
                    let variables_copy = directory.join("ovmf-variables.fd");
                    std::fs::copy(variables, &variables_copy).expect("OVMF is not installed");
                    if *firmware == Firmware::Uefi32 {
                        command.args(["-machine", "q35,smm=on"]);
                        command.args(["-global", "driver=cfi.pflash01,property=secure,value=on"]);
                    }
                    // Without -nic none, OVMF tries network boot first.
                    command.args(["-nic", "none"]);
                    command
                        .arg("-drive")
                        .arg(format!("if=pflash,format=raw,unit=0,readonly=on,file={code}"));
                    command.arg("-drive").arg(format!(
                        "if=pflash,format=raw,unit=1,file={}",
                        variables_copy.display()
                    ));
                }
                match medium {
                    Medium::Cdrom => {
                        command.arg("-cdrom").arg(iso_path());
                    }
                    Medium::UsbStick => {
                        // A copy, so the stick is written to as a real one could be.
                        let stick = directory.join("stick.img");
                        std::fs::copy(iso_path(), &stick).unwrap();
                        command
                            .arg("-drive")
                            .arg(format!("if=none,id=stick,format=raw,file={}", stick.display()));
                        command.args(["-device", "qemu-xhci,id=xhci"]);
                        command.args(["-device", "usb-storage,bus=xhci.0,drive=stick,bootindex=0"]);
                    }
                }
                command.arg("-smbios").arg(format!("type=11,value=ferrite:{entry}:{words}"));
            }
            Boot::BenchIso { entry, words } => {
                command.arg("-cdrom").arg(bench_iso_path());
                command.arg("-smbios").arg(format!("type=11,value=ferrite:{entry}:{words}"));
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

    /// The screen as a person sees it now, in cells: the VGA text buffer, or the framebuffer
    /// decoded with the kernel's font once the kernel has said on serial where it draws.
    pub fn screen(&mut self) -> Screen {
        match framebuffer_on_serial(&self.serial()) {
            Some(framebuffer) => self.framebuffer_screen(&framebuffer),
            None => Screen::from_bytes(&self.read_physical(0xb8000, 4000)),
        }
    }

    /// The characters of one row of the screen, read cheaply (one row's bytes, not the whole
    /// screen): for polling, as the benchmarks do. Rows not drawn yet read as spaces or `?`.
    pub fn row_text(&mut self, row: usize) -> String {
        match framebuffer_on_serial(&self.serial()) {
            Some(framebuffer) => {
                let layout = framebuffer.layout;
                let row_bytes = layout.pitch_bytes() * 16;
                let description = FramebufferDescription {
                    width_pixels: layout.width_pixels() as u32,
                    height_pixels: 16,
                    pitch_bytes: layout.pitch_bytes() as u32,
                    bits_per_pixel: (layout.format().bytes_per_pixel() * 8) as u8,
                    color_model: {
                        let (red, green, blue) = layout.format().channels();
                        ColorModel::DirectRgb { red, green, blue }
                    },
                };
                let row_layout = FramebufferLayout::new(description).unwrap();
                let address = framebuffer.address + (row * row_bytes) as u64;
                let bytes = self.read_physical(address, row_bytes);
                match Screen::from_framebuffer(&bytes, &row_layout) {
                    Ok(screen) => screen.row_text(0),
                    Err(_) => String::new(),
                }
            }
            None => {
                let bytes = self.read_physical(0xb8000 + row as u64 * 160, 160);
                let mut screen_bytes = vec![0; 4000];
                screen_bytes[..160].copy_from_slice(&bytes);
                Screen::from_bytes(&screen_bytes).row_text(0)
            }
        }
    }

    /// `length` bytes of guest physical memory from `address`, read through the monitor.
    pub fn read_physical(&mut self, address: u64, length: usize) -> Vec<u8> {
        let path = self.directory.join("memory.bin");
        let _ = std::fs::remove_file(&path);
        let reply = self.monitor(&format!("pmemsave {address:#x} {length} \"{}\"", path.display()));
        std::fs::read(&path).unwrap_or_else(|error| panic!("pmemsave failed ({error}): {reply}"))
    }

    /// The framebuffer's cells. The guest is paused for the dump, so no glyph is caught half
    /// drawn by the dump itself; a frame the kernel was still drawing when paused can leave a
    /// cell that decodes to nothing, and then the screen is read again.
    fn framebuffer_screen(&mut self, framebuffer: &LoggedFramebuffer) -> Screen {
        let mut last_error = String::new();
        for _ in 0..FRAMEBUFFER_READ_ATTEMPTS {
            self.monitor("stop");
            let bytes = self.read_physical(framebuffer.address, framebuffer.layout.size_bytes());
            self.monitor("cont");
            match Screen::from_framebuffer(&bytes, &framebuffer.layout) {
                Ok(screen) => return screen,
                Err(error) => last_error = error,
            }
            sleep(Duration::from_millis(50));
        }
        panic!("the framebuffer does not decode into cells: {last_error}");
    }

    /// Writes a PPM screenshot of the display to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        self.monitor(&format!("screendump \"{}\"", path.display()));
    }

    /// A screenshot of the display, as pixels.
    pub fn screenshot_image(&mut self) -> Image {
        let path = self.directory.join("screen.ppm");
        let _ = std::fs::remove_file(&path);
        self.screenshot(&path);
        Image::from_ppm(&std::fs::read(&path).expect("screendump wrote nothing"))
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

/// How often a framebuffer is dumped before a screen that does not decode fails the test.
const FRAMEBUFFER_READ_ATTEMPTS: usize = 20;

/// The framebuffer the kernel said on serial it draws on.
#[derive(Debug, Clone, Copy)]
pub struct LoggedFramebuffer {
    pub address: u64,
    pub layout: FramebufferLayout,
}

/// Reads the kernel's `console: framebuffer address=... width=...` line.
pub fn framebuffer_on_serial(serial: &str) -> Option<LoggedFramebuffer> {
    // Only a whole line: the kernel may be writing it while serial is read.
    let line = serial
        .split_inclusive('\n')
        .find(|line| line.starts_with("console: framebuffer address=") && line.ends_with('\n'))?
        .trim_end();
    let field = |name: &str| -> &str {
        line.split(' ')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    let number = |name: &str| -> u32 { field(name).parse().unwrap() };
    let channel = |name: &str| -> ChannelField {
        let (position, size) = field(name).split_once(':').unwrap();
        ChannelField::new(position.parse().unwrap(), size.parse().unwrap())
    };
    let address = u64::from_str_radix(field("address").trim_start_matches("0x"), 16).unwrap();
    let description = FramebufferDescription {
        width_pixels: number("width"),
        height_pixels: number("height"),
        pitch_bytes: number("pitch"),
        bits_per_pixel: (number("bytes_per_pixel") * 8) as u8,
        color_model: ColorModel::DirectRgb {
            red: channel("red"),
            green: channel("green"),
            blue: channel("blue"),
        },
    };
    let layout = FramebufferLayout::new(description).expect("the logged framebuffer is invalid");
    Some(LoggedFramebuffer { address, layout })
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
