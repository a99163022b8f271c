; asm/symbols.asm - the kernel's function-name table, included from a file.
;
; The Makefile links the kernel once with an empty table, has tools/embed-symbols write the
; names of that image's functions to SYMBOL_TABLE_FILE, assembles this file again with it and
; links a second time. The section is last in the image (linker.ld), so both links place every
; function at the same address. Format: src/diagnostics/symbol_table.rs.

section .kernel_symbols progbits alloc noexec nowrite align=4
%ifdef SYMBOL_TABLE_FILE
    incbin SYMBOL_TABLE_FILE
%endif

section .note.GNU-stack noalloc noexec nowrite progbits
