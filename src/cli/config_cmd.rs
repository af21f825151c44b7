//! `hybridsync config check|show|export|import|diff`.
//!
//! Invariants: check/show/diff/export only read; import writes one new file (never over an existing
//! one without `--force`) atomically; every problem is reported in the same form as `config check`
//! ([`crate::config::ConfigIssue::render`]) and an invalid file exits with code 3.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::args::{ConfigFileArgs, DiffArgs, ExportArgs, ImportArgs};
use crate::cli::{Global, Outcome, exit};
use crate::config::{self, ConfigError, ConfigIssue, Loaded};

/// Load a file, printing its problems the way `config check` does. `Ok(None)` = invalid (printed).
pub(crate) fn load_or_report(path: &Path) -> anyhow::Result<Option<Loaded>> {
    match config::load(path) {
        Ok(loaded) => {
            print_issues(&path.display().to_string(), &loaded.warnings);
            Ok(Some(loaded))
        }
        Err(ConfigError::Invalid { file, issues }) => {
            print_issues(&file, &issues);
            eprintln!(
                "{file}: {} error(s); the file was not used.",
                issues.iter().filter(|i| i.is_error()).count()
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn print_issues(file: &str, issues: &[ConfigIssue]) {
    for i in issues {
        eprintln!("{}", i.render(file));
    }
}

fn file_or_default(file: Option<&Path>, g: &Global) -> PathBuf {
    file.map(Path::to_path_buf)
        .unwrap_or_else(|| g.config_path.clone())
}

pub(crate) fn check(g: &Global, a: &ConfigFileArgs) -> Outcome {
    let path = file_or_default(a.file.as_deref(), g);
    if a.json {
        let (valid, issues) = match config::load(&path) {
            Ok(l) => (true, l.warnings),
            Err(ConfigError::Invalid { issues, .. }) => (false, issues),
            Err(e) => return Err(e.into()),
        };
        let report = serde_json::json!({ "file": path.display().to_string(), "valid": valid, "issues": issues });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(if valid { exit::SUCCESS } else { exit::CONFIG });
    }
    match load_or_report(&path)? {
        Some(l) => {
            let c = &l.config;
            println!(
                "{}: valid ({} director{}, tenant {}, staging mode {}, {} warning(s))",
                path.display(),
                c.directories.len(),
                if c.directories.len() == 1 { "y" } else { "ies" },
                c.tenant.tenant_id,
                if c.sync.staging_mode { "on" } else { "off" },
                l.warnings.len()
            );
            Ok(exit::SUCCESS)
        }
        None => Ok(exit::CONFIG),
    }
}

pub(crate) fn show(g: &Global, a: &ConfigFileArgs) -> Outcome {
    let path = file_or_default(a.file.as_deref(), g);
    let Some(loaded) = load_or_report(&path)? else {
        return Ok(exit::CONFIG);
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&loaded.config)?)?;
    } else {
        writeln!(
            out,
            "# Effective configuration of {} (defaults filled in).\n# Secrets are shown as references; their values are never printed.\n",
            path.display()
        )?;
        write!(out, "{}", toml::to_string_pretty(&loaded.config)?)?;
    }
    Ok(exit::SUCCESS)
}

pub(crate) fn export(g: &Global, a: &ExportArgs) -> Outcome {
    let path = file_or_default(a.file.as_deref(), g);
    let Some(loaded) = load_or_report(&path)? else {
        return Ok(exit::CONFIG);
    };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let bundle = config::export::export(&loaded.config, std::time::SystemTime::now(), &host);
    let json = serde_json::to_string_pretty(&bundle)? + "\n";
    match &a.output {
        Some(out) => {
            write_atomic(out, json.as_bytes(), false)?;
            eprintln!(
                "wrote {} ({} secret reference(s) to provide on the new server)",
                out.display(),
                bundle.hybridsync_settings.secrets_to_provide.len()
            );
        }
        None => print!("{json}"),
    }
    Ok(exit::SUCCESS)
}

pub(crate) fn import(a: &ImportArgs) -> Outcome {
    let json = std::fs::read_to_string(&a.bundle)
        .with_context(|| format!("cannot read '{}'", a.bundle.display()))?;
    let (bundle, loaded) = match config::export::import(&json, a.keep_staging_off) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}: {e}", a.bundle.display());
            return Ok(exit::CONFIG);
        }
    };
    if a.output.exists() && !a.force {
        eprintln!(
            "'{}' already exists; choose another --output or add --force to replace it",
            a.output.display()
        );
        return Ok(exit::FAILURE);
    }
    let text = config::save::render_new(&loaded.config)?;
    write_atomic(&a.output, text.as_bytes(), a.force)?;
    println!(
        "wrote {} from the settings of {} (exported {})",
        a.output.display(),
        bundle.hybridsync_settings.host,
        bundle.hybridsync_settings.exported_at
    );
    if loaded.config.sync.staging_mode {
        println!(
            "staging mode is ON: this server imports and synchronizes but exports nothing until 'hybridsync staging off'"
        );
    }
    let refs = &bundle.hybridsync_settings.secrets_to_provide;
    if !refs.is_empty() {
        println!(
            "store these secrets on this server before the first cycle (hybridsync secrets set <name>):"
        );
        for r in refs {
            println!("  {r}");
        }
    }
    Ok(exit::SUCCESS)
}

pub(crate) fn diff(a: &DiffArgs) -> Outcome {
    let (Some(x), Some(y)) = (load_or_report(&a.a)?, load_or_report(&a.b)?) else {
        return Ok(exit::CONFIG);
    };
    let changes = config::diff::diff(&x.config, &y.config)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&changes)?);
    } else if changes.is_empty() {
        println!("no differences");
    } else {
        println!("--- {}\n+++ {}", a.a.display(), a.b.display());
        for c in &changes {
            println!("{c}");
        }
    }
    Ok(if changes.is_empty() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}

/// Write `bytes` to `path` through a temporary file in the same directory and a rename, keeping the
/// permissions of a file it replaces (new files: 0640).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("the output path has no file name")?;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o640);
    if !replace && path.exists() {
        anyhow::bail!("'{}' already exists", path.display());
    }
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot create '{}'", tmp.display()))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write '{}'", path.display()));
    }
    Ok(())
}
