# Floating point: dyn rounding checks frm at run time; static rm is a constant; single
# operands of sign injection are unboxed in IR; moves and loads box or sign-extend.
    fadd.s      fa0, fa1, fa2
    fmul.d      fa3, fa4, fa5, rtz
    fsgnjn.s    fa6, fa0, fa1
    fmv.x.w     a0, fa6
    flw         fa7, 4(a1)
    fmadd.d     ft0, ft1, ft2, ft3, rmm
# bytes: 53 f5 c5 00 d3 16 f7 12 53 18 b5 20 53 05 08 e0 87 a8 45 00 43 c0 20 1a
# ir:
# block pc=0x10000 flags=0x0 size=24
#   insn_start 0x10000, 0
#   v1 = get.i64 frm
#   v2 = iconst.i64 0x4
#   v3 = setcond.i64 gtu, v1, v2
#   exit_if raise 0x2, v3
#   v5 = get.i64 f11
#   v6 = get.i64 f12
#   v7 = call.i64 fadd_s, v5, v6, v1
#   set.i64 f10, v7
#   insn_start 0x10004, 0
#   v10 = iconst.i64 0x1
#   v11 = get.i64 f14
#   v12 = get.i64 f15
#   v13 = call.i64 fmul_d, v11, v12, v10
#   set.i64 f13, v13
#   insn_start 0x10008, 0
#   v16 = get.i64 f10
#   v17 = get.i64 f11
#   v18 = iconst.i64 0xffffffff00000000
#   v19 = setcond.i64 geu, v16, v18
#   v20 = iconst.i64 0xffffffff7fc00000
#   v21 = select.i64 v19, v16, v20
#   v22 = iconst.i64 0xffffffff00000000
#   v23 = setcond.i64 geu, v17, v22
#   v24 = iconst.i64 0xffffffff7fc00000
#   v25 = select.i64 v23, v17, v24
#   v26 = iconst.i64 0x80000000
#   v27 = and.i64 v25, v26
#   v28 = andn.i64 v21, v26
#   v29 = xor.i64 v27, v26
#   v30 = or.i64 v28, v29
#   set.i64 f16, v30
#   insn_start 0x1000c, 0
#   v33 = get.i64 f16
#   v34 = sext.i64 32, v33
#   set.i64 x10, v34
#   insn_start 0x10010, 0
#   v37 = get.i64 x11
#   v38 = iconst.i64 0x4
#   v39 = add.i64 v37, v38
#   v40 = ld.i64 u32le, v39
#   v41 = iconst.i64 0xffffffff00000000
#   v42 = or.i64 v40, v41
#   set.i64 f17, v42
#   insn_start 0x10014, 0
#   v45 = iconst.i64 0x4
#   v46 = get.i64 f1
#   v47 = get.i64 f2
#   v48 = get.i64 f3
#   v49 = call.i64 fmadd_d, v46, v47, v48, v45
#   set.i64 f0, v49
#   goto_tb 0, 0x10018
# optimized:
# block pc=0x10000 flags=0x0 size=24
#   insn_start 0x10000, 0
#   v1 = get.i64 frm
#   v2 = iconst.i64 0x4
#   v3 = setcond.i64 gtu, v1, v2
#   exit_if raise 0x2, v3
#   v5 = get.i64 f11
#   v6 = get.i64 f12
#   v7 = call.i64 fadd_s, v5, v6, v1
#   set.i64 f10, v7
#   insn_start 0x10004, 0
#   v10 = iconst.i64 0x1
#   v11 = get.i64 f14
#   v12 = get.i64 f15
#   v13 = call.i64 fmul_d, v11, v12, v10
#   set.i64 f13, v13
#   insn_start 0x10008, 0
#   v16 = get.i64 f10
#   v17 = get.i64 f11
#   v18 = iconst.i64 0xffffffff00000000
#   v19 = setcond.i64 geu, v16, v18
#   v20 = iconst.i64 0xffffffff7fc00000
#   v21 = select.i64 v19, v16, v20
#   v22 = iconst.i64 0xffffffff00000000
#   v23 = setcond.i64 geu, v17, v22
#   v24 = iconst.i64 0xffffffff7fc00000
#   v25 = select.i64 v23, v17, v24
#   v26 = iconst.i64 0x80000000
#   v27 = and.i64 v25, v26
#   v28 = andn.i64 v21, v26
#   v29 = xor.i64 v27, v26
#   v30 = or.i64 v28, v29
#   set.i64 f16, v30
#   insn_start 0x1000c, 0
#   v33 = sext.i64 32, v30
#   set.i64 x10, v33
#   insn_start 0x10010, 0
#   v36 = get.i64 x11
#   v37 = iconst.i64 0x4
#   v38 = add.i64 v36, v37
#   v39 = ld.i64 u32le, v38
#   v40 = iconst.i64 0xffffffff00000000
#   v41 = or.i64 v39, v40
#   set.i64 f17, v41
#   insn_start 0x10014, 0
#   v44 = iconst.i64 0x4
#   v45 = get.i64 f1
#   v46 = get.i64 f2
#   v47 = get.i64 f3
#   v48 = call.i64 fmadd_d, v45, v46, v47, v44
#   set.i64 f0, v48
#   goto_tb 0, 0x10018
