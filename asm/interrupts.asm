; asm/interrupts.asm - entry stubs for all 256 interrupt vectors, and the double-fault task.
;
; Contract with the CPU (Intel SDM Vol. 3A §6.12.1): an interrupt gate at the same privilege
; level pushes EFLAGS, CS, EIP and, for some exceptions, an error code onto the current stack,
; clears IF, and jumps here. Vectors without an error code push a zero so every frame looks
; alike.
;
; Contract with Rust: interrupt_dispatch(frame: *mut InterruptFrame) is called with the
; general registers, segment registers, vector and error code saved below the CPU's frame (the
; layout of InterruptFrame in src/arch/x86/interrupts.rs), with the FPU/SSE state saved by
; fxsave, DS/ES loaded with the kernel data selector, the direction flag clear and ESP 16-byte
; aligned. Whatever the handler changes in the frame is restored on return (iretd).

global interrupt_stub_table
global double_fault_task_entry
extern interrupt_dispatch
extern double_fault_task_main

KERNEL_DATA_SELECTOR equ 0x10 ; see src/arch/x86/gdt.rs
FXSAVE_AREA_BYTES    equ 512  ; SDM Vol. 1 §10.5.1: fxsave writes 512 bytes, 16-byte aligned

section .text
bits 32

; Vectors for which the CPU pushes an error code (SDM Vol. 3A §6.3.1, table 6-1).
%macro has_error_code 1
    %if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
        %define HAS_ERROR_CODE 1
    %else
        %define HAS_ERROR_CODE 0
    %endif
%endmacro

; One stub per vector: push a zero error code where the CPU does not, push the vector, and
; join the common path.
%assign vector 0
%rep 256
interrupt_stub_ %+ vector:
    has_error_code vector
    %if HAS_ERROR_CODE == 0
    push 0
    %endif
    push vector
    jmp interrupt_common
%assign vector vector + 1
%endrep

interrupt_common:
    pushad                          ; EAX, ECX, EDX, EBX, original ESP, EBP, ESI, EDI
    push ds
    push es
    push fs
    push gs
    mov ax, KERNEL_DATA_SELECTOR    ; code may have run with other data segments loaded
    mov ds, ax
    mov es, ax
    mov ebx, esp                    ; EBX (callee-saved) = the InterruptFrame
    sub esp, FXSAVE_AREA_BYTES
    and esp, ~15                    ; fxsave needs a 16-byte aligned area
    fxsave [esp]                    ; the handler may use SSE: keep the interrupted code's state
    sub esp, 12                     ; keep ESP 16-byte aligned at the call below
    push ebx
    cld                             ; the ABI requires DF clear on function entry
    call interrupt_dispatch
    add esp, 16
    fxrstor [esp]
    mov esp, ebx
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                      ; drop the vector and error code
    iretd

; The double-fault task (reached through a task gate, SDM Vol. 3A §7.3) for vector 8 and for
; the stack guard's #DB (vector 1): the CPU saved the interrupted state in the main TSS, loaded
; the double-fault TSS (its own stack, flat segments) and, for vector 8, pushed the error code
; (always 0) on the new stack.
double_fault_task_entry:
    clts                            ; a task switch sets CR0.TS (SDM Vol. 3A §7.3 step 11): clear
                                    ; it, or the first SSE instruction would raise #NM
    and esp, ~15
    call double_fault_task_main     ; prints the diagnostic; never returns
.halt:
    cli
    hlt
    jmp .halt

section .rodata
align 4
; Addresses of the 256 stubs, read by the IDT setup.
interrupt_stub_table:
%assign vector 0
%rep 256
    dd interrupt_stub_ %+ vector
%assign vector vector + 1
%endrep

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
