#!/usr/bin/env bash
# scripts/cargo.sh - run cargo from a toolchain that can build `core` for i686-kernel.json.
#
# Choice, first match wins:
#   1. $CARGO, if set (its rustc is $RUSTC, or the `rustc` next to it on PATH);
#   2. rustup's toolchain pinned in rust-toolchain.toml, if installed with rust-src;
#   3. Debian's rustc-web/cargo-web/rust-web-src (/usr/bin/cargo, same release).
# scripts/setup.sh installs option 3 (or 2) when neither is present.
set -euo pipefail
cd "$(dirname "$0")/.."

# -Zbuild-std and -Zjson-target-spec are unstable cargo flags; stable compilers accept them
# with RUSTC_BOOTSTRAP, the way Rust-for-Linux builds.
export RUSTC_BOOTSTRAP=1

if [ -n "${CARGO:-}" ]; then
    exec "$CARGO" "$@"
fi

pinned=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if command -v rustup >/dev/null 2>&1; then
    if sysroot=$(rustup run "$pinned" rustc --print sysroot 2>/dev/null) \
        && [ -d "$sysroot/lib/rustlib/src/rust/library" ]; then
        export RUSTUP_TOOLCHAIN="$pinned"
        exec rustup run "$pinned" cargo "$@"
    fi
fi

if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
    # rustup's proxies come first on PATH for most users; keep Debian's tools together.
    export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
    unset RUSTUP_TOOLCHAIN
    exec /usr/bin/cargo "$@"
fi

echo "error: no Rust toolchain with the standard library source (rust-src) was found." >&2
echo "  Debian/Ubuntu: sudo apt-get install rustc-web cargo-web rust-web-src" >&2
echo "  rustup:        rustup toolchain install $pinned --component rust-src" >&2
echo "  (or run 'make setup', or set CARGO=/path/to/cargo)" >&2
exit 1
