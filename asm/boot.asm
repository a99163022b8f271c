; asm/boot.asm - rt0: the first instructions of the kernel, from the loader's hand-off to Rust.
;
; Entry contract (Multiboot 1 specification §3.2, "Machine state"; Multiboot 2 §3.3, the same
; state with its own magic):
;   EAX = 0x2BADB002 when a Multiboot 1 loader started us, 0x36D76289 for Multiboot 2,
;   EBX = physical address of that version's Multiboot information structure,
;   32-bit protected mode, paging off, interrupts off, A20 enabled, flat 4 GiB CS/DS/ES/SS,
;   ESP undefined (we must set up our own stack), GDTR/IDTR undefined.
;
; What this stub promises the Rust side (kernel_main(magic: u32, info_address: u32)):
;   a 16 KiB stack in .bss, 16-byte aligned; direction flag clear; interrupts off;
;   SSE and SSE2 present and enabled, so compiled code may use XMM registers freely;
;   the loader's magic and info pointer passed unchanged (Rust validates them again).
;
; A failed check sends a tagged message to COM1, shows it on screen and halts, because no
; console exists yet: on a framebuffer the loader described (Multiboot 1 §3.3, flag 12, direct
; RGB; how UEFI machines boot) the whole screen turns red, else the message goes to the VGA text
; buffer in white on red.

global _start
global boot_stack_guard
global boot_stack_bottom
global boot_stack_top
extern kernel_main

STACK_SIZE_BYTES        equ 16 * 1024
MULTIBOOT_LOADER_MAGIC  equ 0x2BADB002 ; Multiboot 1 §3.2: value of EAX at entry
MULTIBOOT2_LOADER_MAGIC equ 0x36D76289 ; Multiboot 2 §3.3: value of EAX at entry
VGA_TEXT_BUFFER         equ 0xB8000
BOOT_ERROR_ATTRIBUTE    equ 0x4F       ; white on red
COM1_DATA               equ 0x3F8      ; 16550 UART: transmit holding register
COM1_INTERRUPT_ENABLE   equ 0x3F9      ; divisor high byte while DLAB is set
COM1_FIFO_CONTROL       equ 0x3FA
COM1_LINE_CONTROL       equ 0x3FB
COM1_LINE_STATUS        equ 0x3FD
LINE_CONTROL_DLAB       equ 0x80       ; divisor latch access
LINE_CONTROL_8N1        equ 0x03
DIVISOR_115200_BAUD     equ 1
LINE_STATUS_THR_EMPTY   equ 0x20       ; the UART takes another byte
COM1_POLL_LIMIT         equ 100000     ; no UART: give up on a byte after this many polls
; Multiboot 1 §3.3 information structure: flags, and the framebuffer fields of flag bit 12.
INFO_FLAGS              equ 0
INFO_FLAG_FRAMEBUFFER   equ 1 << 12
INFO_FRAMEBUFFER_ADDRESS equ 88        ; 64 bits
INFO_FRAMEBUFFER_PITCH  equ 96
INFO_FRAMEBUFFER_WIDTH  equ 100
INFO_FRAMEBUFFER_HEIGHT equ 104
INFO_FRAMEBUFFER_BPP    equ 108
INFO_FRAMEBUFFER_TYPE   equ 109
FRAMEBUFFER_TYPE_RGB    equ 1
; color_info: the specification lists byte 110; GRUB writes it at 112 (its C header aligns the
; union to 4 bytes; see src/boot/information.rs).
INFO_RED_POSITION       equ 112
INFO_RED_SIZE           equ 113
CPUID_EFLAGS_ID         equ 1 << 21    ; EFLAGS.ID is writable only when CPUID exists
CPUID_EDX_SSE           equ 1 << 25    ; CPUID.01H:EDX.SSE (Intel SDM Vol. 2A, CPUID)
CPUID_EDX_SSE2          equ 1 << 26    ; CPUID.01H:EDX.SSE2
CPUID_EDX_FXSR          equ 1 << 24    ; CPUID.01H:EDX.FXSR (fxsave/fxrstor)
CR0_MONITOR_COPROCESSOR equ 1 << 1     ; CR0.MP (Intel SDM Vol. 3A §2.5)
CR0_EMULATION           equ 1 << 2     ; CR0.EM: must be clear or SSE instructions raise #UD
CR0_TASK_SWITCHED       equ 1 << 3     ; CR0.TS: clear so the first SSE instruction does not #NM
CR4_OSFXSR              equ 1 << 9     ; CR4.OSFXSR: OS saves SSE state with fxsave
CR4_OSXMMEXCPT          equ 1 << 10    ; CR4.OSXMMEXCPT: SIMD float exceptions raise #XM

section .bss
boot_information_address: resd 1 ; EBX at entry, for the red screen of a failed check

section .bss.stack nobits alloc noexec write align=4096
boot_stack_guard:
    resb 4096               ; left unmapped once paging is on: an overflow faults here
boot_stack_bottom:
    resb STACK_SIZE_BYTES
boot_stack_top:

section .rodata
message_not_multiboot: db "boot: not loaded by a multiboot loader (bad magic in EAX)", 0
message_no_cpuid:      db "boot: this CPU has no CPUID instruction", 0
message_no_sse:        db "boot: this CPU has no SSE/SSE2 (need a Pentium 4 or newer)", 0
message_returned:      db "boot: kernel_main returned; halting", 0

section .text
bits 32
_start:
    cli
    cld
    mov esp, boot_stack_top
    ; EAX and EBX must survive the checks below; keep them in callee-untouched registers.
    mov edi, eax
    mov esi, ebx
    mov [boot_information_address], ebx

check_multiboot:
    ; Either version; Rust reads the information by the magic, passed on unchanged.
    cmp edi, MULTIBOOT_LOADER_MAGIC
    je check_cpuid
    cmp edi, MULTIBOOT2_LOADER_MAGIC
    jne fail_bad_magic

check_cpuid:
    ; Toggle EFLAGS.ID; if the change sticks, the CPUID instruction exists.
    pushfd
    pop eax
    mov ecx, eax
    xor eax, CPUID_EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx                ; restore the original EFLAGS
    popfd
    xor eax, ecx
    test eax, CPUID_EFLAGS_ID
    jz fail_no_cpuid

check_sse:
    mov eax, 1
    cpuid
    mov eax, CPUID_EDX_SSE | CPUID_EDX_SSE2 | CPUID_EDX_FXSR
    and edx, eax
    cmp edx, eax
    jne fail_no_sse

enable_sse:
    mov eax, cr0
    and eax, ~(CR0_EMULATION | CR0_TASK_SWITCHED)
    or eax, CR0_MONITOR_COPROCESSOR
    mov cr0, eax
    mov eax, cr4
    or eax, CR4_OSFXSR | CR4_OSXMMEXCPT
    mov cr4, eax
    fninit

enter_rust:
    xor ebp, ebp            ; a zero frame pointer ends every backtrace here
    sub esp, 8              ; with the two arguments, ESP is 16-byte aligned at the call,
                            ; as the i386 System V ABI (and SSE spills) expect
    push esi                ; info_address (second argument, cdecl)
    push edi                ; magic (first argument)
    call kernel_main
    mov esi, message_returned
    jmp boot_error

fail_bad_magic:
    mov esi, message_not_multiboot
    jmp boot_error
fail_no_cpuid:
    mov esi, message_no_cpuid
    jmp boot_error
fail_no_sse:
    mov esi, message_no_sse
    ; fall through

; boot_error: the NUL-terminated string at ESI goes to COM1 and on screen, then halt. EDI holds
; the loader's magic: only with Multiboot 1's is EBX's information read for a framebuffer (a
; Multiboot 2 boot that fails here shows the message in VGA text, and always on COM1).
boot_error:
    push edi
    push esi
    call send_to_com1
    pop esi
    pop edi
    cmp edi, MULTIBOOT_LOADER_MAGIC
    jne show_in_vga_text
    call fill_framebuffer_red
    jnc halt_forever        ; carry clear: the framebuffer is red

; show_in_vga_text: the string at ESI on the top row of the VGA text screen, white on red.
show_in_vga_text:
    mov edi, VGA_TEXT_BUFFER
    mov ah, BOOT_ERROR_ATTRIBUTE
.next_character:
    lodsb
    test al, al
    jz halt_forever
    stosw                   ; character in AL, attribute in AH
    jmp .next_character

; send_to_com1: sets COM1 to 115200 8N1 and sends the string at ESI, then CR LF. Each byte
; waits a bounded time for the UART, so a machine without one only loses the message.
send_to_com1:
    mov dx, COM1_LINE_CONTROL
    mov al, LINE_CONTROL_DLAB
    out dx, al
    mov dx, COM1_DATA
    mov al, DIVISOR_115200_BAUD
    out dx, al
    mov dx, COM1_INTERRUPT_ENABLE
    xor al, al
    out dx, al
    mov dx, COM1_LINE_CONTROL
    mov al, LINE_CONTROL_8N1
    out dx, al
.next_byte:
    lodsb
    test al, al
    jz .end_of_line
    call send_byte
    jmp .next_byte
.end_of_line:
    mov al, 13
    call send_byte
    mov al, 10
    ; fall through: send_byte returns to our caller

; send_byte: sends AL on COM1 once the transmitter is empty, or after COM1_POLL_LIMIT polls.
send_byte:
    mov ah, al
    mov ecx, COM1_POLL_LIMIT
    mov dx, COM1_LINE_STATUS
.wait:
    in al, dx
    test al, LINE_STATUS_THR_EMPTY
    jnz .send
    loop .wait
.send:
    mov al, ah
    mov dx, COM1_DATA
    out dx, al
    ret

; fill_framebuffer_red: paints every pixel of the loader's direct-color framebuffer in full
; red. Carry set if there is none to paint (no framebuffer flag, not RGB, above 4 GiB, empty).
fill_framebuffer_red:
    mov ebx, [boot_information_address]
    test dword [ebx + INFO_FLAGS], INFO_FLAG_FRAMEBUFFER
    jz .none
    cmp byte [ebx + INFO_FRAMEBUFFER_TYPE], FRAMEBUFFER_TYPE_RGB
    jne .none
    cmp dword [ebx + INFO_FRAMEBUFFER_ADDRESS + 4], 0
    jne .none               ; paging is off: only the low 4 GiB can be reached
    ; The red pixel: ((1 << red size) - 1) << red position.
    movzx ecx, byte [ebx + INFO_RED_SIZE]
    mov eax, 1
    shl eax, cl
    dec eax
    movzx ecx, byte [ebx + INFO_RED_POSITION]
    shl eax, cl
    movzx ecx, byte [ebx + INFO_FRAMEBUFFER_BPP]
    add ecx, 7
    shr ecx, 3              ; bytes per pixel
    jz .none
    mov esi, [ebx + INFO_FRAMEBUFFER_WIDTH]
    mov ebp, [ebx + INFO_FRAMEBUFFER_PITCH]
    mov edx, [ebx + INFO_FRAMEBUFFER_HEIGHT]
    mov edi, [ebx + INFO_FRAMEBUFFER_ADDRESS]
    test esi, esi
    jz .none
    test edx, edx
    jz .none
.next_row:
    push edi
    mov ebx, esi            ; pixels left in the row
.next_pixel:
    push eax
    push ecx
.next_pixel_byte:
    stosb                   ; the pixel's bytes, lowest first (pixels are little-endian)
    shr eax, 8
    loop .next_pixel_byte
    pop ecx
    pop eax
    dec ebx
    jnz .next_pixel
    pop edi
    add edi, ebp
    dec edx
    jnz .next_row
    clc
    ret
.none:
    stc
    ret

halt_forever:
    cli
.again:
    hlt
    jmp .again              ; an NMI can wake hlt even with interrupts off

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
