//! `hybridsync secrets set|list|delete|check`: the secrets the configuration refers to.
//!
//! Invariants: a secret value is read from a terminal without echo or from standard input, and is
//! never printed, logged or written anywhere but the credential store.

use std::io::{IsTerminal, Read};

use anyhow::Context as _;

use crate::cli::args::{SecretsArgs, SecretsCommand};
use crate::cli::{Global, Outcome, exit};
use crate::config;
use crate::credentials::{BackendChoice, CredentialStore, Env};
use crate::domain::Secret;

pub(crate) fn run(g: &Global, a: &SecretsArgs) -> Outcome {
    // The configuration may not exist yet (secrets are stored before the first config check);
    // use it only to find the state directory.
    let cfg = config::load(&g.config_path).ok().map(|l| l.config);
    let state_dir = g.state_dir(cfg.as_ref());
    let store = open_store(g, cfg.as_ref(), &state_dir)?;
    match &a.action {
        SecretsCommand::Set { name } => {
            let secret = read_secret(name)?;
            store.store(name, &secret)?;
            println!(
                "stored '{name}' (backend: {}); reference it as \"store:{name}\"",
                store.backend_name()
            );
        }
        SecretsCommand::List(j) => {
            let names = store.list()?;
            if j.json {
                println!(
                    "{}",
                    serde_json::json!({ "backend": store.backend_name(), "names": names })
                );
            } else {
                println!("backend: {}", store.backend_name());
                for n in names {
                    println!("  {n}");
                }
            }
        }
        SecretsCommand::Delete { name } => {
            store.delete(name)?;
            println!("deleted '{name}' (backend: {})", store.backend_name());
        }
        SecretsCommand::Check(j) => {
            let Some(cfg) = cfg else {
                eprintln!(
                    "cannot check references: '{}' does not load (run 'hybridsync config check')",
                    g.config_path.display()
                );
                return Ok(exit::CONFIG);
            };
            let mut ok = true;
            let mut rows = Vec::new();
            for r in config::export::secret_refs(&cfg) {
                let result = store.resolve(&r).map(|_| ());
                ok &= result.is_ok();
                rows.push(serde_json::json!({ "ref": r.to_string(), "ok": result.is_ok(), "error": result.err().map(|e| e.to_string()) }));
            }
            if j.json {
                println!(
                    "{}",
                    serde_json::json!({ "backend": store.backend_name(), "references": rows })
                );
            } else {
                println!("backend: {}", store.backend_name());
                for row in &rows {
                    let status = if row["ok"] == true {
                        "ok".to_string()
                    } else {
                        format!("MISSING: {}", row["error"].as_str().unwrap_or_default())
                    };
                    println!("  {}: {status}", row["ref"].as_str().unwrap_or_default());
                }
            }
            return Ok(if ok { exit::SUCCESS } else { exit::FAILURE });
        }
    }
    Ok(exit::SUCCESS)
}

/// The credential store as the configuration (or, without one, the defaults) asks for it.
pub(crate) fn open_store(
    g: &Global,
    cfg: Option<&config::Config>,
    state_dir: &std::path::Path,
) -> anyhow::Result<CredentialStore> {
    let choice = match cfg
        .map(|c| c.install.credential_backend)
        .unwrap_or_default()
    {
        BackendChoice::Auto if g.ctx.is_root => BackendChoice::EncryptedFile,
        other => other,
    };
    Ok(CredentialStore::open_with(
        state_dir,
        &Env::from_process(),
        choice,
    )?)
}

fn read_secret(name: &str) -> anyhow::Result<Secret> {
    if std::io::stdin().is_terminal() {
        let first = zeroize::Zeroizing::new(rpassword::prompt_password(format!(
            "secret for '{name}': "
        ))?);
        let second = zeroize::Zeroizing::new(rpassword::prompt_password("again: ")?);
        anyhow::ensure!(
            *first == *second,
            "the two entries differ; nothing was stored"
        );
        anyhow::ensure!(!first.is_empty(), "the secret is empty; nothing was stored");
        return Ok(Secret::new(first.to_string()));
    }
    let mut buf = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut buf)
        .context("cannot read the secret from standard input")?;
    let value = buf
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&buf)
        .to_string();
    anyhow::ensure!(
        !value.is_empty(),
        "standard input was empty; nothing was stored"
    );
    Ok(Secret::new(value))
}
