//! Golden IR tests: each `tests/golden/*.ir` file holds an input block and, as `; ` comment
//! lines after `; optimized:`, the expected output of the optimizer. The test also checks that
//! printing and parsing round-trip, that both blocks verify, and that the optimized block
//! behaves exactly like the input on random states (the evaluator runs both), except where a
//! load that register writes were moved past faults: there the registers and memory must be
//! the input's at the start of the restart instruction.
//! `REMU_BLESS=1 cargo test -p ir --test golden` rewrites the expected outputs.

use ir::backend::TbExit;
use ir::testing::TestEnv;
use ir::{opt, text, verify};

fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn interesting(seed: &mut u64) -> u64 {
    match rng(seed) % 6 {
        0 => 0,
        1 => u64::MAX,
        2 => 1 << (rng(seed) % 64),
        3 => rng(seed) % 0x4000 + 0x1000,
        4 => (rng(seed) as i64 % 64) as u64,
        _ => rng(seed),
    }
}

fn run_eval(block: &ir::Block, decls: &ir::Decls, env: &mut TestEnv) -> TbExit {
    // SAFETY: TestEnv is a live environment laid out as TestEnv::decls describes.
    unsafe { ir::eval::eval(block, decls, env.ptr()) }
}

/// `block` up to the instruction at `pc` (exclusive), ending there with `goto_tb 0, pc`.
fn truncated(block: &ir::Block, pc: u64, decls: &ir::Decls) -> ir::Block {
    let text = text::print(block, decls);
    let cut = text.find(&format!("insn_start {pc:#x},")).expect("restart pc is an instruction of the block");
    let head = &text[..cut];
    text::parse(&format!("{}goto_tb 0, {pc:#x}\n", head), decls).expect("truncated block parses")
}

#[test]
fn golden_files() {
    let decls = TestEnv::decls();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("REMU_BLESS").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("golden dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    assert!(files.len() >= 5, "golden files missing");
    let mut failures = Vec::new();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "ir")) {
        let src = std::fs::read_to_string(path).expect("read golden file");
        let (input, expected) = match src.split_once("; optimized:\n") {
            Some((i, e)) => (
                i.to_string(),
                e.lines().map(|l| l.strip_prefix("; ").unwrap_or(l)).collect::<Vec<_>>().join("\n") + "\n",
            ),
            None => (src.clone(), String::new()),
        };
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let block = text::parse(&input, &decls).unwrap_or_else(|e| panic!("{name}: {e}"));
        verify::verify(&block, &decls).unwrap_or_else(|e| panic!("{name}: input does not verify: {e}"));
        let printed = text::print(&block, &decls);
        let reparsed = text::parse(&printed, &decls).unwrap_or_else(|e| panic!("{name}: reparse: {e}"));
        assert_eq!(text::print(&reparsed, &decls), printed, "{name}: print/parse round trip");
        let mut o = block.clone();
        opt::optimize_deferring(&mut o);
        verify::verify(&o, &decls).unwrap_or_else(|e| panic!("{name}: optimized block does not verify: {e}"));
        let got = text::print(&o, &decls);
        if bless {
            std::fs::write(
                path,
                format!("{}; optimized:\n{}", input, got.lines().map(|l| format!("; {l}\n")).collect::<String>()),
            )
            .expect("bless");
        } else if got != expected {
            let diff = similar::TextDiff::from_lines(&expected, &got);
            failures.push(format!("{name}:\n{}", diff.unified_diff().header("expected", "got")));
        }
        // equivalence on random states
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ name.len() as u64;
        for _ in 0..200 {
            let mut e1 = TestEnv::new();
            let mut regs = [0u64; 16];
            for r in regs.iter_mut() {
                *r = interesting(&mut seed);
            }
            let (w0, w1) = (interesting(&mut seed) & 0xffff_ffff, interesting(&mut seed) & 0xffff_ffff);
            let mut mem = vec![0u8; ir::testing::MEM_SIZE];
            for b in mem.iter_mut() {
                *b = rng(&mut seed) as u8;
            }
            let mut e2 = TestEnv::new();
            for e in [&mut e1, &mut e2] {
                e.state().r = regs;
                e.state().w = [w0, w1];
                e.mem().copy_from_slice(&mem);
            }
            let x2 = run_eval(&o, &decls, &mut e2);
            let replay = x2 == TbExit::Exception && e2.header().exception_replay != 0;
            // a load that the optimizer moved register writes past faulted: the registers
            // must be those of the input block at the start of the restart instruction
            let input = if replay { truncated(&block, e2.header().exception_pc, &decls) } else { block.clone() };
            let x1 = run_eval(&input, &decls, &mut e1);
            if replay {
                assert_eq!(x1, TbExit::Chain { slot: 0, from: 0 }, "{name}: restart pc inside the input block");
                assert_eq!(e1.state().r, e2.state().r, "{name}: registers at the restart pc differ for {regs:x?}");
                assert!(e1.mem() == e2.mem(), "{name}: memory differs at the restart pc");
                continue;
            }
            assert_eq!(x1, x2, "{name}: exit differs for regs {regs:x?}");
            assert_eq!(e1.state().r, e2.state().r, "{name}: registers differ for {regs:x?}");
            assert_eq!(e1.state().w, e2.state().w, "{name}: 32-bit registers differ");
            assert_eq!(e1.state().pc, e2.state().pc, "{name}: pc differs");
            assert!(e1.mem() == e2.mem(), "{name}: memory differs for {regs:x?}");
            if x1 == TbExit::Exception {
                let (h1, h2) = (e1.header(), e2.header());
                assert_eq!(
                    (h1.exception, h1.exception_aux, h1.exception_pc),
                    (h2.exception, h2.exception_aux, h2.exception_pc),
                    "{name}: exception differs"
                );
            }
        }
    }
    assert!(failures.is_empty(), "golden mismatches (REMU_BLESS=1 to accept):\n{}", failures.join("\n"));
}

#[test]
fn memop_matrix_on_evaluator() {
    let decls = TestEnv::decls();
    ir::testing::memop_matrix(&mut |b, env| run_eval(b, &decls, env));
}
