# fence.i ends the block and continues at the next instruction; fence is a barrier.
    fence   rw, rw
    fence.i
    addi    a0, a0, 1
# bytes: 0f 00 30 03 0f 10 00 00 13 05 15 00
# ir:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   fence
#   insn_start 0x10004, 0
#   goto_tb 0, 0x10008
# optimized:
# block pc=0x10000 flags=0x0 size=8
#   insn_start 0x10000, 0
#   fence
#   insn_start 0x10004, 0
#   goto_tb 0, 0x10008
