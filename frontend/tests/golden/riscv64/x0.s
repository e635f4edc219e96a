# x0 reads as 0 and writes to it are dropped (a hint like `add zero, ...` emits nothing).
    add     zero, a0, a1
    or      a0, zero, zero
    c.li    zero, 5
    ecall
# bytes: 33 00 b5 00 33 65 00 00 15 40 73 00 00 00
# ir:
# block pc=0x10000 flags=0x0 size=14
#   insn_start 0x10000, 0
#   v1 = get.i64 x10
#   v2 = get.i64 x11
#   v3 = add.i64 v1, v2
#   insn_start 0x10004, 0
#   v5 = iconst.i64 0x0
#   v6 = iconst.i64 0x0
#   v7 = iconst.i64 0x0
#   set.i64 x10, v7
#   insn_start 0x10008, 0
#   v10 = iconst.i64 0x0
#   v11 = iconst.i64 0x5
#   v12 = iconst.i64 0x5
#   insn_start 0x1000a, 0
#   v14 = iconst.i64 0x0
#   raise 0x8, v14
# optimized:
# block pc=0x10000 flags=0x0 size=14
#   insn_start 0x10000, 0
#   insn_start 0x10004, 0
#   v2 = iconst.i64 0x0
#   set.i64 x10, v2
#   insn_start 0x10008, 0
#   insn_start 0x1000a, 0
#   v6 = iconst.i64 0x0
#   raise 0x8, v6
