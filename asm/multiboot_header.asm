; asm/multiboot_header.asm - the Multiboot 1 header that tells GRUB (or QEMU -kernel) how to load us.
;
; Multiboot specification 0.6.96, section 3.1: the header is a magic number, flags and a checksum,
; 4-byte aligned, and must lie entirely within the first 8192 bytes of the image. linker.ld keeps
; the .multiboot section first and asserts that bound.

MULTIBOOT_HEADER_MAGIC     equ 0x1BADB002 ; §3.1.1: identifies the header
MULTIBOOT_PAGE_ALIGN       equ 1 << 0     ; §3.1.2 bit 0: load modules on 4 KiB boundaries
MULTIBOOT_MEMORY_INFO      equ 1 << 1     ; §3.1.2 bit 1: give us mem_lower/mem_upper and the memory map
MULTIBOOT_HEADER_FLAGS     equ MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO
; §3.1.3: magic + flags + checksum must sum to zero (mod 2^32).
MULTIBOOT_HEADER_CHECKSUM  equ -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

global multiboot_header

section .multiboot
align 4
multiboot_header:
    dd MULTIBOOT_HEADER_MAGIC    ; magic
    dd MULTIBOOT_HEADER_FLAGS    ; flags: page-aligned modules, memory information
    dd MULTIBOOT_HEADER_CHECKSUM ; checksum
    ; Flag bit 16 (address fields) is clear: the loader reads our ELF program headers instead.
    ; Flag bit 2 (video mode) is clear: we ask for VGA text mode, which the BIOS already set.

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
