/*
 * Entry points, descriptor tables, page tables, interrupt stubs and the application
 * processor trampoline of remu's x86-64 test guests.
 *
 *  _start64     64-bit entry (remu's ELF64 boot): rsi = Linux zero page.
 *  pvh_start32  PVH entry (32-bit, paging off): ebx = hvm_start_info.
 *  tramp_*      16-bit SIPI trampoline, copied to TRAMP_ADDR (0x1000) by smp.c.
 *
 * Everything runs on an identity map of the first 8 GiB built here with 2 MiB pages.
 * GDT: 0x08 flat 32-bit code, 0x10 64-bit code, 0x18 flat data.
 */
#define TRAMP_ADDR 0x1000

    .section .text.start, "ax"
    .code64
    .globl _start64
_start64:
    cli
    movq %rsi, %r12            /* boot info */
    xorl %r13d, %r13d          /* kind 0: zero page */
    jmp common64

    .code32
    .globl pvh_start32
pvh_start32:
    cli
    movl %ebx, %esi
    lgdt gdtr
    ljmp $0x08, $1f
1:  movw $0x18, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax            /* PAE */
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx     /* EFER */
    rdmsr
    orl $0x100, %eax           /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax      /* PG | PE */
    movl %eax, %cr0
    ljmp $0x10, $2f
    .code64
2:  movl %esi, %r12d
    movl $1, %r13d             /* kind 1: PVH start info */

common64:
    lgdt gdtr(%rip)
    movw $0x18, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    pushq $0x10
    leaq 3f(%rip), %rax
    pushq %rax
    lretq
3:  movq $pml4, %rax
    movq %rax, %cr3
    /* clear .bss (8-byte aligned, see link.ld) */
    movq $__bss_start, %rdi
    movq $__bss_end, %rcx
    subq %rdi, %rcx
    shrq $3, %rcx
    xorl %eax, %eax
    cld
    rep stosq
    movq $stacks, %rsp
    addq $16384, %rsp
    movq %r12, %rdi
    movq %r13, %rsi
    call rt_start
4:  cli
    hlt
    jmp 4b

    .globl ap_entry64
ap_entry64:
    movw $0x18, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq ap_stack(%rip), %rsp
    call ap_main
5:  cli
    hlt
    jmp 5b

/* Interrupt stubs: 16 bytes each, vector n at isr_stubs + 16 n. */
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call isr_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq

/* SIPI trampoline: real mode -> protected mode -> long mode -> ap_entry64. */
    .section .text.tramp, "ax"
    .code16
    .globl tramp_start, tramp_end
tramp_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl (TRAMP_ADDR + tramp_gdtr - tramp_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(TRAMP_ADDR + tramp32 - tramp_start)
    .code32
tramp32:
    movw $0x18, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    ljmpl $0x10, $ap_entry64
    .balign 8
tramp_gdtr:
    .word gdt_end - gdt - 1
    .long gdt
tramp_end:

    .section .data
    .balign 16
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff   /* 0x08: 32-bit code */
    .quad 0x00af9b000000ffff   /* 0x10: 64-bit code */
    .quad 0x00cf93000000ffff   /* 0x18: data */
gdt_end:
    .balign 8
    .word 0
gdtr:
    .word gdt_end - gdt - 1
    .quad gdt

    .balign 4096
    .globl pml4
pml4:
    .quad pdpt + 3
    .fill 511, 8, 0
pdpt:
    .set i, 0
    .rept 8
    .quad pd + i * 0x1000 + 3
    .set i, i + 1
    .endr
    .fill 504, 8, 0
pd:
    .set pg, 0
    .rept 4096
    .quad (pg << 21) | 0x83
    .set pg, pg + 1
    .endr

    .section .stack, "aw", @nobits
    .balign 4096
    .globl stacks
stacks:
    .skip 16384 * 16
