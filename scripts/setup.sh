#!/usr/bin/env bash
# scripts/setup.sh - make sure the tools the build and tests need are installed.
#
# Missing Debian packages are installed with apt-get when running as root or with
# passwordless sudo; otherwise the script names them and fails. Set FERRITE_NO_INSTALL=1 to
# only check.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
need() { # need COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need nasm nasm
need ld binutils
need grub-mkrescue grub-common
# GRUB for each platform the ISO boots: BIOS, 64-bit UEFI, 32-bit UEFI.
[ -d /usr/lib/grub/i386-pc ] || missing+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
[ -d /usr/lib/grub/i386-efi ] || missing+=(grub-efi-ia32-bin)
# UEFI firmware for QEMU: OVMF for x86_64 and for ia32 (the UEFI tests and make run-uefi).
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
[ -r /usr/share/OVMF/OVMF32_CODE_4M.secboot.fd ] || missing+=(ovmf-ia32)
need xorriso xorriso
need mformat mtools
need qemu-system-i386 qemu-system-x86
need getconf libc-bin
# The web page (web/web.mk): npm fetches v86, xterm.js and puppeteer-core; the BIOS images come
# from SeaBIOS; the browser tests drive Chromium.
need node nodejs
need npm npm
need chromium chromium
[ -f /usr/share/seabios/bios.bin ] && [ -f /usr/share/seabios/vgabios-stdvga.bin ] || missing+=(seabios)

# Debian 12 packages a Rust with its library source (rustc-web and friends); elsewhere the
# toolchain comes from rustup.
debian=no
if [ -r /etc/os-release ] && grep -q '^ID=debian' /etc/os-release; then
    debian=yes
fi
if ! scripts/cargo.sh --version >/dev/null 2>&1; then
    if [ "$debian" = yes ]; then
        missing+=(rustc-web cargo-web rust-web-src rustfmt-web rust-web-clippy)
    elif command -v rustup >/dev/null 2>&1; then
        echo "setup: installing the Rust toolchain pinned in rust-toolchain.toml with rustup"
        rustup toolchain install "$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)" \
            --profile minimal --component rust-src,rustfmt,clippy
    else
        echo "setup: no Rust toolchain; install rustup (https://rustup.rs), then run make setup" >&2
        exit 1
    fi
fi

# Debian's toolchain needs its own rustfmt and clippy (`make check`); rustup's proxies would
# look for the pinned toolchain instead.
if [ -x /usr/bin/cargo ] && [ -z "${CARGO:-}" ]; then
    [ -x /usr/bin/cargo-fmt ] || missing+=(rustfmt-web)
    [ -x /usr/bin/cargo-clippy ] || missing+=(rust-web-clippy)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ -n "${FERRITE_NO_INSTALL:-}" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing packages: $packages" >&2
    echo "setup: on Debian/Ubuntu: sudo apt-get install $packages" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "setup: missing packages: $packages" >&2
    echo "setup: run: sudo apt-get install $packages" >&2
    exit 1
fi
echo "setup: installing $packages"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends $packages
