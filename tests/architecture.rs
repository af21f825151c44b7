//! Layering rules from design.md section 2 that the compiler cannot check inside one package:
//! the engine and the emulator never import the terminal UI, and the product has one TLS stack
//! (rustls with aws-lc-rs) and never OpenSSL or ring.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use std::path::Path;

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

#[test]
fn engine_connectors_and_emulator_never_import_the_tui() {
    let root = support::root().join("src");
    let mut offenders = Vec::new();
    for module in [
        "engine",
        "connectors",
        "emulator",
        "config",
        "domain",
        "credentials",
    ] {
        let mut files = rust_files(&root.join(module));
        files.push(root.join(format!("{module}.rs")));
        for f in files {
            let Ok(src) = std::fs::read_to_string(&f) else {
                continue;
            };
            for banned in [
                "ratatui",
                "crossterm",
                "crate::wizard",
                "crate::effects",
                "crate::cli",
            ] {
                if src
                    .lines()
                    .any(|l| !l.trim_start().starts_with("//") && l.contains(banned))
                {
                    offenders.push(format!("{} uses {banned}", f.display()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn one_tls_stack_no_openssl_no_ring() {
    let lock = std::fs::read_to_string(support::root().join("Cargo.lock")).unwrap();
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|n| n.trim_end_matches('"'))
        .collect();
    assert!(names.len() > 20, "Cargo.lock was read");
    // OpenSSL and native-tls must not even be in the lock file. ring may be listed there without
    // being built: Cargo records optional dependencies named only by weak features
    // (rustls-webpki's "ring?/alloc", cargo#10801). What matters is the build graph, so for
    // ring ask Cargo whether anything depends on it.
    for banned in ["openssl", "openssl-sys", "native-tls"] {
        assert!(
            !names.contains(&banned),
            "{banned} is in Cargo.lock: use rustls with aws-lc-rs"
        );
    }
    if names.contains(&"ring") {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "tree",
                "--locked",
                "--offline",
                "-e",
                "normal,build,dev",
                "--prefix",
                "none",
                "-i",
                "ring",
            ])
            .current_dir(support::root())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.trim().is_empty(),
            "ring is built (use rustls with aws-lc-rs):\n{stdout}{stderr}"
        );
    }
}
