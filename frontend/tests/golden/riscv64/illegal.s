# An illegal instruction (a CSR that does not exist at user level) after a valid one: the
# block raises illegal-instruction at its pc with the instruction bits, nothing of it emitted.
    addi    a0, a0, 1
    csrr    a1, mstatus
    addi    a0, a0, 1
# bytes: 13 05 15 00 f3 25 00 30 13 05 15 00
# ir:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   v1 = get.i64 x10
#   v2 = iconst.i64 0x1
#   v3 = add.i64 v1, v2
#   set.i64 x10, v3
#   insn_start 0x10004, 0
#   v6 = iconst.i64 0x300025f3
#   raise 0x2, v6
# optimized:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   v1 = get.i64 x10
#   v2 = iconst.i64 0x1
#   v3 = add.i64 v1, v2
#   set.i64 x10, v3
#   insn_start 0x10004, 0
#   v6 = iconst.i64 0x300025f3
#   raise 0x2, v6
