//! User mode, dynamically linked programs with `-L SYSROOT` (Debian riscv64 packages): the
//! dynamic loader and libraries come from the sysroot. coreutils `ls -l`, `sort`,
//! `sha256sum`; `xz` (multi-threaded) and `gzip` round trips; `sqlite3` on a SQL script;
//! `python3.13` with json, re, zlib, hashlib and classes. Outputs must match qemu-riscv64's
//! with the same sysroot.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::user_common::*;

fn prog(name: &str) -> PathBuf {
    let p = sysroot().join("usr/bin").join(name);
    assert!(p.exists(), "{} is missing from the sysroot", p.display());
    p
}

fn prepare(d: &Path) {
    let files: [(&str, Vec<u8>); 4] = [
        ("people.txt", b"carol 35 paris\nalice 30 london\nbob 25 berlin\ndave 30 rome\nerin 41 oslo\n".to_vec()),
        ("data.bin", (0..20_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()),
        ("text.txt", "the quick brown fox jumps over the lazy dog\n".repeat(500).into_bytes()),
        ("sub/inner.txt", b"inner\n".to_vec()),
    ];
    for (k, (name, data)) in files.iter().enumerate() {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_650_000_000 + 3600 * k as u64);
        std::fs::File::options().write(true).open(&p).unwrap().set_modified(t).unwrap();
    }
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_640_000_000);
    std::fs::File::open(d.join("sub")).unwrap().set_modified(t).unwrap();
}

/// Runs `program args` with -L under remu and qemu in fresh copies of the inputs.
fn both(test: &str, program: &Path, args: &[&str], stdin: &[u8]) -> Option<(Out, Out)> {
    let q = qemu(test)?;
    let root = sysroot();
    let (dr, dq) = (tmpdir(test), tmpdir(test));
    prepare(&dr);
    prepare(&dq);
    let mut qa: Vec<OsString> = vec!["-L".into(), os(&root), os(program)];
    qa.extend(args.iter().map(OsString::from));
    // the same working directory contents, environment and input for every run
    let setup = |run: Run, dir: &Path| {
        run.cwd(dir)
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(stdin)
            .timeout(Duration::from_secs(300))
    };
    let e = setup(Run::new(q).args(qa), &dq).run();
    let _ = std::fs::remove_dir_all(&dq);
    let mut last = None;
    for backend in BACKENDS {
        let _ = std::fs::remove_dir_all(&dr);
        std::fs::create_dir_all(&dr).expect("work dir");
        prepare(&dr);
        let mut ra: Vec<OsString> = vec!["--backend".into(), (*backend).into(), "-L".into(), os(&root), os(program)];
        ra.extend(args.iter().map(OsString::from));
        let r = setup(remu_run(ra), &dr).run();
        let what = format!("{test} (--backend {backend})");
        assert_same(&what, &r, &e);
        assert!(r.status.success(), "{what}: {} {}", r.how(), r.err());
        last = Some(r);
    }
    let _ = std::fs::remove_dir_all(dr);
    last.map(|r| (r, e))
}

#[test]
fn user_sysroot_coreutils_ls_sort_sha256sum() {
    let t = "user_sysroot_coreutils";
    if let Some((r, _)) =
        both(t, &prog("ls"), &["-l", "-R", "--full-time", "people.txt", "data.bin", "text.txt", "sub"], b"")
    {
        assert!(r.out().contains("people.txt") && r.out().contains("inner.txt"), "{}", r.out());
    }
    both(t, &prog("sort"), &["-k2,2n", "-k1,1r", "people.txt"], b"");
    both(t, &prog("sort"), &["-u"], b"b\na\nc\na\n");
    if let Some((r, _)) = both(t, &prog("sha256sum"), &["people.txt", "data.bin", "text.txt"], b"") {
        assert_eq!(r.out().lines().count(), 3);
    }
}

#[test]
fn user_sysroot_xz_round_trip() {
    let t = "user_sysroot_xz";
    let Some((c, _)) = both(t, &prog("xz"), &["-T2", "-6", "-c", "text.txt"], b"") else { return };
    assert!(c.stdout.starts_with(b"\xfd7zXZ"), "xz output");
    let Some((d, _)) = both(t, &prog("xz"), &["-d", "-c"], &c.stdout) else { return };
    assert_eq!(d.stdout, "the quick brown fox jumps over the lazy dog\n".repeat(500).into_bytes());
    both(t, &prog("xz"), &["-t", "-v"], &c.stdout);
}

#[test]
fn user_sysroot_gzip_round_trip() {
    let t = "user_sysroot_gzip";
    let Some((c, _)) = both(t, &prog("gzip"), &["-n", "-9", "-c", "data.bin"], b"") else { return };
    let Some((d, _)) = both(t, &prog("gzip"), &["-d", "-c"], &c.stdout) else { return };
    assert_eq!(d.stdout.len(), 20_000);
}

#[test]
fn user_sysroot_sqlite3_script() {
    let sql = b"create table p(name text, age int, city text);\n\
        insert into p values ('carol',35,'paris'),('alice',30,'london'),('bob',25,'berlin'),('dave',30,'rome');\n\
        create index p_age on p(age);\n\
        select age, count(*), group_concat(name, '+') from p group by age order by age;\n\
        with recursive c(x) as (select 1 union all select x+1 from c where x < 1000) select sum(x), avg(x) from c;\n\
        select printf('%.3f', 1.0/7), upper('riscv'), hex(zeroblob(4)), length(randomblob(8));\n\
        update p set age = age + 1 where city like '%o%';\n\
        select * from p order by name;\n";
    if let Some((r, _)) = both("user_sysroot_sqlite3", &prog("sqlite3"), &[":memory:"], sql) {
        assert!(r.out().contains("500500"), "{}", r.out());
    }
}

const PY: &str = r#"
import json, re, zlib, hashlib, sys

class Shape:
    def __init__(self, name, sides):
        self.name, self.sides = name, sides
    def area(self):
        raise NotImplementedError
    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

class Square(Shape):
    def __init__(self, side):
        super().__init__("square", 4)
        self.side = side
    def area(self):
        return self.side ** 2

class Triangle(Shape):
    def __init__(self, b, h):
        super().__init__("triangle", 3)
        self.b, self.h = b, h
    def area(self):
        return self.b * self.h / 2

shapes = [Square(3), Triangle(4, 5), Square(1.5)]
print(sorted(shapes, key=lambda s: s.area()))
doc = {"shapes": [{"kind": s.name, "area": s.area(), "sides": s.sides} for s in shapes], "ok": True, "n": None}
text = json.dumps(doc, sort_keys=True, indent=1)
print(text)
assert json.loads(text) == doc
print(re.findall(r"(\w+)@(\w+)\.org", "ann@x.org, bob@y.org; nobody@z.com"))
print(re.sub(r"\s+", " ", "  many   spaces\there  ").strip())
data = text.encode() * 50
z = zlib.compress(data, 9)
print(len(data), len(z), zlib.decompress(z) == data, hex(zlib.crc32(data)), zlib.adler32(data))
print(hashlib.sha256(data).hexdigest())
print(hashlib.md5(b"remu").hexdigest(), hashlib.sha1(b"").hexdigest())
print(sum(i * i for i in range(10000)), 2 ** 100, 10 / 4, 7 // 2, round(2.675, 2))
print(sys.version_info[:2], sys.byteorder, sys.maxsize)
try:
    Shape("x", 0).area()
except NotImplementedError:
    print("abstract")
"#;

#[test]
fn user_sysroot_python3_script() {
    let r = both("user_sysroot_python3", &prog("python3.13"), &["-B", "-c", PY], b"");
    if let Some((r, _)) = r {
        assert!(r.out().contains("abstract"), "{}", r.out());
        assert!(r.out().contains(" little "), "{}", r.out());
    }
}
