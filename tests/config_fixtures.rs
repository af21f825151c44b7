//! Every file in `tests/config/valid` loads (exit 0) and every file in `tests/config/invalid`
//! fails (exit 3) with exactly the messages in its `.stderr` file: one failure mode per file, the
//! key named, the value quoted, the fix said.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use std::path::Path;

use support::{assert_matches_file, hybridsync, run, text};

fn fixtures(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(support::root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {dir}");
    files
}

fn check(file: &Path) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let rel = file.strip_prefix(support::root()).unwrap();
    run(hybridsync(home.path()).args(["config", "check"]).arg(rel))
}

#[test]
fn invalid_configs_fail_with_their_exact_messages() {
    let mut failures = Vec::new();
    for file in fixtures("tests/config/invalid") {
        let out = check(&file);
        let stderr = text(&out.stderr);
        if out.status.code() != Some(3) {
            failures.push(format!(
                "{}: exit {:?}, stderr:\n{stderr}",
                file.display(),
                out.status.code()
            ));
            continue;
        }
        assert!(
            out.stdout.is_empty(),
            "{}: nothing on stdout for an invalid file",
            file.display()
        );
        let result = std::panic::catch_unwind(|| {
            assert_matches_file(&stderr, &file.with_extension("stderr"))
        });
        if result.is_err() {
            failures.push(format!("{}: stderr differs (see above)", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_configs_load() {
    for file in fixtures("tests/config/valid") {
        let out = check(&file);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {stderr}", file.display());
        assert!(
            text(&out.stdout).contains(": valid ("),
            "{}",
            text(&out.stdout)
        );
        // Warnings are part of the contract too.
        assert_matches_file(&stderr, &file.with_extension("stderr"));
    }
}

#[test]
fn every_invalid_fixture_has_one_documented_failure_mode() {
    for file in fixtures("tests/config/invalid") {
        let body = std::fs::read_to_string(&file).unwrap();
        assert!(
            body.starts_with("# Invalid: "),
            "{} must start with '# Invalid: <why>'",
            file.display()
        );
    }
}
