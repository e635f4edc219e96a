//! User mode, busybox-static for riscv64: `busybox sh -c SCRIPT` with loops, pipes,
//! redirection, subshells, functions, traps, fork/exec/wait, and the applets ls, cat, sort,
//! uniq, wc, head, tail, cut, tr, sed, awk, grep, find, xargs, md5sum, sha256sum,
//! gzip/gunzip, tar, od, expr, seq on prepared inputs. Each script runs under remu and under
//! qemu-riscv64 in identical fresh directories; stdout and the exit status must match.
//!
//! busybox sh runs most applets by executing /proc/self/exe. remu runs that as the guest
//! busybox (as Linux does); qemu-riscv64 7.2 cannot, and falls back to a PATH search. So
//! that the reference behaves natively too, qemu's PATH holds one host script per applet that
//! runs `qemu-riscv64 busybox APPLET`. Some applets (tar's gzip) search PATH themselves:
//! remu's PATH holds symbolic links APPLET -> busybox, as a native busybox installation does,
//! so remu runs them as guest programs (execve of a guest ELF, argv[0] kept), never a host
//! program.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::user_common::*;

const APPLETS: &[&str] = &[
    "sh",
    "ls",
    "cat",
    "sort",
    "uniq",
    "wc",
    "head",
    "tail",
    "cut",
    "tr",
    "sed",
    "awk",
    "grep",
    "find",
    "xargs",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "gzip",
    "gunzip",
    "tar",
    "od",
    "expr",
    "seq",
    "echo",
    "printf",
    "true",
    "false",
    "sleep",
    "kill",
    "mkdir",
    "rm",
    "diff",
    "pwd",
    "busybox",
    "test",
    "[",
    "cp",
    "mv",
    "env",
];

/// Writes the input files into `d`.
fn prepare(d: &Path) {
    let w = |name: &str, data: &[u8], age_s: u64| {
        let p = d.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, data).unwrap();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000 - age_s);
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(t).unwrap();
    };
    w("fruits.txt", b"banana\napple\ncherry\napple\ndate\nbanana\napple\n", 0);
    let nums: String = (1..=200).map(|i| format!("{i}\n")).collect();
    w("nums.txt", nums.as_bytes(), 10);
    w("words.txt", b"alpha:30:x\nbeta:4:y\ngamma:200:z\ndelta:4:w\nepsilon:17:v\n", 20);
    w("bin.dat", &(0..=255u8).collect::<Vec<u8>>(), 30);
    w("tree/a.txt", b"top level\n", 100);
    w("tree/b.log", b"log line\n", 200);
    w("tree/sub/c.txt", b"in sub\n", 300);
    w("tree/sub/deeper/d.txt", b"deep\n", 400);
    w("tree/sub/e.log", b"", 500);
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    for dir in ["tree/sub/deeper", "tree/sub", "tree"] {
        let f = std::fs::File::open(d.join(dir)).unwrap();
        f.set_modified(t).unwrap();
    }
}

/// The qemu-riscv64 applet wrappers (see the module documentation).
fn qemu_bin(qemu: &str) -> PathBuf {
    let d = tmpdir("bb-qemu-bin");
    let bb = busybox();
    for a in APPLETS {
        let p = d.join(a);
        std::fs::write(&p, format!("#!/bin/sh\nexec {qemu} {} {a} \"$@\"\n", bb.display())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    d
}

fn run_script(name: &str, script: &str) {
    let Some(q) = qemu(name) else { return };
    let bb = busybox();
    let (dr, dq) = (tmpdir(name), tmpdir(name));
    prepare(&dr);
    prepare(&dq);
    let links = tmpdir("bb-remu-bin");
    for a in APPLETS {
        std::os::unix::fs::symlink(&bb, links.join(a)).unwrap();
    }
    let qb = qemu_bin(q);
    let e = Run::new(q)
        .args([os(&bb), "sh".into(), "-c".into(), script.into()])
        .cwd(&dq)
        .env("PATH", &qb)
        .env("LC_ALL", "C")
        .run();
    assert!(!e.stdout.is_empty() || !e.status.success(), "{name}: no output at all");
    for backend in BACKENDS {
        prepare(&dr);
        let r = remu_run(["--backend".into(), (*backend).into(), os(&bb), "sh".into(), "-c".into(), script.into()])
            .cwd(&dr)
            .env("PATH", &links)
            .env("LC_ALL", "C")
            .run();
        assert_same(&format!("{name} (--backend {backend})"), &r, &e);
        let _ = std::fs::remove_dir_all(&dr);
        std::fs::create_dir_all(&dr).expect("recreate the work dir");
    }
    for d in [dr, dq, links, qb] {
        let _ = std::fs::remove_dir_all(d);
    }
}

macro_rules! bb_test {
    ($name:ident, $script:expr) => {
        #[test]
        fn $name() {
            run_script(stringify!($name), $script);
        }
    };
}

bb_test!(
    user_busybox_shell_loops,
    r#"for i in 1 2 3; do echo "i=$i"; done
n=0; while [ $n -lt 50 ]; do n=$((n+1)); done; echo n=$n
until [ $n -eq 45 ]; do n=$((n-1)); done; echo n=$n
for f in tree/*; do echo "entry $f"; done
i=0; while read line; do i=$((i+1)); echo "$i:$line"; done < fruits.txt"#
);

bb_test!(
    user_busybox_shell_pipes_and_redirection,
    r#"cat fruits.txt | sort | uniq -c | sort -rn > out.txt
cat < out.txt
echo to-stderr 1>&2 2>/dev/null
ls no-such-file 2>&1 | wc -l
{ echo a; echo b; } >> out.txt
tail -n 2 out.txt
cat <<EOF
here document, $((6*7))
EOF
exec 3> fd3.txt; echo via-fd3 >&3; exec 3>&-; cat fd3.txt
printf '%s-%d\n' x 5 | tr x y"#
);

bb_test!(
    user_busybox_shell_subshells_and_functions,
    r#"f() { local x=$1; echo "f:$x"; return 3; }
f hi; echo rc=$?
(cd tree && pwd | sed 's,.*/,,'); pwd | grep -c remu-
x=$(f inner); echo "[$x]"
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
fact 10
case abc in a*) echo glob;; *) echo no;; esac
set -- a "b c" d; echo $#; for a in "$@"; do echo "<$a>"; done
v=outer; (v=inner; echo $v); echo $v"#
);

bb_test!(
    user_busybox_shell_status_and_traps,
    r#"trap 'echo trapped on exit' EXIT
false || echo or-branch
true && echo and-branch
(exit 7); echo "subshell status $?"
sh -c 'exit 9'; echo "child status $?"
if grep -q cherry fruits.txt; then echo found; fi
! grep -q kiwi fruits.txt && echo not-found
exit 4"#
);

bb_test!(
    user_busybox_fork_exec_wait,
    r#"busybox true & wait $!; echo "bg status $?"
sh -c 'kill -9 $$'; echo "killed status $?"
sleep 5 & p=$!; kill $p; wait $p; echo "terminated status $?"
echo $(( $(seq 1 10 | wc -l) * 2 ))
sh -c 'echo nested $((1+1)); sh -c "echo deeper"'
X=1 sh -c 'echo X=$X'
( for i in 1 2 3 4; do (echo job $i) & done; wait ) | sort; echo all-done"#
);

bb_test!(
    user_busybox_ls,
    r#"ls tree; ls -a tree/sub; ls -R tree; ls -l tree | tail -n +2; ls -ld tree/sub; ls -1 -t tree"#
);

bb_test!(
    user_busybox_cat_sort_uniq,
    r#"cat fruits.txt nums.txt | head -9
sort -r fruits.txt; sort -n -r nums.txt | head -3
sort -t: -k2,2n words.txt; sort -u fruits.txt
uniq -c fruits.txt; sort fruits.txt | uniq -d; sort fruits.txt | uniq -u
cat -n fruits.txt | tail -2"#
);

bb_test!(
    user_busybox_wc_head_tail_cut_tr,
    r#"wc nums.txt; wc -c fruits.txt; wc -l < words.txt
head -n 4 nums.txt; head -c 10 fruits.txt; echo
tail -n 3 nums.txt; tail -c 8 fruits.txt; tail -n +198 nums.txt
cut -d: -f1,3 words.txt; cut -c2-4 fruits.txt
tr a-z A-Z < fruits.txt; tr -d an < fruits.txt; tr -s p < fruits.txt"#
);

bb_test!(
    user_busybox_sed_awk_grep,
    r#"sed -n 's/an/AN/gp' fruits.txt; sed '2d;4q' fruits.txt; sed -e '/apple/c\FRUIT' fruits.txt | head -3
sed = words.txt | head -4
awk -F: '{ s += $2; n++ } END { print s, n, s/n }' words.txt
awk '{ c[$1]++ } END { for (k in c) print k, c[k] }' fruits.txt | sort
awk 'BEGIN { for (i = 0; i < 20000; i++) s += i * i; printf "%d %.3f %s\n", s, sqrt(2), toupper("x") }'
awk -F: 'length($1) > 4 { print NR ": " $1 }' words.txt
grep -c 1 nums.txt; grep -n apple fruits.txt; grep -v -e a -e e fruits.txt
grep -E '^(al|ga)' words.txt; grep -i BANANA fruits.txt; grep -r deep tree; grep -l line tree/*"#
);

bb_test!(
    user_busybox_find_xargs,
    r#"find tree | sort
find tree -type f -name '*.txt' | sort
find tree -type d | sort | xargs echo
find tree -type f | sort | xargs -n 2 echo
find tree -newer tree/sub/c.txt -type f | sort
find tree -empty; find tree -type f -size -1 | wc -l
seq 1 6 | xargs -I{} echo item-{}"#
);

bb_test!(
    user_busybox_checksums,
    r#"md5sum fruits.txt nums.txt bin.dat; sha256sum fruits.txt bin.dat words.txt
sha1sum nums.txt; cat bin.dat | md5sum; md5sum fruits.txt > sums; md5sum -c sums"#
);

bb_test!(
    user_busybox_gzip_tar,
    r#"gzip -c nums.txt > n.gz; gunzip -c n.gz | md5sum; gzip -9 -c fruits.txt | gzip -dc
cp words.txt w.txt; gzip w.txt; ls w.txt* ; gunzip w.txt.gz; cat w.txt | head -1
tar cf t.tar tree; tar tf t.tar | sort
mkdir x; tar xf t.tar -C x; diff -r tree x/tree && echo extracted-same
tar czf t.tgz fruits.txt nums.txt; tar tzf t.tgz; tar xzOf t.tgz fruits.txt | tail -1"#
);

bb_test!(
    user_busybox_od_expr_seq,
    r#"od -c fruits.txt | head -2; od -A x -t x1 bin.dat | head -3; od -t d4 bin.dat | tail -2; od -b -N 8 bin.dat
expr 6 \* 7; expr length hello; expr 10 % 3; expr 5 \> 3; expr substr abcdef 2 3
seq 5; seq 2 3 11; seq -s, 1 5; seq 10 -3 1; seq -w 8 11"#
);
