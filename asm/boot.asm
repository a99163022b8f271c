; asm/boot.asm - rt0: the first instructions of the kernel, from the loader's hand-off to Rust.
;
; Entry contract (Multiboot 1 specification §3.2, "Machine state"):
;   EAX = 0x2BADB002 when a Multiboot-compliant loader started us,
;   EBX = physical address of the Multiboot information structure,
;   32-bit protected mode, paging off, interrupts off, A20 enabled, flat 4 GiB CS/DS/ES/SS,
;   ESP undefined (we must set up our own stack), GDTR/IDTR undefined.
;
; What this stub promises the Rust side (kernel_main(magic: u32, info_address: u32)):
;   a 16 KiB stack in .bss, 16-byte aligned; direction flag clear; interrupts off;
;   SSE and SSE2 present and enabled, so compiled code may use XMM registers freely;
;   the loader's magic and info pointer passed unchanged (Rust validates them again).
;
; A failed check writes a tagged message straight to the VGA text buffer and halts, because no
; console exists yet.

global _start
global boot_stack_guard
global boot_stack_bottom
global boot_stack_top
extern kernel_main

STACK_SIZE_BYTES        equ 16 * 1024
MULTIBOOT_LOADER_MAGIC  equ 0x2BADB002 ; Multiboot 1 §3.2: value of EAX at entry
VGA_TEXT_BUFFER         equ 0xB8000
BOOT_ERROR_ATTRIBUTE    equ 0x4F       ; white on red
CPUID_EFLAGS_ID         equ 1 << 21    ; EFLAGS.ID is writable only when CPUID exists
CPUID_EDX_SSE           equ 1 << 25    ; CPUID.01H:EDX.SSE (Intel SDM Vol. 2A, CPUID)
CPUID_EDX_SSE2          equ 1 << 26    ; CPUID.01H:EDX.SSE2
CPUID_EDX_FXSR          equ 1 << 24    ; CPUID.01H:EDX.FXSR (fxsave/fxrstor)
CR0_MONITOR_COPROCESSOR equ 1 << 1     ; CR0.MP (Intel SDM Vol. 3A §2.5)
CR0_EMULATION           equ 1 << 2     ; CR0.EM: must be clear or SSE instructions raise #UD
CR0_TASK_SWITCHED       equ 1 << 3     ; CR0.TS: clear so the first SSE instruction does not #NM
CR4_OSFXSR              equ 1 << 9     ; CR4.OSFXSR: OS saves SSE state with fxsave
CR4_OSXMMEXCPT          equ 1 << 10    ; CR4.OSXMMEXCPT: SIMD float exceptions raise #XM

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

check_multiboot:
    cmp edi, MULTIBOOT_LOADER_MAGIC
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

; boot_error: print the NUL-terminated string at ESI on the top row of the screen, then halt.
boot_error:
    mov edi, VGA_TEXT_BUFFER
    mov ah, BOOT_ERROR_ATTRIBUTE
.next_character:
    lodsb
    test al, al
    jz halt_forever
    stosw                   ; character in AL, attribute in AH
    jmp .next_character

halt_forever:
    cli
.again:
    hlt
    jmp .again              ; an NMI can wake hlt even with interrupts off

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
