# jalr computes its target before writing the link register (rd == rs1 here) and clears bit 0.
    jalr    ra, 3(ra)
# bytes: e7 80 30 00
# ir:
# block pc=0x10000 flags=0x0 size=4
#   insn_start 0x10000, 0
#   v1 = get.i64 x1
#   v2 = iconst.i64 0x3
#   v3 = add.i64 v1, v2
#   v4 = iconst.i64 0xfffffffffffffffe
#   v5 = and.i64 v3, v4
#   v6 = iconst.i64 0x10004
#   set.i64 x1, v6
#   goto_ptr v5
# optimized:
# block pc=0x10000 flags=0x0 size=4
#   insn_start 0x10000, 0
#   v1 = get.i64 x1
#   v2 = iconst.i64 0x3
#   v3 = add.i64 v1, v2
#   v4 = iconst.i64 0xfffffffffffffffe
#   v5 = and.i64 v3, v4
#   v6 = iconst.i64 0x10004
#   set.i64 x1, v6
#   goto_ptr v5
