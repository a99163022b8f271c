; asm/context_switch.asm - switching kernel threads: one stack pointer saved, another loaded.
;
; Contract with Rust (src/arch/x86/context.rs):
;   switch_stacks(save: *mut u32, load: u32) is called with interrupts off. It pushes what the
;   System V i386 ABI says a called function must preserve (EBP, EBX, ESI, EDI, the MXCSR
;   control bits and the x87 control word), stores ESP through `save`, loads `load` as ESP and
;   pops the same registers from the other thread's stack, so `ret` returns into that thread
;   where it last called switch_stacks. The XMM registers are caller-saved under that ABI, so a
;   thread that switches voluntarily has nothing live in them; a thread preempted by an
;   interrupt had its whole SSE state saved by fxsave in the interrupt entry (interrupts.asm)
;   on its own stack, which is restored when the interrupt returns.
;
;   A new thread's stack is laid out by prepare_stack in context.rs as if switch_stacks had
;   been called on it, returning into thread_trampoline with ESI = entry and EBX = argument.

global switch_stacks
global thread_trampoline

MXCSR_AND_CONTROL_WORD_BYTES equ 8

section .text
bits 32

switch_stacks:
    mov eax, [esp + 4]          ; save
    mov edx, [esp + 8]          ; load
    push ebp
    push ebx
    push esi
    push edi
    sub esp, MXCSR_AND_CONTROL_WORD_BYTES
    stmxcsr [esp]
    fnstcw [esp + 4]
    mov [eax], esp
    mov esp, edx
    ldmxcsr [esp]
    fldcw [esp + 4]
    add esp, MXCSR_AND_CONTROL_WORD_BYTES
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; The first instructions of every thread: call entry(argument) on a 16-byte aligned stack, as
; the ABI wants at a call. EBP is zero, which ends backtraces here. The entry never returns.
thread_trampoline:
    and esp, ~15
    sub esp, 12
    push ebx
    call esi
    ud2

; No executable stack wanted (silences GNU ld's warning about a missing note).
section .note.GNU-stack noalloc noexec nowrite progbits
