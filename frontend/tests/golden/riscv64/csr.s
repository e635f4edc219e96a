# Zicsr on the FP CSRs and the counters.
    frflags a0
    fsrm    a1, a2
    csrrsi  a3, fcsr, 4
    rdtime  a4
    rdinstret a5
# bytes: 73 25 10 00 f3 15 26 00 f3 66 32 00 73 27 10 c0 f3 27 20 c0
# ir:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   v1 = iconst.i64 0x0
#   v2 = fpflags.i64
#   v3 = get.i64 fflags
#   v4 = or.i64 v3, v2
#   set.i64 fflags, v4
#   set.i64 x10, v4
#   insn_start 0x10004, 0
#   v8 = get.i64 x12
#   v9 = get.i64 frm
#   v10 = iconst.i64 0x7
#   v11 = and.i64 v8, v10
#   set.i64 frm, v11
#   set.i64 x11, v9
#   v14 = iconst.i64 0x10008
#   exit_tb v14
# optimized:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   v1 = fpflags.i64
#   v2 = get.i64 fflags
#   v3 = or.i64 v2, v1
#   set.i64 fflags, v3
#   set.i64 x10, v3
#   insn_start 0x10004, 0
#   v7 = get.i64 x12
#   v8 = get.i64 frm
#   v9 = iconst.i64 0x7
#   v10 = and.i64 v7, v9
#   set.i64 frm, v10
#   set.i64 x11, v8
#   v13 = iconst.i64 0x10008
#   exit_tb v13
