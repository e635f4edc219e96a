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
#   v1 = get.i64 f11
#   v2 = iconst.i64 0xffffffff00000000
#   v3 = setcond.i64 geu, v1, v2
#   v4 = iconst.i64 0xffffffff7fc00000
#   v5 = select.i64 v3, v1, v4
#   v6 = trunc.i32 v5
#   v7 = get.i64 f12
#   v8 = iconst.i64 0xffffffff00000000
#   v9 = setcond.i64 geu, v7, v8
#   v10 = iconst.i64 0xffffffff7fc00000
#   v11 = select.i64 v9, v7, v10
#   v12 = trunc.i32 v11
#   v13 = fadd.i32 v6, v12
#   v14 = extend_u.i64 v13
#   v15 = iconst.i64 0xffffffff00000000
#   v16 = or.i64 v14, v15
#   set.i64 f10, v16
#   insn_start 0x10004, 0
#   v19 = iconst.i64 0x1
#   v20 = get.i64 f14
#   v21 = get.i64 f15
#   v22 = call.i64 fmul_d, v20, v21, v19
#   set.i64 f13, v22
#   insn_start 0x10008, 0
#   v25 = get.i64 f10
#   v26 = get.i64 f11
#   v27 = iconst.i64 0xffffffff00000000
#   v28 = setcond.i64 geu, v25, v27
#   v29 = iconst.i64 0xffffffff7fc00000
#   v30 = select.i64 v28, v25, v29
#   v31 = iconst.i64 0xffffffff00000000
#   v32 = setcond.i64 geu, v26, v31
#   v33 = iconst.i64 0xffffffff7fc00000
#   v34 = select.i64 v32, v26, v33
#   v35 = iconst.i64 0x80000000
#   v36 = and.i64 v34, v35
#   v37 = andn.i64 v30, v35
#   v38 = xor.i64 v36, v35
#   v39 = or.i64 v37, v38
#   set.i64 f16, v39
#   insn_start 0x1000c, 0
#   v42 = sext.i64 32, v39
#   set.i64 x10, v42
#   insn_start 0x10010, 0
#   v45 = get.i64 x11
#   v46 = iconst.i64 0x4
#   v47 = add.i64 v45, v46
#   v48 = ld.i64 u32le, v47
#   v49 = iconst.i64 0xffffffff00000000
#   v50 = or.i64 v48, v49
#   set.i64 f17, v50
#   insn_start 0x10014, 0
#   v53 = iconst.i64 0x4
#   v54 = get.i64 f1
#   v55 = get.i64 f2
#   v56 = get.i64 f3
#   v57 = call.i64 fmadd_d, v54, v55, v56, v53
#   set.i64 f0, v57
#   goto_tb 0, 0x10018
# optimized:
# block pc=0x10000 flags=0x0 size=24
#   insn_start 0x10000, 0
#   v1 = get.i64 f11
#   v2 = iconst.i64 0xffffffff00000000
#   v3 = setcond.i64 geu, v1, v2
#   v4 = iconst.i64 0xffffffff7fc00000
#   v5 = select.i64 v3, v1, v4
#   v6 = trunc.i32 v5
#   v7 = get.i64 f12
#   v8 = iconst.i64 0xffffffff00000000
#   v9 = setcond.i64 geu, v7, v8
#   v10 = iconst.i64 0xffffffff7fc00000
#   v11 = select.i64 v9, v7, v10
#   v12 = trunc.i32 v11
#   v13 = fadd.i32 v6, v12
#   v14 = extend_u.i64 v13
#   v15 = iconst.i64 0xffffffff00000000
#   v16 = or.i64 v14, v15
#   set.i64 f10, v16
#   insn_start 0x10004, 0
#   v19 = iconst.i64 0x1
#   v20 = get.i64 f14
#   v21 = get.i64 f15
#   v22 = call.i64 fmul_d, v20, v21, v19
#   set.i64 f13, v22
#   insn_start 0x10008, 0
#   v25 = get.i64 f10
#   v26 = get.i64 f11
#   v27 = iconst.i64 0xffffffff00000000
#   v28 = setcond.i64 geu, v25, v27
#   v29 = iconst.i64 0xffffffff7fc00000
#   v30 = select.i64 v28, v25, v29
#   v31 = iconst.i64 0xffffffff00000000
#   v32 = setcond.i64 geu, v26, v31
#   v33 = iconst.i64 0xffffffff7fc00000
#   v34 = select.i64 v32, v26, v33
#   v35 = iconst.i64 0x80000000
#   v36 = and.i64 v34, v35
#   v37 = andn.i64 v30, v35
#   v38 = xor.i64 v36, v35
#   v39 = or.i64 v37, v38
#   insn_start 0x1000c, 0
#   v41 = sext.i64 32, v39
#   insn_start 0x10010, 0
#   v43 = get.i64 x11
#   v44 = iconst.i64 0x4
#   v45 = add.i64 v43, v44
#   v46 = ld.i64 u32le, restart=0x10008, v45
#   set.i64 f16, v39
#   set.i64 x10, v41
#   v49 = iconst.i64 0xffffffff00000000
#   v50 = or.i64 v46, v49
#   set.i64 f17, v50
#   insn_start 0x10014, 0
#   v53 = iconst.i64 0x4
#   v54 = get.i64 f1
#   v55 = get.i64 f2
#   v56 = get.i64 f3
#   v57 = call.i64 fmadd_d, v54, v55, v56, v53
#   set.i64 f0, v57
#   goto_tb 0, 0x10018
