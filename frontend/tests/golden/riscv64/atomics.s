# LR records the reservation; SC is one cmpxchg whose new value is selected by the address
# check and always clears the reservation; AMOs are atomic_rmw (.w sign-extends).
    lr.w.aq     a0, (a1)
    sc.w.rl     a2, a3, (a1)
    amoadd.d    a4, a5, (a1)
    amominu.w   a4, a5, (a1)
# bytes: 2f a5 05 14 2f a6 d5 1a 2f b7 f5 00 2f a7 f5 c0
# ir:
# block pc=0x10000 flags=0x0 size=16
#   insn_start 0x10000, 0
#   v1 = get.i64 x11
#   v2 = ld.i64 s32le:a, v1
#   set.i64 res_addr, v1
#   set.i64 res_val, v2
#   set.i64 x10, v2
#   fence
#   insn_start 0x10004, 0
#   v8 = get.i64 x13
#   v9 = setcond.i64 eq, v1, v1
#   v10 = select.i64 v9, v8, v2
#   v11 = cmpxchg.i64 s32le:a, v1, v2, v10
#   v12 = setcond.i64 eq, v11, v2
#   v13 = and.i64 v9, v12
#   v14 = iconst.i64 0x1
#   v15 = xor.i64 v13, v14
#   v16 = iconst.i64 0xffffffffffffffff
#   set.i64 res_addr, v16
#   set.i64 x12, v15
#   insn_start 0x10008, 0
#   v20 = get.i64 x15
#   v21 = atomic_rmw.i64 add, s64le:a, v1, v20
#   set.i64 x14, v21
#   insn_start 0x1000c, 0
#   v24 = atomic_rmw.i64 umin, s32le:a, v1, v20
#   set.i64 x14, v24
#   goto_tb 0, 0x10010
# optimized:
# block pc=0x10000 flags=0x0 size=16
#   insn_start 0x10000, 0
#   v1 = get.i64 x11
#   v2 = ld.i64 s32le:a, v1
#   set.i64 res_addr, v1
#   set.i64 res_val, v2
#   set.i64 x10, v2
#   fence
#   insn_start 0x10004, 0
#   v8 = get.i64 x13
#   v9 = setcond.i64 eq, v1, v1
#   v10 = select.i64 v9, v8, v2
#   v11 = cmpxchg.i64 s32le:a, v1, v2, v10
#   v12 = setcond.i64 eq, v11, v2
#   v13 = and.i64 v9, v12
#   v14 = iconst.i64 0x1
#   v15 = xor.i64 v13, v14
#   v16 = iconst.i64 0xffffffffffffffff
#   set.i64 res_addr, v16
#   set.i64 x12, v15
#   insn_start 0x10008, 0
#   v20 = get.i64 x15
#   v21 = atomic_rmw.i64 add, s64le:a, v1, v20
#   set.i64 x14, v21
#   insn_start 0x1000c, 0
#   v24 = atomic_rmw.i64 umin, s32le:a, v1, v20
#   set.i64 x14, v24
#   goto_tb 0, 0x10010
