//! The hybrid ISO on every kind of PC: 64-bit UEFI (OVMF x86_64) and 32-bit UEFI (OVMF ia32)
//! from CD, and a USB stick under the BIOS and under UEFI. Under UEFI there is no text mode,
//! so these read the framebuffer; the greeting is also compared pixel by pixel with a
//! screenshot kept in tests/golden/.
//!
//! OVMF is slow to start under TCG, so each platform gets one boot: greeting, shell, and on
//! OVMF ia32 the whole demo. The full screen-test list runs in framebuffer mode through the
//! BIOS's VBE entry (`FERRITE_SCREEN=framebuffer`, see docs/testing.md).

use std::path::PathBuf;
use std::time::Duration;

use ferrite_tests::qemu::{SHELL_PROMPT, repository_root};
use ferrite_tests::{Boot, Color::*, Firmware, Image, Medium, Qemu, Screen};

/// OVMF takes most of this before GRUB starts, on a busy two-core machine.
const UEFI_BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Boots the ISO without the demo, with QEMU `arguments`, and waits for the shell.
fn boot_to_shell(firmware: Firmware, medium: Medium, arguments: &[&str]) -> Qemu {
    let mut qemu = Qemu::start_in_mode(Boot::iso_on(firmware, medium, "nodemo"), arguments);
    qemu.wait_for_serial("shell: ready", UEFI_BOOT_TIMEOUT);
    qemu
}

/// The kernel's `platform:` line: under UEFI, GRUB boots it through Multiboot 2, whose RSDP
/// copy is the only way to ACPI's tables (OVMF puts none in the BIOS area).
fn platform_line(qemu: &Qemu) -> String {
    let serial = qemu.serial();
    let lines: Vec<&str> = serial.lines().filter(|line| line.starts_with("platform: ")).collect();
    assert_eq!(lines.len(), 1, "{serial}");
    lines[0].to_string()
}

/// The greeting and the shell's first prompt, as `boot.rs` checks them, on a screen of any size.
fn assert_greeting(screen: &Screen) {
    let title = "Ferrite 0.1 - a Rust kernel for 32-bit x86";
    screen.assert_text_at(0, (screen.columns() - title.len()) / 2, title, White, Blue);
    screen.assert_text_at(1, 0, "Hello from Rust!", LightGreen, Black);
    screen.assert_text_at(1, 27, "GRUB 2.", Yellow, Black);
    screen.assert_text_at(2, 23, "SSE2", LightCyan, Black);
    screen.assert_text_at(3, 0, "Ferrite shell", Yellow, Black);
    screen.assert_text_at(4, 0, SHELL_PROMPT, LightGreen, Black);
}

/// A command typed at the shell runs and its answer is on screen.
fn assert_shell_answers(qemu: &mut Qemu) {
    assert_eq!(qemu.run_command("echo typed under the firmware"), "typed under the firmware\n");
    let screen = qemu.screen();
    let (row, _) = screen.find("ferrite> echo typed").unwrap_or_else(|| panic!("{screen}"));
    screen.assert_text_at(row + 1, 0, "typed under the firmware", LightGray, Black);
    assert_eq!(screen.cursor(), Some((row + 2, SHELL_PROMPT.len())), "{screen}");
}

fn golden_path(name: &str) -> PathBuf {
    repository_root().join("tests/golden").join(name)
}

fn read_png(path: &PathBuf) -> Image {
    let file = std::fs::File::open(path).unwrap_or_else(|error| {
        panic!("{}: {error}; FERRITE_UPDATE_GOLDEN=1 writes it", path.display())
    });
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut bytes = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut bytes).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{} is not 8-bit RGB", path.display());
    let pixels = bytes[..info.buffer_size()]
        .chunks_exact(3)
        .map(|pixel| [pixel[0], pixel[1], pixel[2]])
        .collect();
    Image { width: info.width as usize, height: info.height as usize, pixels }
}

fn write_png(path: &PathBuf, image: &Image) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, image.width as u32, image.height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let bytes: Vec<u8> = image.pixels.iter().flatten().copied().collect();
    encoder.write_header().unwrap().write_image_data(&bytes).unwrap();
}

/// Compares `image` with the golden PNG `name`, pixel by pixel, except inside `ignored`
/// (x, y, width, height) rectangles; `FERRITE_UPDATE_GOLDEN=1` rewrites the PNG instead.
fn assert_matches_golden(image: &Image, name: &str, ignored: &[(usize, usize, usize, usize)]) {
    let path = golden_path(name);
    if std::env::var("FERRITE_UPDATE_GOLDEN").as_deref() == Ok("1") {
        write_png(&path, image);
        return;
    }
    let golden = read_png(&path);
    assert_eq!((image.width, image.height), (golden.width, golden.height), "screen size");
    let inside = |x: usize, y: usize| {
        ignored.iter().any(|&(left, top, width, height)| {
            (left..left + width).contains(&x) && (top..top + height).contains(&y)
        })
    };
    let mut differing = 0;
    let mut first = None;
    for y in 0..image.height {
        for x in 0..image.width {
            if !inside(x, y) && image.pixel(x, y) != golden.pixel(x, y) {
                differing += 1;
                first.get_or_insert((x, y, image.pixel(x, y), golden.pixel(x, y)));
            }
        }
    }
    if differing > 0 {
        let actual = path.with_extension("actual.png");
        write_png(&actual, image);
        panic!(
            "{differing} pixels differ from {} (first at {first:?}: shown, golden); the screen \
             is in {}",
            path.display(),
            actual.display()
        );
    }
}

#[test]
fn uefi_64_from_cd_greets_in_the_golden_pixels_and_runs_the_shell() {
    let mut qemu = boot_to_shell(Firmware::Uefi64, Medium::Cdrom, &["-smp", "4"]);
    let platform = platform_line(&qemu);
    assert!(
        platform.starts_with("platform: ACPI 2 MADT: 4 processors (APIC IDs 0 1 2 3), I/O APIC "),
        "{platform}"
    );
    let screen = qemu.screen();
    assert_eq!((screen.columns(), screen.rows()), (128, 48));
    assert_greeting(&screen);
    assert_eq!(screen.cursor(), Some((4, SHELL_PROMPT.len())));
    // The whole screen as pixels, but for the loader's version (row 1 from column 27), which
    // changes with the GRUB package, and the shell's clock (row 0, the last 17 columns), which
    // changes every second.
    let image = qemu.screenshot_image();
    let (version, clock) = ((27 * 8, 16, 1024 - 27 * 8, 16), (111 * 8, 0, 17 * 8, 16));
    assert_matches_golden(&image, "uefi-greeting.png", &[version, clock]);
    assert_shell_answers(&mut qemu);
}

#[test]
fn uefi_32_from_cd_plays_the_demo_and_runs_the_shell() {
    let mut qemu = Qemu::start_in_mode(Boot::iso_on(Firmware::Uefi32, Medium::Cdrom, ""), &[]);
    qemu.wait_for_serial("demo: logo", UEFI_BOOT_TIMEOUT);
    let platform = platform_line(&qemu);
    assert!(
        platform.starts_with("platform: ACPI 2 MADT: 1 processor (APIC IDs 0), "),
        "{platform}"
    );
    let logo = qemu.screen();
    assert!(logo.find("a kernel for 32-bit x86, written in Rust").is_some(), "{logo}");
    assert!(logo.count_foreground(Yellow) >= 40, "logo letters missing:\n{logo}");
    qemu.wait_for_serial("demo: animation", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    let scene = qemu.screen();
    assert!(scene.distinct_colors() >= 8, "scene has few colors:\n{scene}");
    qemu.wait_for_serial("idle: waiting for a key", Duration::from_secs(40));
    let end = qemu.screen();
    assert!(end.row_text(end.rows() - 1).contains(" frames/s "), "{end}");
    qemu.press("spc");
    qemu.wait_for_serial("shell: ready", Duration::from_secs(20));
    assert_shell_answers(&mut qemu);
}

#[test]
fn uefi_64_from_a_usb_stick_greets_and_runs_the_shell() {
    let mut qemu = boot_to_shell(Firmware::Uefi64, Medium::UsbStick, &[]);
    assert_greeting(&qemu.screen());
    assert_shell_answers(&mut qemu);
}

#[test]
fn bios_from_a_usb_stick_greets_in_text_mode_and_runs_the_shell() {
    let mut qemu = boot_to_shell(Firmware::Bios, Medium::UsbStick, &[]);
    let screen = qemu.screen();
    assert_eq!((screen.columns(), screen.rows()), (80, 25), "not VGA text:\n{screen}");
    assert_greeting(&screen);
    assert_eq!(qemu.run_command("echo from the stick"), "from the stick\n");
    let screen = qemu.screen();
    let (row, _) = screen.find("ferrite> echo from the stick").unwrap_or_else(|| panic!());
    screen.assert_text_at(row + 1, 0, "from the stick", LightGray, Black);
}

#[test]
fn uefi_32_from_a_usb_stick_greets_and_runs_the_shell() {
    let mut qemu = boot_to_shell(Firmware::Uefi32, Medium::UsbStick, &[]);
    assert_greeting(&qemu.screen());
    assert_shell_answers(&mut qemu);
}
