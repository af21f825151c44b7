//! The effects on this machine: the prerequisite checks that make sense before any configuration
//! exists (directories writable, free disk space, no cycle holding the store, the identity
//! platform reachable over HTTPS, LDIF forests readable) and writing the configuration file.
//!
//! Invariants: the checks write nothing but a probe file that is removed at once; the file is
//! written through [`config::save`](crate::config::save), so comments survive a rerun.

use std::path::Path;

use super::context::Context;
use super::{CheckResult, CheckStatus, Failure, StepOutput};
use crate::config::Config;
use crate::preflight::local::{LocalTarget, check_local};
use crate::preflight::report::Status;

/// The checks of the Prerequisites page.
pub(crate) async fn checks(
    ctx: &Context,
    config_path: &Path,
    state_dir: &Path,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let config_dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for (name, dir, fix) in [
        (
            "Configuration directory is writable",
            config_dir,
            "run the wizard as root, or point --config at a directory you own",
        ),
        (
            "State directory is writable",
            state_dir.to_path_buf(),
            "run the wizard as root, or point --state-dir at a directory you own",
        ),
    ] {
        out.push(match writable(&dir).await {
            Ok(()) => pass(name, dir.display()),
            Err(e) => fail(name, format!("{}: {e}", dir.display()), fix),
        });
    }
    // The other machine checks of `hybridsync preflight` (the configuration file is about to be
    // written; the state directory was probed above by creating it).
    let target = LocalTarget {
        config: (config_path.to_path_buf(), Ok(())),
        state_dir: state_dir.to_path_buf(),
        database: state_dir.join(&Config::default().store.path),
    };
    let local = tokio::task::spawn_blocking(move || check_local(&target))
        .await
        .unwrap_or_default();
    for c in local
        .into_iter()
        .filter(|c| !["local.config", "local.state_dir"].contains(&c.id.as_str()))
    {
        out.push(CheckResult {
            name: c.title,
            status: match c.status {
                Status::Pass => CheckStatus::Pass,
                Status::Warn | Status::Skip => CheckStatus::Warn,
                Status::Fail => CheckStatus::Fail,
            },
            detail: c.found,
            fix: c.fix,
        });
    }
    out.push(identity_platform(ctx).await);
    for (forest, file) in &ctx.ldif_forests {
        let name = format!("Forest {forest} is readable from its LDIF file");
        out.push(match tokio::fs::metadata(file).await {
            Ok(m) if m.is_file() => pass(&name, file.display()),
            Ok(_) => fail(
                &name,
                format!("{} is not a file", file.display()),
                "give the LDIF file's path",
            ),
            Err(e) => fail(
                &name,
                format!("{}: {e}", file.display()),
                "give the path of an existing LDIF file",
            ),
        });
    }
    out
}

fn pass(name: &str, detail: impl std::fmt::Display) -> CheckResult {
    CheckResult {
        name: name.into(),
        status: CheckStatus::Pass,
        detail: detail.to_string(),
        fix: String::new(),
    }
}

fn warn(name: &str, detail: impl Into<String>, fix: &str) -> CheckResult {
    CheckResult {
        status: CheckStatus::Warn,
        ..fail(name, detail, fix)
    }
}

fn fail(name: &str, detail: impl Into<String>, fix: &str) -> CheckResult {
    CheckResult {
        name: name.into(),
        status: CheckStatus::Fail,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// The identity platform answers its OpenID configuration over verified HTTPS.
async fn identity_platform(ctx: &Context) -> CheckResult {
    let name = "Microsoft Entra identity platform is reachable";
    let authority = ctx.endpoints.authority();
    let url = format!(
        "{authority}/{}/v2.0/.well-known/openid-configuration",
        ctx.sign_in_tenant
    );
    let fix = format!(
        "the sign-in on the next pages needs it: allow outbound HTTPS to {authority} \
         (firewall, proxy: HTTPS_PROXY), and check the machine's clock and CA certificates"
    );
    let http = match crate::connectors::entra::http_client(ctx.endpoints.ca_file.as_deref()) {
        Ok(h) => h,
        Err(e) => return fail(name, e.to_string(), &fix),
    };
    // A warning, not a failure: the sign-in page says exactly what fails and retries in place
    // once the network is fixed.
    match http
        .get(&url)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => pass(name, &authority),
        Ok(r) => warn(name, format!("{url}: HTTP {}", r.status()), &fix),
        Err(e) => warn(name, format!("{url}: {}", error_chain(&e)), &fix),
    }
}

/// An error with its causes, for messages.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Whether `dir` exists (or can be created) and accepts a new file.
pub(crate) async fn writable(dir: &Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let probe = dir.join(format!(".hybridsync-probe-{}", std::process::id()));
    tokio::fs::write(&probe, b"").await?;
    tokio::fs::remove_file(&probe).await
}

/// Write the configuration file (comments kept when it exists).
pub(crate) async fn write_config(config: &Config, path: &Path) -> Result<StepOutput, Failure> {
    let fail = |what: String| {
        Failure::new(
            what,
            "check that the directory exists and is writable, or choose another file with --config",
        )
    };
    let text = match tokio::fs::read_to_string(path).await {
        Ok(existing) => crate::config::save::update_document(&existing, config),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::config::save::render_new(config)
        }
        Err(e) => return Err(fail(format!("cannot read {}: {e}", path.display()))),
    }
    .map_err(|e| Failure::new(e.to_string(), "go back and correct the answers"))?;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    tokio::fs::write(path, text)
        .await
        .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
    Ok(StepOutput::Written(path.to_path_buf()))
}
