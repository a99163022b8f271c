//! The full boot through the ISO and GRUB: greeting, logo, animated demo, end screen, idle.

use std::time::{Duration, Instant};

use ferrite_tests::{Boot, Color::*, Qemu, ScreenMode};

#[test]
fn iso_boots_through_grub_and_plays_the_demo_to_its_end_screen() {
    let mut qemu = Qemu::start(Boot::iso(), &[]);
    let started = Instant::now();
    let serial = qemu.wait_for_serial("clock:", Duration::from_secs(30));
    let screen = qemu.screen();
    screen.assert_text_at(1, 0, "Hello from Rust!", LightGreen, Black);
    let (row, column) =
        screen.find("GRUB 2.").unwrap_or_else(|| panic!("loader not named:\n{screen}"));
    screen.assert_text_at(row, column, "GRUB 2.", Yellow, Black);
    assert!(!serial.contains("cmdline: unknown"), "{serial}");

    qemu.wait_for_serial("demo: logo", Duration::from_secs(10));
    let logo = qemu.screen();
    assert!(logo.find("a kernel for 32-bit x86, written in Rust").is_some(), "{logo}");
    assert!(logo.count_foreground(Yellow) >= 40, "logo letters missing:\n{logo}");
    assert!(logo.count_foreground(Red) >= 20, "logo letters missing:\n{logo}");

    qemu.wait_for_serial("demo: animation", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(2));
    let pixels = ScreenMode::from_environment() == ScreenMode::Framebuffer;
    if pixels {
        // On a framebuffer the scene is drawn in pixels, not cells.
        let first = qemu.screenshot_image();
        std::thread::sleep(Duration::from_millis(1500));
        let second = qemu.screenshot_image();
        first.assert_shows_the_pixel_scene();
        let changed = first.differing_pixels(&second);
        assert!(changed >= 20_000, "only {changed} pixels changed: the scene is not animating");
    } else {
        let first = qemu.screen();
        std::thread::sleep(Duration::from_millis(700));
        let second = qemu.screen();
        assert!(first.distinct_colors() >= 8, "scene has few colors:\n{first}");
        let (rows, columns) = (first.rows(), first.columns());
        let changed = (0..rows)
            .flat_map(|row| (0..columns).map(move |column| (row, column)))
            .filter(|&(row, column)| first.cell(row, column) != second.cell(row, column))
            .count();
        assert!(changed >= 100, "only {changed} cells changed: the scene is not animating");
    }

    let serial = qemu.wait_for_serial("idle: waiting for a key", Duration::from_secs(40));
    let elapsed = started.elapsed();
    // Over pixels only the status line and the hint are cells: read those rows alone.
    let (rows, columns) = (screen.rows(), screen.columns());
    let bottom = rows - 1;
    let status = qemu.row_text(bottom);
    assert!(status.contains(" frames/s "), "no speed on the end screen: {status:?}");
    if pixels {
        assert!(status.contains(" rays scaled to 1024x768 "), "{status:?}");
        assert!(serial.contains("demo: pixels rendered at "), "{serial}");
        qemu.screenshot_image().assert_shows_the_pixel_scene();
    } else {
        assert_eq!(qemu.screen().cell(bottom, 40).background, LightGray);
    }
    // The figure on screen is the one logged on serial.
    let logged = serial
        .lines()
        .find_map(|line| line.strip_suffix(" frames/s")?.rsplit(' ').next())
        .expect("frames/s on serial");
    assert!(
        status.trim_start().starts_with(&format!("{logged} frames/s")),
        "{status:?} vs {logged}"
    );
    assert!(elapsed > Duration::from_secs(14), "demo too short: pauses not timed by a clock?");

    // Idle means hlt: QEMU should use little host CPU once the demo is over.
    let before = qemu.cpu_seconds();
    std::thread::sleep(Duration::from_secs(2));
    let used = qemu.cpu_seconds() - before;
    assert!(used < 0.5, "QEMU used {used:.2} s of CPU in 2 s of idle: busy loop?");
    let hint = " Press any key for the shell ";
    if pixels {
        assert_eq!(qemu.row_text(0).find(hint), Some((columns - hint.len()) / 2));
    } else {
        qemu.screen().assert_text_at(0, (columns - hint.len()) / 2, hint, Black, LightGray);
    }

    // A key opens the shell on a cleared screen.
    qemu.press("spc");
    qemu.wait_for_serial("shell: ready", Duration::from_secs(10));
    assert_eq!(qemu.run_command("echo from the shell"), "from the shell\n");
    let shell = qemu.screen();
    shell.assert_text_at(0, 0, "Ferrite shell", Yellow, Black);
    shell.assert_text_at(1, 0, "ferrite> ", LightGreen, Black);
    shell.assert_text_at(1, 9, "echo from the shell", LightGray, Black);
}
