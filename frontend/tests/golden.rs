//! Golden IR tests of the RISC-V frontend: each `tests/golden/riscv64/*.s` is an assembly
//! source with its encoded bytes committed in a `# bytes:` line, followed by the expected IR
//! of the block starting at `# pc:` (default 0x10000) before (`# ir:`) and after
//! (`# optimized:`) `ir::opt::optimize`. Both must verify, and the printed IR must parse back.
//!
//! `REMU_BLESS=1 cargo test -p frontend --test golden` rewrites the expected IR;
//! `guests/riscv64/fill_insn_bytes.py frontend/tests/golden/riscv64/*.s` reassembles the bytes
//! (the cross assembler is not needed to run the tests).

use frontend::riscv64::Riscv64;
use frontend::{Frontend, SliceReader, TranslateLimits};
use ir::{opt, text, verify, Builder};

struct Golden {
    head: String,
    bytes: Vec<u8>,
    pc: u64,
    ir: String,
    optimized: String,
}

fn parse(src: &str) -> Golden {
    let mut head = String::new();
    let mut bytes = Vec::new();
    let mut pc = 0x10000;
    let (mut ir, mut optimized) = (String::new(), String::new());
    let mut section = 0;
    for line in src.lines() {
        if let Some(b) = line.strip_prefix("# bytes:") {
            bytes = b.split_whitespace().map(|h| u8::from_str_radix(h, 16).expect("hex byte")).collect();
            section = 1;
            continue;
        }
        if let Some(p) = line.strip_prefix("# pc:") {
            pc = u64::from_str_radix(p.trim().trim_start_matches("0x"), 16).expect("hex pc");
            continue;
        }
        match (section, line) {
            (_, "# ir:") => section = 2,
            (_, "# optimized:") => section = 3,
            (0, _) => {
                head.push_str(line);
                head.push('\n');
            }
            (2, l) => {
                ir.push_str(l.strip_prefix("# ").unwrap_or(l));
                ir.push('\n');
            }
            (3, l) => {
                optimized.push_str(l.strip_prefix("# ").unwrap_or(l));
                optimized.push('\n');
            }
            _ => {}
        }
    }
    Golden { head, bytes, pc, ir, optimized }
}

fn commented(s: &str) -> String {
    s.lines().map(|l| format!("# {l}\n")).collect()
}

#[test]
fn golden_files() {
    let fe = Riscv64::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/riscv64");
    let bless = std::env::var_os("REMU_BLESS").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "golden files missing");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        let g = parse(&std::fs::read_to_string(path).expect("read golden file"));
        assert!(!g.bytes.is_empty(), "{name}: no '# bytes:' line");
        let mut b = Builder::new(fe.decls());
        b.start(g.pc, 0);
        let mut r = SliceReader { base: g.pc, bytes: &g.bytes };
        let size = fe.translate(g.pc, 0, &mut r, &mut b, TranslateLimits::default());
        let block = b.finish(size);
        verify::verify(&block, fe.decls()).unwrap_or_else(|e| panic!("{name}: IR does not verify: {e}"));
        let got_ir = text::print(&block, fe.decls());
        let reparsed = text::parse(&got_ir, fe.decls()).unwrap_or_else(|e| panic!("{name}: reparse: {e}"));
        assert_eq!(text::print(&reparsed, fe.decls()), got_ir, "{name}: print/parse round trip");
        let mut o = block.clone();
        opt::optimize_deferring(&mut o);
        verify::verify(&o, fe.decls()).unwrap_or_else(|e| panic!("{name}: optimized IR does not verify: {e}"));
        let got_opt = text::print(&o, fe.decls());
        if bless {
            let bytes: Vec<String> = g.bytes.iter().map(|b| format!("{b:02x}")).collect();
            let pc = if g.pc == 0x10000 { String::new() } else { format!("# pc: {:#x}\n", g.pc) };
            let out = format!(
                "{}# bytes: {}\n{pc}# ir:\n{}# optimized:\n{}",
                g.head,
                bytes.join(" "),
                commented(&got_ir),
                commented(&got_opt)
            );
            std::fs::write(path, out).expect("bless");
            continue;
        }
        for (what, want, got) in [("ir", &g.ir, &got_ir), ("optimized", &g.optimized, &got_opt)] {
            if want != got {
                let diff = similar::TextDiff::from_lines(want.as_str(), got.as_str());
                failures.push(format!("{name} ({what}):\n{}", diff.unified_diff().header("expected", "got")));
            }
        }
    }
    assert!(failures.is_empty(), "golden mismatches (REMU_BLESS=1 to accept):\n{}", failures.join("\n"));
}
