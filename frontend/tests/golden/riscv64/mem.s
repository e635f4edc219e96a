# Loads and stores: little-endian MemOps, unaligned allowed, sign/zero extension per opcode;
# compressed stack accesses.
    lb      a0, -1(a1)
    lhu     a2, 2(a1)
    lwu     a3, 4(a1)
    sd      a3, 8(sp)
    c.ldsp  a4, 8(sp)
    c.sw    a2, 4(a1)
# bytes: 03 85 f5 ff 03 d6 25 00 83 e6 45 00 23 34 d1 00 22 67 d0 c1
# ir:
# block pc=0x10000 flags=0x0 size=20
#   insn_start 0x10000, 0
#   v1 = get.i64 x11
#   v2 = iconst.i64 0xffffffffffffffff
#   v3 = add.i64 v1, v2
#   v4 = ld.i64 s8le, v3
#   set.i64 x10, v4
#   insn_start 0x10004, 0
#   v7 = iconst.i64 0x2
#   v8 = add.i64 v1, v7
#   v9 = ld.i64 u16le, v8
#   set.i64 x12, v9
#   insn_start 0x10008, 0
#   v12 = iconst.i64 0x4
#   v13 = add.i64 v1, v12
#   v14 = ld.i64 u32le, v13
#   set.i64 x13, v14
#   insn_start 0x1000c, 0
#   v17 = get.i64 x2
#   v18 = iconst.i64 0x8
#   v19 = add.i64 v17, v18
#   st.i64 u64le, v19, v14
#   insn_start 0x10010, 0
#   v22 = iconst.i64 0x8
#   v23 = add.i64 v17, v22
#   v24 = ld.i64 u64le, v23
#   set.i64 x14, v24
#   insn_start 0x10012, 0
#   v27 = iconst.i64 0x4
#   v28 = add.i64 v1, v27
#   st.i64 u32le, v28, v9
#   goto_tb 0, 0x10014
# optimized:
# block pc=0x10000 flags=0x0 size=20
#   insn_start 0x10000, 0
#   v1 = get.i64 x11
#   v2 = iconst.i64 0xffffffffffffffff
#   v3 = add.i64 v1, v2
#   v4 = ld.i64 s8le, v3
#   insn_start 0x10004, 0
#   v6 = iconst.i64 0x2
#   v7 = add.i64 v1, v6
#   v8 = ld.i64 u16le, restart=0x10000, v7
#   insn_start 0x10008, 0
#   v10 = iconst.i64 0x4
#   v11 = add.i64 v1, v10
#   v12 = ld.i64 u32le, restart=0x10000, v11
#   set.i64 x10, v4
#   set.i64 x12, v8
#   set.i64 x13, v12
#   insn_start 0x1000c, 0
#   v17 = get.i64 x2
#   v18 = iconst.i64 0x8
#   v19 = add.i64 v17, v18
#   st.i64 u64le, v19, v12
#   insn_start 0x10010, 0
#   v22 = iconst.i64 0x8
#   v23 = add.i64 v17, v22
#   v24 = ld.i64 u64le, v23
#   set.i64 x14, v24
#   insn_start 0x10012, 0
#   v27 = iconst.i64 0x4
#   v28 = add.i64 v1, v27
#   st.i64 u32le, v28, v8
#   goto_tb 0, 0x10014
