# Zicsr on the FP CSRs and the counters.
    frflags a0
    fsrm    a1, a2
    csrrsi  a3, fcsr, 4
    rdtime  a4
    rdinstret a5
# bytes: 73 25 10 00 f3 15 26 00 f3 66 32 00 73 27 10 c0 f3 27 20 c0
# ir:
# block pc=0x10000 flags=0x0 size=20
#   insn_start 0x10000, 0
#   v1 = iconst.i64 0x0
#   v2 = get.i64 fflags
#   set.i64 x10, v2
#   insn_start 0x10004, 0
#   v5 = get.i64 x12
#   v6 = get.i64 frm
#   v7 = iconst.i64 0x7
#   v8 = and.i64 v5, v7
#   set.i64 frm, v8
#   set.i64 x11, v6
#   insn_start 0x10008, 0
#   v12 = iconst.i64 0x4
#   v13 = get.i64 fflags
#   v14 = get.i64 frm
#   v15 = iconst.i64 0x5
#   v16 = shl.i64 v14, v15
#   v17 = or.i64 v16, v13
#   v18 = or.i64 v17, v12
#   v19 = iconst.i64 0x1f
#   v20 = and.i64 v18, v19
#   set.i64 fflags, v20
#   v22 = iconst.i64 0x5
#   v23 = shr_u.i64 v18, v22
#   v24 = iconst.i64 0x7
#   v25 = and.i64 v23, v24
#   set.i64 frm, v25
#   set.i64 x13, v17
#   insn_start 0x1000c, 0
#   v29 = iconst.i64 0x0
#   v30 = call.i64 rdtime
#   set.i64 x14, v30
#   insn_start 0x10010, 0
#   v33 = iconst.i64 0x0
#   v34 = get.i64 instret
#   set.i64 x15, v34
#   goto_tb 0, 0x10014
# optimized:
# block pc=0x10000 flags=0x0 size=20
#   insn_start 0x10000, 0
#   v1 = get.i64 fflags
#   set.i64 x10, v1
#   insn_start 0x10004, 0
#   v4 = get.i64 x12
#   v5 = get.i64 frm
#   v6 = iconst.i64 0x7
#   v7 = and.i64 v4, v6
#   set.i64 x11, v5
#   insn_start 0x10008, 0
#   v10 = iconst.i64 0x4
#   v11 = iconst.i64 0x5
#   v12 = shl.i64 v7, v11
#   v13 = or.i64 v12, v1
#   v14 = or.i64 v13, v10
#   v15 = iconst.i64 0x1f
#   v16 = and.i64 v14, v15
#   set.i64 fflags, v16
#   v18 = iconst.i64 0x5
#   v19 = shr_u.i64 v14, v18
#   v20 = iconst.i64 0x7
#   v21 = and.i64 v19, v20
#   set.i64 frm, v21
#   set.i64 x13, v13
#   insn_start 0x1000c, 0
#   v25 = call.i64 rdtime
#   set.i64 x14, v25
#   insn_start 0x10010, 0
#   v28 = get.i64 instret
#   set.i64 x15, v28
#   goto_tb 0, 0x10014
