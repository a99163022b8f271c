; asm/ap_trampoline.asm - the first instructions of an application processor, from its startup
; IPI in real mode to a Rust function on its own stack with paging and SSE on.
;
; Contract (Intel SDM Vol. 3A §9.4.4, "MP initialization example"; MultiProcessor Specification
; 1.4 appendix B.4):
;   The bootstrap processor copies the bytes from ap_trampoline_start to ap_trampoline_end to a
;   free page below 1 MiB, fills in the parameter block at its end (see the layout below and
;   TrampolineParameters in src/arch/x86/processor_startup.rs), and sends INIT and startup IPIs
;   whose vector is that page's number. The processor then starts here in real mode with
;   CS = page * 256 and IP = 0, interrupts off, paging off, and caches and the local APIC as
;   after INIT.
;
; What it promises the Rust side (entry(argument: u32) -> !):
;   32-bit protected mode on flat segments 0x08 (code) and 0x10 (data) of a temporary GDT in
;   this page (the Rust side loads the CPU's own GDT first thing); CR3, CR4 and CR0 as the
;   bootstrap processor has them, so paging with 4 MiB pages, write protection and SSE are on;
;   the x87 unit initialised; ESP = the given stack top, 16-byte aligned at the call; interrupts
;   off; direction flag clear. The page itself must be identity-mapped, since the code runs on
;   from it once paging is on.
;
; Everything the code reads from its page is addressed relative to it (DS = CS in real mode,
; EBX = the page's linear address in protected mode), so the page can be anywhere below 1 MiB.

global ap_trampoline_start
global ap_trampoline_protected_mode
global ap_trampoline_gdt
global ap_trampoline_end

CR0_PROTECTION_ENABLE   equ 1 << 0
DATA_SELECTOR           equ 0x10

section .text
bits 16

ap_trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    ; EBX = the page's linear address (CS * 16), kept through the switch to protected mode.
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4
    o32 lgdt [parameter_gdt_limit - ap_trampoline_start]
    mov eax, cr0
    or eax, CR0_PROTECTION_ENABLE
    mov cr0, eax
    ; A far jump through the parameter block, which holds the linear address of the 32-bit code
    ; in this page and the code selector.
    o32 jmp far [parameter_protected_mode - ap_trampoline_start]

bits 32
ap_trampoline_protected_mode:
    mov ax, DATA_SELECTOR
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    ; Paging as the bootstrap processor has it: CR4 first (4 MiB pages, SSE), then the page
    ; directory, then CR0 (paging, write protection, the FPU bits).
    mov eax, [ebx + parameter_cr4 - ap_trampoline_start]
    mov cr4, eax
    mov eax, [ebx + parameter_cr3 - ap_trampoline_start]
    mov cr3, eax
    mov eax, [ebx + parameter_cr0 - ap_trampoline_start]
    mov cr0, eax
    fninit
    mov esp, [ebx + parameter_stack_top - ap_trampoline_start]
    and esp, ~15
    sub esp, 12
    push dword [ebx + parameter_argument - ap_trampoline_start]
    call [ebx + parameter_entry - ap_trampoline_start]
    ud2

; A temporary GDT with the kernel's flat code and data selectors (SDM Vol. 3A §3.4.5).
align 8
ap_trampoline_gdt:
    dq 0
    dq 0x00cf9a000000ffff       ; 0x08: code, base 0, limit 4 GiB, 32-bit, ring 0
    dq 0x00cf92000000ffff       ; 0x10: data, base 0, limit 4 GiB, writable, ring 0
GDT_BYTES equ $ - ap_trampoline_gdt

; The parameter block the bootstrap processor fills in (TrampolineParameters in Rust).
align 4
parameter_protected_mode:
    dd 0                        ; linear address of ap_trampoline_protected_mode in the page
    dw 0x08                     ; code selector for the far jump
    dw 0                        ; padding
    dw 0                        ; padding, so the GDT base below is aligned
parameter_gdt_limit:
    dw GDT_BYTES - 1
    dd 0                        ; linear address of ap_trampoline_gdt in the page
parameter_cr0:
    dd 0
parameter_cr3:
    dd 0
parameter_cr4:
    dd 0
parameter_stack_top:
    dd 0
parameter_entry:
    dd 0
parameter_argument:
    dd 0
ap_trampoline_end:

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
