/* hello: the smallest useful Linux program: write one line to stdout, exit 0.
 * The default guest of README's first command (remu run guests/riscv64/hello). */
    .file   "hello.S"
    .section .text
    .globl _start
_start:
    li      a0, 1               /* fd: stdout */
    la      a1, msg             /* buf */
    li      a2, 27              /* count: length of msg */
    li      a7, 64              /* write */
    ecall
    li      a0, 0               /* status */
    li      a7, 93              /* exit */
    ecall

    .section .rodata
msg:
    .ascii  "Hello from remu (riscv64)!\n"
msg_end:
