; asm/multiboot_header.asm - the Multiboot 1 header that tells GRUB (or QEMU -kernel) how to load us.
;
; Multiboot specification 0.6.96, §3.1.1: the header is a magic number, flags and a checksum,
; 4-byte aligned, and must lie entirely within the first 8192 bytes of the image. linker.ld keeps
; the .multiboot section first and asserts that bound.
;
; Why Multiboot 1 and not Multiboot 2: version 1 already carries everything the framebuffer
; console needs (address, pitch, size, depth and the red/green/blue field positions, §3.3), GRUB
; 2 loads it on BIOS and on both UEFI platforms, and QEMU's -kernel loads only version 1, which
; the fast tests rely on. Multiboot 2 would add the EFI system table and memory map, which this
; kernel does not use.

MULTIBOOT_HEADER_MAGIC     equ 0x1BADB002 ; §3.1.2 "magic": identifies the header
MULTIBOOT_PAGE_ALIGN       equ 1 << 0     ; §3.1.2 "flags" bit 0: load modules on 4 KiB boundaries
MULTIBOOT_MEMORY_INFO      equ 1 << 1     ; §3.1.2 "flags" bit 1: give us mem_lower/mem_upper and the memory map
MULTIBOOT_VIDEO_MODE       equ 1 << 2     ; §3.1.2 "flags" bit 2: the mode fields below are valid
MULTIBOOT_HEADER_FLAGS     equ MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_VIDEO_MODE
; §3.1.2 "checksum": magic + flags + checksum must sum to zero (mod 2^32).
MULTIBOOT_HEADER_CHECKSUM  equ -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

; §3.1.4: the preferred video mode. It is a preference: the loader may give another mode, or
; text (GRUB's `gfxpayload` decides; grub/grub.cfg keeps VGA text on BIOS by default and asks
; for a framebuffer under UEFI, which has no text mode). The kernel reads what it got from the
; Multiboot information and draws on any direct-color framebuffer of 15 to 32 bits.
VIDEO_MODE_LINEAR          equ 0          ; mode_type 0: a linear graphics framebuffer
VIDEO_WIDTH_PIXELS         equ 1024       ; 128 columns of 8-pixel characters
VIDEO_HEIGHT_PIXELS        equ 768        ; 48 rows of 16-pixel characters
VIDEO_DEPTH_BITS           equ 32

global multiboot_header

section .multiboot
align 4
multiboot_header:
    dd MULTIBOOT_HEADER_MAGIC    ; magic
    dd MULTIBOOT_HEADER_FLAGS    ; flags: page-aligned modules, memory information, video mode
    dd MULTIBOOT_HEADER_CHECKSUM ; checksum
    ; §3.1.3 address fields: unused because flag bit 16 is clear (the loader reads our ELF
    ; program headers), but they hold their place so the mode fields sit at offset 32.
    dd 0                         ; header_addr
    dd 0                         ; load_addr
    dd 0                         ; load_end_addr
    dd 0                         ; bss_end_addr
    dd 0                         ; entry_addr
    ; §3.1.4 video mode fields.
    dd VIDEO_MODE_LINEAR         ; mode_type
    dd VIDEO_WIDTH_PIXELS        ; width
    dd VIDEO_HEIGHT_PIXELS       ; height
    dd VIDEO_DEPTH_BITS          ; depth

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
