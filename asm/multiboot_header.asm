; asm/multiboot_header.asm - the Multiboot 1 and Multiboot 2 headers that tell GRUB (or QEMU
; -kernel) how to load us. A loader picks the version it was asked for (`multiboot` or
; `multiboot2` in grub/grub.cfg) and finds that version's header by its magic.
;
; Multiboot specification 0.6.96, §3.1.1: the version 1 header is a magic number, flags and a
; checksum, 4-byte aligned, and must lie entirely within the first 8192 bytes of the image.
; Multiboot 2 (specification 2.0, §3.1.1): 8-byte aligned, within the first 32768 bytes.
; linker.ld keeps the .multiboot section first and asserts both bounds.
;
; Why both: version 1 carries everything the framebuffer console needs (§3.3), GRUB 2 loads it
; on BIOS and on both UEFI platforms, and QEMU's -kernel loads only version 1, which the fast
; tests rely on. But only version 2 passes a copy of ACPI's RSDP (its tags 14 and 15), and under
; UEFI the RSDP is not in the BIOS area where the kernel could search for it; so the UEFI menu
; entries boot through Multiboot 2.

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

MULTIBOOT2_HEADER_MAGIC    equ 0xE85250D6 ; Multiboot 2 §3.1.2 "magic"
MULTIBOOT2_ARCHITECTURE_I386 equ 0        ; §3.1.2 "architecture": 32-bit protected mode
MULTIBOOT2_HEADER_BYTES    equ multiboot2_header_end - multiboot2_header
; §3.1.2 "checksum": magic + architecture + header_length + checksum sum to zero (mod 2^32).
MULTIBOOT2_HEADER_CHECKSUM equ -(MULTIBOOT2_HEADER_MAGIC + MULTIBOOT2_ARCHITECTURE_I386 + MULTIBOOT2_HEADER_BYTES)
MULTIBOOT2_TAG_END         equ 0          ; §3.1.3: the list of tags ends with type 0, size 8
MULTIBOOT2_TAG_FRAMEBUFFER equ 5          ; §3.1.10: the preferred framebuffer mode
MULTIBOOT2_TAG_OPTIONAL    equ 1          ; §3.1.3 flags bit 0: the loader may ignore the tag

global multiboot_header
global multiboot2_header

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

; The Multiboot 2 header: no address tag (the loader reads our ELF program headers, as for
; version 1), only the same video-mode preference, then the end tag.
align 8
multiboot2_header:
    dd MULTIBOOT2_HEADER_MAGIC
    dd MULTIBOOT2_ARCHITECTURE_I386
    dd MULTIBOOT2_HEADER_BYTES   ; header_length
    dd MULTIBOOT2_HEADER_CHECKSUM
    align 8                      ; every tag starts on an 8-byte boundary (§3.1.3)
    dw MULTIBOOT2_TAG_FRAMEBUFFER
    dw MULTIBOOT2_TAG_OPTIONAL   ; text mode (BIOS, `gfxpayload=text`) stays possible
    dd 20                        ; size: type, flags, size, width, height, depth
    dd VIDEO_WIDTH_PIXELS
    dd VIDEO_HEIGHT_PIXELS
    dd VIDEO_DEPTH_BITS
    align 8
    dw MULTIBOOT2_TAG_END
    dw 0
    dd 8
multiboot2_header_end:

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
