//! Configuring: the list of actions, run one at a time as effects, each shown live (pending,
//! spinner, done, failed). The first failure stops the run and shows its fix; Ctrl+R retries from
//! the failed step; Esc asks, then cancels the running step. When every step is done the wizard
//! moves to Configuration complete.
//!
//! Invariants: this is the only page that writes anything; steps run strictly in order and a
//! step runs only after the previous one succeeded; the configuration is written after the
//! accounts exist, so it names them; admin credentials are used only by the steps that need them
//! (the connector account, the device writeback containers, the anchor writeback), never stored.

use ratatui::text::{Line, Span};

use crate::config::Config;
use crate::credentials::SecretRef;
use crate::effects::{ConfigureStep, Effect, Failure, StepOutput};
use crate::wizard::app::{Flow, State, build_config};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories::{self, AccountMode, secret_name};
use crate::wizard::pages::device_writeback; // wizfeatures
use crate::wizard::text::configure as t;
use crate::wizard::ui::{Body, Styles, spinner};

/// A step of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Create the custom state directory and use its credential store.
    UseStateDir,
    /// Create `MSOL_<hex>` in the connected forest of this index.
    CreateAccount(usize),
    /// Store the password of the existing account of the connected forest of this index.
    StoreSecret(usize),
    /// Register the application.
    RegisterApplication,
    /// Write the file.
    WriteConfig,
    /// First cycle.
    StartCycle,
    /// wizfeatures: create the device writeback containers (Enterprise Admin credentials).
    PrepareDevices,
    /// wizfeatures: write objectGUID into mS-DS-ConsistencyGuid (admin credentials).
    StampGuids,
}

/// A step's status.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Not yet.
    Pending,
    /// Running.
    Running,
    /// Done.
    Done,
    /// Failed: the run stopped here.
    Failed(Failure),
    /// Cancelled.
    Cancelled,
}

/// Configuring state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Configure {
    /// The plan and each step's status.
    pub steps: Vec<(Step, Status)>,
    /// The connector accounts created, by forest (lower case).
    pub accounts: std::collections::BTreeMap<String, (String, SecretRef)>,
    /// The forest whose account the running step creates.
    pub creating_in: Option<String>,
    /// The application registered.
    pub application: Option<(String, SecretRef)>,
    /// Lines for the Complete page.
    pub summaries: Vec<String>,
}

/// Whether a step is running.
pub fn is_running(s: &State) -> bool {
    s.configure
        .steps
        .iter()
        .any(|(_, st)| *st == Status::Running)
}

/// The connector account created in `forest`, once it exists.
pub fn created_account<'a>(s: &'a State, forest: &str) -> Option<(&'a str, &'a SecretRef)> {
    s.configure
        .accounts
        .get(&forest.to_ascii_lowercase())
        .map(|(u, r)| (u.as_str(), r))
}

/// The label of a step; with several forests the account steps name theirs.
pub fn label(s: &State, step: Step) -> String {
    let forest = |i: usize| {
        let many = s.directories.added.len() > 1;
        s.directories
            .added
            .get(i)
            .filter(|_| many)
            .map(|a| format!(" ({})", a.info.forest))
            .unwrap_or_default()
    };
    match step {
        Step::CreateAccount(i) => format!("{}{}", t::CREATE_ACCOUNT, forest(i)),
        Step::StoreSecret(i) => format!("{}{}", t::STORE_SECRET, forest(i)),
        Step::UseStateDir => format!("{} {}", t::USE_STATE_DIR, s.install.state_dir.text()),
        Step::RegisterApplication => t::REGISTER.to_string(),
        Step::WriteConfig => t::WRITE.to_string(),
        Step::StartCycle => t::FIRST_CYCLE.to_string(),
        Step::PrepareDevices => crate::wizard::text::device_writeback::PREPARE_STEP.to_string(),
        Step::StampGuids => crate::wizard::text::source_anchor::STAMP_STEP.to_string(),
    }
}

fn effect(s: &State, step: Step) -> Effect {
    let added = |i: usize| s.directories.added.get(i);
    let forest = |i: usize| added(i).map(|a| a.info.forest.clone()).unwrap_or_default();
    let password = |i: usize| {
        added(i)
            .map(|a| a.password.secret())
            .unwrap_or_else(|| crate::domain::Secret::new(String::new()))
    };
    Effect::Configure(match step {
        Step::CreateAccount(i) => ConfigureStep::CreateConnectorAccount {
            secret_name: secret_name(&forest(i)),
            forest: forest(i),
            admin_username: added(i).map(|a| a.user.clone()).unwrap_or_default(),
            admin_password: password(i),
            features: crate::provision::rights::Features::for_forest(&build_config(s), &forest(i)),
        },
        Step::StoreSecret(i) => ConfigureStep::StoreSecret {
            name: secret_name(&forest(i)),
            secret: password(i),
        },
        Step::UseStateDir => ConfigureStep::UseStateDir {
            path: std::path::PathBuf::from(s.install.state_dir.text()),
        },
        Step::RegisterApplication => ConfigureStep::RegisterApplication,
        Step::WriteConfig => ConfigureStep::WriteConfig {
            config: Box::new(build_config(s)),
            path: s.config_path.clone(),
        },
        Step::StartCycle => ConfigureStep::StartFirstCycle,
        // wizfeatures
        Step::PrepareDevices => ConfigureStep::PrepareDeviceWriteback {
            login: device_writeback::login(s).unwrap_or_else(|| crate::effects::ForestLogin {
                forest: device_writeback::chosen(s).unwrap_or_default(),
                domain_controllers: Vec::new(),
                tls: crate::config::model::TlsMode::Ldaps,
                username: String::new(),
                password: crate::effects::LoginSecret::Given(crate::domain::Secret::new(
                    String::new(),
                )),
            }),
            grant: device_writeback::grant(s),
        },
        Step::StampGuids => ConfigureStep::StampConsistencyGuids {
            searches: crate::wizard::pages::configure_source_anchor::stamp_searches(s),
            features: crate::provision::rights::Features::from_config(&build_config(s)),
        },
    })
}

fn run(s: &mut State, i: usize) -> Vec<Effect> {
    let Some(step) = s.configure.steps.get(i).map(|(k, _)| *k) else {
        return Vec::new();
    };
    let e = effect(s, step);
    s.configure.creating_in = match step {
        Step::CreateAccount(f) => s.directories.added.get(f).map(|a| a.info.forest.clone()),
        _ => None,
    };
    if let Some(slot) = s.configure.steps.get_mut(i) {
        slot.1 = Status::Running;
    }
    vec![e]
}

/// Plan the steps and start the first.
pub fn enter(s: &mut State) -> Vec<Effect> {
    let account_step = |s: &State, i: usize| {
        let a = s.directories.added.get(i)?;
        // An LDIF forest has no domain controller: no account to create, no password to store.
        if s.target.is_ldif(&a.info.forest) {
            return None;
        }
        Some(match (s.path, a.mode) {
            (crate::wizard::app::InstallPath::Express, _) | (_, AccountMode::Create) => {
                Step::CreateAccount(i)
            }
            (_, AccountMode::Existing) => Step::StoreSecret(i),
        })
    };
    if s.rerun.is_some() {
        // A rerun changes only the configuration (and the accounts of forests added on it); the
        // scheduler picks it up when the wizard releases the suspend lock.
        // wizfeatures: device writeback prepares the forest first when asked to.
        let mut steps: Vec<Step> = Vec::new();
        if s.task() == Some(crate::wizard::pages::additional_tasks::Task::ConfigureDeviceOptions)
            && s.device_options.choice
                == crate::wizard::pages::configure_device_options::DeviceOption::ConfigureWriteback
            && device_writeback::prepares(s)
        {
            steps.push(Step::PrepareDevices);
        }
        steps.extend(
            connect_directories::new_on_rerun(s)
                .into_iter()
                .filter_map(|i| account_step(s, i)),
        );
        if s.task() == Some(crate::wizard::pages::additional_tasks::Task::ConfigureSourceAnchor)
            && s.source_anchor.stamp
        {
            steps.push(Step::StampGuids);
        }
        steps.push(Step::WriteConfig);
        s.configure = Configure {
            steps: steps.into_iter().map(|k| (k, Status::Pending)).collect(),
            ..Configure::default()
        };
        return run(s, 0);
    }
    let mut steps: Vec<Step> = Vec::new();
    // A custom state directory first: every secret stored afterwards goes into its store.
    let custom_dir = &s.install;
    if s.path == crate::wizard::app::InstallPath::Custom
        && custom_dir.custom_state_dir
        && !custom_dir.state_dir.is_empty()
        && std::path::Path::new(custom_dir.state_dir.text()) != s.state_dir.as_path()
    {
        steps.push(Step::UseStateDir);
    }
    // wizfeatures: the device containers exist before the accounts are given their rights on
    // them (an LDIF forest has no domain controller to prepare).
    let device_forest = device_writeback::chosen(s).unwrap_or_default();
    if !s.target.is_ldif(&device_forest)
        && device_writeback::needed(s)
        && device_writeback::prepares(s)
    {
        steps.push(Step::PrepareDevices);
    }
    steps.extend((0..connect_directories::connected(s).len()).filter_map(|i| account_step(s, i)));
    steps.extend([Step::RegisterApplication, Step::WriteConfig]);
    if s.ready.start_sync {
        steps.push(Step::StartCycle);
    }
    s.configure = Configure {
        steps: steps.into_iter().map(|k| (k, Status::Pending)).collect(),
        ..Configure::default()
    };
    run(s, 0)
}

fn current(s: &State) -> Option<usize> {
    s.configure
        .steps
        .iter()
        .position(|(_, st)| *st != Status::Done)
}

/// A step finished.
pub fn on_step(s: &mut State, r: Result<StepOutput, Failure>) -> Flow {
    let Some(i) = current(s) else {
        return Flow::stay();
    };
    if s.configure.steps.get(i).map(|(_, st)| st) != Some(&Status::Running) {
        return Flow::stay();
    }
    let status = match r {
        Ok(out) => {
            match out {
                StepOutput::ConnectorAccount {
                    username,
                    secret_ref,
                } => {
                    s.configure.summaries.push(t::account(&username));
                    if let Some(forest) = s.configure.creating_in.take() {
                        s.configure
                            .accounts
                            .insert(forest.to_ascii_lowercase(), (username, secret_ref));
                    }
                }
                StepOutput::Application {
                    client_id,
                    certificate_ref,
                } => {
                    s.configure.summaries.push(t::application(&client_id));
                    s.configure.application = Some((client_id, certificate_ref));
                }
                StepOutput::Cycle(summary) => s
                    .configure
                    .summaries
                    .extend(summary.lines().map(str::to_string)),
                StepOutput::Stamped(n) => s
                    .configure
                    .summaries
                    .push(crate::wizard::text::source_anchor::stamped(n)),
                StepOutput::Written(_) | StepOutput::Done => {}
            }
            Status::Done
        }
        Err(f) => Status::Failed(f),
    };
    let done = status == Status::Done;
    if let Some(slot) = s.configure.steps.get_mut(i) {
        slot.1 = status;
    }
    if !done {
        return Flow::stay();
    }
    match current(s) {
        Some(next) => Flow::Stay(run(s, next)),
        None => Flow::Next(Vec::new()),
    }
}

/// The running step was cancelled.
pub fn on_cancelled(s: &mut State) {
    for (_, st) in &mut s.configure.steps {
        if *st == Status::Running {
            *st = Status::Cancelled;
        }
    }
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Retry) => match current(s) {
            Some(i)
                if matches!(
                    s.configure.steps.get(i),
                    Some((_, Status::Failed(_) | Status::Cancelled))
                ) =>
            {
                Flow::Stay(run(s, i))
            }
            _ => Flow::stay(),
        },
        Input::Action(Action::Next | Action::Back) => Flow::stay(),
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    match current(s).and_then(|i| s.configure.steps.get(i)) {
        Some((_, Status::Failed(_) | Status::Cancelled)) => vec![Action::Retry],
        _ => vec![],
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    let mut failure = None;
    for (step, status) in &s.configure.steps {
        let (sym, style) = match status {
            Status::Pending => ("·".to_string(), st.muted),
            Status::Running => (spinner(s.tick).to_string(), st.progress),
            Status::Done => ("✓".to_string(), st.success),
            Status::Failed(f) => {
                failure = Some(f);
                ("✗".to_string(), st.error)
            }
            Status::Cancelled => ("!".to_string(), st.warning),
        };
        let text_style = if *status == Status::Pending {
            st.muted
        } else {
            st.text
        };
        b.push_focus(
            Line::from(vec![
                Span::styled(format!("  {sym} "), style),
                Span::styled(label(s, *step), text_style),
            ]),
            *status == Status::Running,
        );
    }
    if let Some(f) = failure {
        b.blank();
        b.text(t::FAILED, st.error);
        b.text(format!("  {}", f.message), st.error);
        b.push_focus(
            Line::styled(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text),
            true,
        );
        b.text(t::RETRY, st.muted);
    }
    if s.configure
        .steps
        .iter()
        .any(|(_, x)| *x == Status::Cancelled)
    {
        b.blank();
        b.text(t::CANCELLED, st.warning);
    }
    b
}

/// Put what Configure created into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    if let Some((client_id, cert)) = &s.configure.application {
        c.tenant.application.client_id.clone_from(client_id);
        c.tenant.application.certificate_ref = Some(cert.clone());
    }
}
