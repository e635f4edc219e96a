# A conditional branch ends the block: taken side exit through slot 0 to the target, the
# fall-through chained through slot 1.
    addi    t0, t0, 1
1:  blt     t0, t1, 1b
# bytes: 93 82 12 00 63 c0 62 00
# ir:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   v1 = get.i64 x5
#   v2 = iconst.i64 0x1
#   v3 = add.i64 v1, v2
#   set.i64 x5, v3
#   insn_start 0x10004, 0
#   v6 = get.i64 x6
#   v7 = setcond.i64 lt, v3, v6
#   exit_if chain 0, 0x10004, v7
#   goto_tb 1, 0x10008
# optimized:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   v1 = get.i64 x5
#   v2 = iconst.i64 0x1
#   v3 = add.i64 v1, v2
#   set.i64 x5, v3
#   insn_start 0x10004, 0
#   v6 = get.i64 x6
#   v7 = setcond.i64 lt, v3, v6
#   exit_if chain 0, 0x10004, v7
#   goto_tb 1, 0x10008
