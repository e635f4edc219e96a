/* The PVH ELF note (Xen XEN_ELFNOTE_PHYS32_ENTRY = 18): "enter at pvh_start32 in 32-bit
   protected mode with paging off, ebx = hvm_start_info". Linked only into the *-pvh.elf
   variants, which remu and QEMU's microvm both boot. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4          /* name size */
    .long 4          /* descriptor size */
    .long 18         /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start32
