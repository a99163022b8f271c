; asm/multiboot_header.asm - the Multiboot 1 header that tells GRUB (or QEMU -kernel) how to load us.
;
; Multiboot specification 0.6.96, §3.1.1: the header is a magic number, flags and a checksum,
; 4-byte aligned, and must lie entirely within the first 8192 bytes of the image. linker.ld keeps
; the .multiboot section first and asserts that bound.

MULTIBOOT_HEADER_MAGIC     equ 0x1BADB002 ; §3.1.2 "magic": identifies the header
MULTIBOOT_PAGE_ALIGN       equ 1 << 0     ; §3.1.2 "flags" bit 0: load modules on 4 KiB boundaries
MULTIBOOT_MEMORY_INFO      equ 1 << 1     ; §3.1.2 "flags" bit 1: give us mem_lower/mem_upper and the memory map
MULTIBOOT_HEADER_FLAGS     equ MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO
; §3.1.2 "checksum": magic + flags + checksum must sum to zero (mod 2^32).
MULTIBOOT_HEADER_CHECKSUM  equ -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

global multiboot_header

section .multiboot
align 4
multiboot_header:
    dd MULTIBOOT_HEADER_MAGIC    ; magic
    dd MULTIBOOT_HEADER_FLAGS    ; flags: page-aligned modules, memory information
    dd MULTIBOOT_HEADER_CHECKSUM ; checksum
    ; Flag bit 16 (address fields, §3.1.3) is clear: the loader reads our ELF program headers.
    ; Flag bit 2 (video mode, §3.1.4) is clear: we ask for no mode at all, so the loader leaves
    ; the display as it is; on a BIOS PC that is the 80x25 text mode the kernel writes to.

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
