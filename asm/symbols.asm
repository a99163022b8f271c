; asm/symbols.asm - room for the kernel's function-name table.
;
; The area is zero in the linked image; tools/embed-symbols then writes the table (format in
; src/diagnostics/symbol_table.rs) into it in place, so no address in the kernel moves. The
; kernel reads it between the linker symbols kernel_symbols_start and kernel_symbols_end.

SYMBOL_TABLE_BYTES equ 12 * 1024

section .kernel_symbols progbits alloc noexec nowrite align=4
    times SYMBOL_TABLE_BYTES db 0

section .note.GNU-stack noalloc noexec nowrite progbits
