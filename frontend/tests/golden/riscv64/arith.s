# Integer arithmetic and the W forms: sign extension of 32-bit results, immediates folded,
# get/set forwarding between instructions; a compressed addi in the middle.
    addi    a0, a1, -5
    add     a2, a0, a0
    slli    a3, a2, 63
    sraiw   a4, a3, 3
    c.addi  a4, 1
    mulw    a5, a4, a0
    sub     a5, a5, zero
# bytes: 13 85 b5 ff 33 06 a5 00 93 16 f6 03 1b d7 36 40 05 07 bb 07 a7 02 b3 87 07 40
# ir:
# block pc=0x10000 flags=0x0 size=26
#   insn_start 0x10000, 0
#   v1 = get.i64 x11
#   v2 = iconst.i64 0xfffffffffffffffb
#   v3 = add.i64 v1, v2
#   set.i64 x10, v3
#   insn_start 0x10004, 0
#   v6 = add.i64 v3, v3
#   set.i64 x12, v6
#   insn_start 0x10008, 0
#   v9 = iconst.i64 0x3f
#   v10 = shl.i64 v6, v9
#   set.i64 x13, v10
#   insn_start 0x1000c, 0
#   v13 = trunc.i32 v10
#   v14 = iconst.i32 0x3
#   v15 = shr_s.i32 v13, v14
#   v16 = extend_s.i64 v15
#   set.i64 x14, v16
#   insn_start 0x10010, 0
#   v19 = iconst.i64 0x1
#   v20 = add.i64 v16, v19
#   set.i64 x14, v20
#   insn_start 0x10012, 0
#   v23 = trunc.i32 v20
#   v24 = trunc.i32 v3
#   v25 = mul.i32 v23, v24
#   v26 = extend_s.i64 v25
#   set.i64 x15, v26
#   insn_start 0x10016, 0
#   v29 = iconst.i64 0x0
#   goto_tb 0, 0x1001a
# optimized:
# block pc=0x10000 flags=0x0 size=26
#   insn_start 0x10000, 0
#   v1 = get.i64 x11
#   v2 = iconst.i64 0xfffffffffffffffb
#   v3 = add.i64 v1, v2
#   set.i64 x10, v3
#   insn_start 0x10004, 0
#   v6 = add.i64 v3, v3
#   set.i64 x12, v6
#   insn_start 0x10008, 0
#   v9 = iconst.i64 0x3f
#   v10 = shl.i64 v6, v9
#   set.i64 x13, v10
#   insn_start 0x1000c, 0
#   v13 = trunc.i32 v10
#   v14 = iconst.i32 0x3
#   v15 = shr_s.i32 v13, v14
#   v16 = extend_s.i64 v15
#   insn_start 0x10010, 0
#   v18 = iconst.i64 0x1
#   v19 = add.i64 v16, v18
#   set.i64 x14, v19
#   insn_start 0x10012, 0
#   v22 = trunc.i32 v19
#   v23 = trunc.i32 v3
#   v24 = mul.i32 v22, v23
#   v25 = extend_s.i64 v24
#   set.i64 x15, v25
#   insn_start 0x10016, 0
#   goto_tb 0, 0x1001a
