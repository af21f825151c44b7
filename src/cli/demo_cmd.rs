//! `hybridsync demo`: the local tenant emulator and the sample directory, with the wizard pointed
//! at them. Interactive by default (Express and Custom both work); `--unattended` walks the
//! Express path without the screens (the same pages, effects and configuration, driven by the
//! answers an admin would give) and prints the first cycle's result.
//!
//! What the demo sets up in its directory (`--state-dir DIR`, else a new directory under the
//! system's temporary directory, printed): `hybridsync.toml` (the configuration the wizard
//! writes), `sample-directory.ldif` (the forest, read from the file), `state/` (the sync store,
//! the encrypted credentials, the emulator's keys and CA), `tenant.json` (the tenant, saved when
//! the demo ends; `hybridsync --state-dir DIR/state tenant-emulator --state DIR/tenant.json`
//! serves it again), `tenant-ca.pem` and `tenant-emulator.json` (how to reach it).
//!
//! Invariants: nothing outside the demo directory is touched (the credential store is the
//! encrypted file there, never the desktop keyring); the device-code sign-in is approved by the
//! local tenant itself, because it has no browser sign-in page; the emulator is shut down, and
//! its tenant saved, on every way out.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::cli::args::DemoArgs;
use crate::cli::wizard_world::{StderrToFile, credential_store, cycle_hook};
use crate::cli::{Global, Outcome, exit};
use crate::credentials::BackendChoice;
use crate::effects::{Context, Endpoints, Runner, TokioRunner};
use crate::emulator::{self, EmulatorConfig};
use crate::wizard::app::{Message, PageId, State, update};
use crate::wizard::pages::configure::{Status, Step};
use crate::wizard::pages::connect_directories::Bind;
use crate::wizard::pages::connect_to_entra::SignIn;
use crate::wizard::pages::prerequisites::Checks;
use crate::wizard::target::{LdifForest, Target, TenantEndpoints};
use crate::wizard::terminal::{self, Outcome as Ended};
use crate::wizard::theme::Theme;

/// The sample directory shipped with hybridsync.
const SAMPLE: &str = include_str!("../../templates/sample-directory.ldif");
/// Its forest.
const SAMPLE_FOREST: &str = "contoso.example";

/// Everything the demo put where.
struct Layout {
    dir: PathBuf,
    config: PathBuf,
    state: PathBuf,
    ldif: PathBuf,
    tenant_state: PathBuf,
    ca: PathBuf,
}

impl Layout {
    fn new(dir: PathBuf) -> Self {
        Self {
            config: dir.join("hybridsync.toml"),
            state: dir.join("state"),
            ldif: dir.join("sample-directory.ldif"),
            tenant_state: dir.join("tenant.json"),
            ca: dir.join("tenant-ca.pem"),
            dir,
        }
    }
}

fn demo_dir(g: &Global) -> anyhow::Result<(PathBuf, bool)> {
    let (dir, chosen) = match &g.state_dir_flag {
        Some(d) => (d.clone(), true),
        None => (
            std::env::temp_dir().join(format!(
                "hybridsync-demo-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default()
            )),
            false,
        ),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create the demo directory {}: {e}", dir.display()))?;
    Ok((std::path::absolute(&dir)?, chosen))
}

/// Run the demo.
pub fn run(g: &Global, a: &DemoArgs) -> Outcome {
    if !a.unattended && (!std::io::stdin().is_terminal() || !std::io::stdout().is_terminal()) {
        eprintln!(
            "hybridsync demo: the wizard needs an interactive terminal; use 'hybridsync demo --unattended' to run the Express path without it. Nothing was changed."
        );
        return Ok(exit::USAGE);
    }
    // Never spread the demo over a real state directory (HYBRIDSYNC_STATE_DIR also sets the
    // flag): an existing directory must be empty or an earlier demo's.
    if let Some(dir) = &g.state_dir_flag
        && dir.is_dir()
        && !dir.join("sample-directory.ldif").exists()
        && std::fs::read_dir(dir)?.next().is_some()
    {
        eprintln!(
            "hybridsync demo: {} is not empty and not an earlier demo's directory; give a new or empty directory with --state-dir. Nothing was changed.",
            dir.display()
        );
        return Ok(exit::USAGE);
    }
    let (dir, chosen) = demo_dir(g)?;
    let l = Layout::new(dir);
    if !chosen {
        println!("demo directory: {}", l.dir.display());
    }
    if !l.ldif.exists() {
        std::fs::write(&l.ldif, SAMPLE)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut ec = EmulatorConfig::new(l.state.join("tenant-emulator"));
    ec.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    ec.ca_out = Some(l.ca.clone());
    ec.bootstrap_out = Some(l.dir.join("tenant-emulator.json"));
    ec.state_file = Some(l.tenant_state.clone());
    ec.domains = vec![SAMPLE_FOREST.to_string()];
    let running = rt
        .block_on(emulator::start(ec))
        .map_err(|e| anyhow::anyhow!("the local tenant could not start: {e}"))?;
    let b = running.bootstrap.clone();
    println!(
        "local tenant {} ({}) on {}",
        b.initial_domain, b.tenant_id, b.base_url
    );

    let log = l.state.join("wizard.log");
    let dg = Global {
        config_path: l.config.clone(),
        state_dir_flag: Some(l.state.clone()),
        ctx: g.ctx.clone(),
    };
    let context = Context {
        endpoints: Endpoints {
            authority_host: Some(b.base_url.clone()),
            graph_endpoint: Some(b.graph_base_url.clone()),
            ca_file: Some(l.ca.clone()),
            ..Endpoints::default()
        },
        sign_in_client_id: b.application.client_id.clone(),
        emulator_approves_sign_in: true,
        credentials: credential_store(&dg, &l.state, BackendChoice::EncryptedFile),
        ldif_forests: vec![(SAMPLE_FOREST.to_string(), l.ldif.clone())],
        first_cycle: Some(cycle_hook(&dg, (!a.unattended).then(|| log.clone()))),
        application_name: "hybridsync demo".to_string(),
        ..Context::default()
    };
    let mut state = State::new(l.config.clone(), l.state.clone());
    state.target = Target {
        tenant: Some(TenantEndpoints {
            authority_host: b.base_url.clone(),
            graph_endpoint: b.graph_base_url.clone(),
            ca_file: Some(l.ca.clone()),
            write_limit: None,
        }),
        ldif_forest: Some(LdifForest {
            forest: SAMPLE_FOREST.to_string(),
            file: l.ldif.clone(),
        }),
        state_dir: Some(l.state.clone()),
        credential_backend: Some(BackendChoice::EncryptedFile),
    };

    let result = if a.unattended {
        unattended(&rt, state, context)
    } else {
        let theme = Theme::default();
        let ended = {
            let _stderr = StderrToFile::new(&log);
            terminal::run_with(state, &theme, context)
        };
        println!("log of the wizard run: {}", log.display());
        ended
            .map(|o| o == Ended::Configured)
            .map_err(anyhow::Error::from)
    };
    let port = running.addr.port();
    let saved = rt.block_on(running.shutdown());
    rt.shutdown_timeout(Duration::from_millis(500));
    if let Err(e) = saved {
        eprintln!("hybridsync demo: the tenant could not be saved: {e}");
    }
    let ok = result?;
    if ok {
        println!("configuration: {}", l.config.display());
        println!(
            "state (sync store, encrypted credentials): {}",
            l.state.display()
        );
        println!("tenant saved to: {}", l.tenant_state.display());
        println!(
            "serve that tenant again: hybridsync --state-dir {} tenant-emulator --listen 127.0.0.1:{port} --state {}",
            l.state.display(),
            l.tenant_state.display()
        );
        println!(
            "then, in another terminal: hybridsync --config {} sync history",
            l.config.display()
        );
        Ok(exit::SUCCESS)
    } else {
        eprintln!(
            "hybridsync demo: the wizard did not finish; the demo directory is {}",
            l.dir.display()
        );
        Ok(exit::FAILURE)
    }
}

fn enter() -> Message {
    Message::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

fn step_label(step: Step) -> &'static str {
    use crate::wizard::text::configure as t;
    match step {
        Step::CreateAccount => t::CREATE_ACCOUNT,
        Step::StoreSecret => t::STORE_SECRET,
        Step::RegisterApplication => t::REGISTER,
        Step::WriteConfig => t::WRITE,
        Step::StartCycle => t::FIRST_CYCLE,
        Step::PrepareDevices => crate::wizard::text::device_writeback::PREPARE_STEP, // wizfeatures
        Step::StampGuids => crate::wizard::text::source_anchor::STAMP_STEP,          // wizfeatures
    }
}

/// What the driver does on the current page.
enum Act {
    /// Press Enter.
    Next,
    /// Wait for a reply.
    Wait,
    /// Finished.
    Done,
    /// Stop with this message and fix.
    Fail(String),
}

fn decide(s: &mut State) -> Act {
    match s.page {
        PageId::Welcome => {
            s.welcome.agreed = true;
            Act::Next
        }
        PageId::Prerequisites => match &s.prerequisites.checks {
            Checks::NotRun | Checks::Running => Act::Wait,
            Checks::Failed(f) => Act::Fail(format!("{} (fix: {})", f.message, f.fix)),
            Checks::Done(c) => {
                let failed: Vec<String> = c
                    .iter()
                    .filter(|c| c.status == crate::effects::CheckStatus::Fail)
                    .map(|c| format!("{}: {} (fix: {})", c.name, c.detail, c.fix))
                    .collect();
                if failed.is_empty() {
                    Act::Next
                } else {
                    Act::Fail(failed.join("; "))
                }
            }
        },
        PageId::ConnectToEntra => match &s.entra.sign_in {
            SignIn::SignedIn(_) => Act::Next,
            SignIn::Failed(f) => Act::Fail(format!("{} (fix: {})", f.message, f.fix)),
            SignIn::Cancelled => Act::Fail("the sign-in was cancelled".into()),
            SignIn::NotStarted | SignIn::Starting | SignIn::Code { .. } => Act::Wait,
        },
        PageId::ConnectDirectories => match &s.directories.bind {
            Bind::NotTried | Bind::Connected(_) => Act::Next,
            Bind::Binding => Act::Wait,
            Bind::Failed(f) => Act::Fail(format!("{} (fix: {})", f.message, f.fix)),
        },
        PageId::UpnSuffixes => {
            // The sample's contoso.local suffix cannot be verified in any tenant.
            s.upn.continue_anyway = true;
            Act::Next
        }
        PageId::Configure => {
            if let Some((_, Status::Failed(f))) = s
                .configure
                .steps
                .iter()
                .find(|(_, st)| matches!(st, Status::Failed(_)))
            {
                Act::Fail(format!("{} (fix: {})", f.message, f.fix))
            } else {
                Act::Wait
            }
        }
        PageId::Complete => Act::Done,
        _ => Act::Next,
    }
}

/// Walk the Express path with the real effects, printing progress; `Ok(true)` when complete.
fn unattended(
    rt: &tokio::runtime::Runtime,
    mut s: State,
    context: Context,
) -> anyhow::Result<bool> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::with_context(rt.handle().clone(), tx, context);
    let mut effects = update(&mut s, Message::Tick);
    let mut shown: Option<PageId> = None;
    let mut printed = 0usize;
    let mut stuck = 0u32;
    loop {
        for e in effects.drain(..) {
            runner.run(e);
        }
        if shown != Some(s.page) {
            let (k, n) = s.step();
            println!("[{k}/{n}] {}", crate::wizard::ui::page_title(s.page));
            shown = Some(s.page);
        }
        let steps = &s.configure.steps;
        while printed < steps.len()
            && steps
                .get(printed)
                .is_some_and(|(_, st)| *st == Status::Done)
        {
            if let Some((step, _)) = steps.get(printed) {
                println!("      done: {}", step_label(*step));
            }
            printed += 1;
        }
        match decide(&mut s) {
            Act::Done => {
                for line in &s.configure.summaries {
                    println!("{line}");
                }
                return Ok(true);
            }
            Act::Fail(why) => {
                eprintln!(
                    "hybridsync demo: stopped on '{}': {why}",
                    crate::wizard::ui::page_title(s.page)
                );
                return Ok(false);
            }
            Act::Next => {
                let before = s.page;
                effects = update(&mut s, enter());
                if s.page == before && effects.is_empty() {
                    stuck += 1;
                    if stuck > 3 {
                        eprintln!(
                            "hybridsync demo: the page '{}' does not move on",
                            crate::wizard::ui::page_title(s.page)
                        );
                        return Ok(false);
                    }
                } else {
                    stuck = 0;
                }
            }
            Act::Wait => {
                let reply = rt.block_on(async {
                    tokio::time::timeout(Duration::from_secs(600), rx.recv()).await
                });
                match reply {
                    Ok(Some(r)) => {
                        if let crate::effects::Reply::DeviceCode {
                            verification_uri,
                            user_code,
                        } = &r
                        {
                            println!(
                                "      sign-in code {user_code} at {verification_uri} (approved by the local tenant)"
                            );
                        }
                        effects = update(&mut s, Message::Reply(r));
                    }
                    Ok(None) => anyhow::bail!("the effects runner stopped"),
                    Err(_) => {
                        eprintln!(
                            "hybridsync demo: no answer for 10 minutes on '{}'",
                            crate::wizard::ui::page_title(s.page)
                        );
                        return Ok(false);
                    }
                }
            }
        }
    }
}
