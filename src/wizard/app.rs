//! The wizard's state as plain data, the messages it reacts to, and [`update`]: the one function
//! that changes the state. Rendering reads the state ([`crate::wizard::ui`]); effects requested
//! by pages are returned from [`update`] and executed elsewhere ([`crate::effects`]).
//!
//! Invariants: [`update`] never performs I/O and never blocks; the same sequence of messages
//! always gives the same state and effects (so tests can script whole runs); going back keeps
//! every answer; nothing is written before the Configure page; the page order is a function of
//! the state ([`sequence`]), so "step k of n" is always right.

use std::path::PathBuf;

use ratatui::crossterm::event::KeyEvent;

use crate::config::Config;
use crate::config::model::InstallMode;
use crate::effects::{Effect, Reply, not_connected_failure};
use crate::wizard::keys::{self, Action, Input};
use crate::wizard::pages::additional_tasks::{self, Task};
use crate::wizard::pages::{
    change_user_sign_in, configure, configure_staging_mode, connect_directories, connect_to_entra,
    customize_sync_options, directory_extensions, express_or_custom, filter_users_and_devices,
    group_writeback, identifying_users, optional_features, ou_filtering, prerequisites,
    ready_to_configure, refresh_directory_schema, troubleshoot, upn_suffixes, user_sign_in,
    view_configuration, welcome,
};
// wizfeatures
use crate::wizard::pages::{
    app_filtering, attribute_filtering, configure_device_options, configure_source_anchor,
    device_container, device_writeback, hybrid_join,
};

/// The pages, named as Entra Connect names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageId {
    /// Welcome: the license acknowledgement.
    Welcome,
    /// Prerequisite checks.
    Prerequisites,
    /// Express Settings: express or customize.
    ExpressSettings,
    /// Custom: User sign-in (the sign-in method and Seamless single sign-on).
    UserSignIn,
    /// Connect to Microsoft Entra ID (device-code sign-in).
    ConnectToEntra,
    /// Connect your directories.
    ConnectDirectories,
    /// Microsoft Entra sign-in configuration (UPN suffixes).
    UpnSuffixes,
    /// Domain and OU filtering.
    OuFiltering,
    /// Uniquely identifying your users.
    IdentifyingUsers,
    /// Filter users and devices.
    FilterUsersAndDevices,
    /// Optional features.
    OptionalFeatures,
    /// Directory extensions (when directory extension attribute sync is ticked).
    DirectoryExtensions,
    /// Group writeback: its target OU (when group writeback is ticked).
    GroupWriteback,
    /// Ready to configure.
    ReadyToConfigure,
    /// Configuring.
    Configure,
    /// Configuration complete.
    Complete,
    /// Rerun: the Additional tasks menu.
    AdditionalTasks,
    /// Rerun: View or export current configuration.
    ViewConfiguration,
    /// Rerun: Customize synchronization options (then the first-run pages, pre-filled).
    CustomizeSyncOptions,
    /// Rerun: Refresh directory schema.
    RefreshDirectorySchema,
    /// Rerun: Configure staging mode.
    ConfigureStagingMode,
    /// Rerun: Change user sign-in.
    ChangeUserSignIn,
    /// Rerun: Troubleshoot.
    Troubleshoot,
    // --- install options ---
    /// Custom: Install required components (state directory, database, service account,
    /// import synchronization settings).
    InstallComponents,
    // --- end install options ---
    // ---- wizfeatures (begin)
    /// App and attribute filtering, page 1: the cloud services.
    AppFiltering,
    /// App and attribute filtering, page 2: the attributes.
    AttributeFiltering,
    /// Device writeback, page 1: the writeback forest.
    DeviceWritebackForest,
    /// Device writeback, page 2: the device container.
    DeviceContainer,
    /// Rerun: Configure device options.
    DeviceOptions,
    /// Rerun: Configure Microsoft Entra hybrid join (SCP configuration).
    HybridJoin,
    /// Rerun: Configure source anchor.
    ConfigureSourceAnchor,
    // ---- wizfeatures (end)
}

/// Express or Custom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstallPath {
    /// Use express settings.
    #[default]
    Express,
    /// Customize.
    Custom,
}

/// Whether the wizard is running, asking before quitting, or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quit {
    /// Running.
    #[default]
    No,
    /// The "Quit?" dialog is open.
    Asking,
    /// Done: the loop should restore the terminal and exit.
    Done,
}

/// The whole wizard state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The page on screen.
    pub page: PageId,
    /// Express or Custom.
    pub path: InstallPath,
    /// The configuration file the wizard writes.
    pub config_path: PathBuf,
    /// The state directory.
    pub state_dir: PathBuf,
    /// Where the answers point (the demo's local tenant and LDIF forest; default: Entra ID).
    pub target: crate::wizard::target::Target,
    /// Welcome.
    pub welcome: welcome::Welcome,
    /// Prerequisites.
    pub prerequisites: prerequisites::Prerequisites,
    /// Express Settings.
    pub express: express_or_custom::ExpressOrCustom,
    /// Connect to Entra ID.
    pub entra: connect_to_entra::ConnectToEntra,
    /// Connect your directories.
    pub directories: connect_directories::ConnectDirectories,
    /// UPN suffixes.
    pub upn: upn_suffixes::UpnSuffixes,
    /// Domain and OU filtering.
    pub ous: ou_filtering::OuFiltering,
    /// Uniquely identifying your users.
    pub identity: identifying_users::IdentifyingUsers,
    /// Filter users and devices.
    pub filter: filter_users_and_devices::FilterUsersAndDevices,
    /// Optional features.
    pub features: optional_features::OptionalFeatures,
    /// Directory extensions.
    pub extensions: directory_extensions::DirectoryExtensions,
    /// Group writeback's OU.
    pub group_wb: group_writeback::GroupWriteback,
    /// Ready to configure.
    pub ready: ready_to_configure::ReadyToConfigure,
    /// Configuring.
    pub configure: configure::Configure,
    /// Set when the wizard runs over an existing configuration (the Additional tasks menu).
    pub rerun: Option<Box<Rerun>>,
    /// Additional tasks.
    pub tasks: additional_tasks::AdditionalTasks,
    /// View configuration.
    pub view_config: view_configuration::ViewConfiguration,
    /// Customize synchronization options.
    pub customize: customize_sync_options::CustomizeSyncOptions,
    /// Refresh directory schema.
    pub schema: refresh_directory_schema::RefreshDirectorySchema,
    /// Configure staging mode.
    pub staging: configure_staging_mode::ConfigureStagingMode,
    /// Change user sign-in.
    pub user_sign_in: change_user_sign_in::ChangeUserSignIn,
    /// Troubleshoot.
    pub troubleshoot: troubleshoot::Troubleshoot,
    // --- install options ---
    /// Install required components.
    pub install: crate::wizard::pages::install_components::InstallComponents,
    // --- end install options ---
    /// wizfeatures: app and attribute filtering (both pages).
    pub app_filter: app_filtering::AppFiltering,
    /// wizfeatures: device writeback (forest and container pages).
    pub device: device_writeback::DeviceWriteback,
    /// wizfeatures: Configure device options.
    pub device_options: configure_device_options::ConfigureDeviceOptions,
    /// wizfeatures: SCP configuration.
    pub hybrid_join: hybrid_join::HybridJoin,
    /// wizfeatures: Configure source anchor.
    pub source_anchor: configure_source_anchor::ConfigureSourceAnchor,
    /// Quit state.
    pub quit: Quit,
    /// Animation frame for spinners (advanced by [`Message::Tick`]).
    pub tick: u64,
}

impl State {
    /// A first-run wizard writing `config_path`, with state in `state_dir`.
    pub fn new(config_path: PathBuf, state_dir: PathBuf) -> Self {
        Self {
            page: PageId::Welcome,
            path: InstallPath::Express,
            config_path,
            state_dir,
            target: Default::default(),
            welcome: Default::default(),
            prerequisites: Default::default(),
            express: Default::default(),
            entra: Default::default(),
            directories: Default::default(),
            upn: Default::default(),
            ous: Default::default(),
            identity: Default::default(),
            filter: Default::default(),
            features: Default::default(),
            extensions: Default::default(),
            group_wb: Default::default(),
            ready: Default::default(),
            configure: Default::default(),
            rerun: None,
            tasks: Default::default(),
            view_config: Default::default(),
            customize: Default::default(),
            schema: Default::default(),
            staging: Default::default(),
            user_sign_in: Default::default(),
            troubleshoot: Default::default(),
            install: Default::default(),
            app_filter: Default::default(),
            device: Default::default(),
            device_options: Default::default(),
            hybrid_join: Default::default(),
            source_anchor: Default::default(),
            quit: Quit::No,
            tick: 0,
        }
    }

    /// A rerun over the configuration `loaded` (read from `config_path`): the wizard opens the
    /// Additional tasks menu and every page is pre-filled from the configuration.
    pub fn rerun(config_path: PathBuf, state_dir: PathBuf, loaded: Config) -> Self {
        let mut s = Self::new(config_path, state_dir);
        s.page = PageId::AdditionalTasks;
        s.path = match loaded.install.mode {
            InstallMode::Express => InstallPath::Express,
            InstallMode::Custom => InstallPath::Custom,
        };
        s.rerun = Some(Box::new(Rerun { loaded, task: None }));
        additional_tasks::prefill(&mut s);
        s
    }

    /// The configuration the rerun started from.
    pub fn loaded(&self) -> Option<&Config> {
        self.rerun.as_ref().map(|r| &r.loaded)
    }

    /// The task chosen on the Additional tasks menu.
    pub fn task(&self) -> Option<Task> {
        self.rerun.as_ref().and_then(|r| r.task)
    }

    /// The position of the current page in [`sequence`] (1-based) and the number of pages.
    pub fn step(&self) -> (usize, usize) {
        let seq = sequence(self);
        let k = seq
            .iter()
            .position(|p| *p == self.page)
            .map_or(0, |i| i + 1);
        (k, seq.len())
    }
}

/// A rerun over an existing configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Rerun {
    /// The configuration as loaded (what every change is made against).
    pub loaded: Config,
    /// The task chosen on the menu, once chosen.
    pub task: Option<Task>,
}

/// Everything the wizard reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A key press.
    Key(KeyEvent),
    /// An effect answered.
    Reply(Reply),
    /// Time passed (spinners).
    Tick,
    /// The terminal was resized (the next draw uses the new size).
    Resize(u16, u16),
}

/// What a page's key or reply handler asks the app to do next.
#[derive(Debug, PartialEq)]
pub enum Flow {
    /// The page did not use the input.
    Unhandled,
    /// Stay on the page, running these effects.
    Stay(Vec<Effect>),
    /// Go to the next page of the [`sequence`], running these effects first.
    Next(Vec<Effect>),
    /// Go to the previous page.
    Back,
}

impl Flow {
    /// Stay without effects.
    pub fn stay() -> Self {
        Flow::Stay(Vec::new())
    }
}

/// The pages of the current path, in order.
pub fn sequence(s: &State) -> Vec<PageId> {
    use PageId::*;
    if s.rerun.is_some() {
        return additional_tasks::sequence(s);
    }
    let mut seq = vec![Welcome, Prerequisites, ExpressSettings];
    // Entra Connect asks for the sign-in method before the Entra ID sign-in on the Custom path.
    if s.path == InstallPath::Custom {
        // --- install options ---
        seq.push(InstallComponents);
        // --- end install options ---
        seq.push(UserSignIn);
    }
    seq.extend([ConnectToEntra, ConnectDirectories]);
    match s.path {
        InstallPath::Express => {
            if upn_suffixes::needed(s) {
                seq.push(UpnSuffixes);
            }
        }
        InstallPath::Custom => {
            seq.extend([
                UpnSuffixes,
                OuFiltering,
                IdentifyingUsers,
                FilterUsersAndDevices,
                OptionalFeatures,
            ]);
            // wizfeatures
            if app_filtering::needed(s) {
                seq.extend([AppFiltering, AttributeFiltering]);
            }
            if directory_extensions::needed(s) {
                seq.push(DirectoryExtensions);
            }
            if group_writeback::needed(s) {
                seq.push(GroupWriteback);
            }
            // wizfeatures
            if device_writeback::needed(s) {
                seq.extend([DeviceWritebackForest, DeviceContainer]);
            }
        }
    }
    seq.extend([ReadyToConfigure, Configure, Complete]);
    seq
}

/// The one state transition: apply `msg` to `s` and return the effects to run.
pub fn update(s: &mut State, msg: Message) -> Vec<Effect> {
    match msg {
        Message::Tick => {
            s.tick = s.tick.wrapping_add(1);
            Vec::new()
        }
        Message::Resize(..) => Vec::new(),
        Message::Reply(reply) => {
            let flow = on_reply(s, reply);
            apply(s, flow)
        }
        Message::Key(key) => on_key(s, &key),
    }
}

fn on_key(s: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let action = keys::action_for(key);
    if action == Some(Action::Abort) {
        s.quit = Quit::Done;
        return cancel_running(s);
    }
    if s.quit == Quit::Asking {
        return match action {
            Some(Action::Yes) => {
                s.quit = Quit::Done;
                cancel_running(s)
            }
            Some(Action::No | Action::Quit) => {
                s.quit = Quit::No;
                Vec::new()
            }
            _ => Vec::new(),
        };
    }
    let mut flow = Flow::Unhandled;
    if let Some(typed) = keys::typed(key) {
        flow = page_input(s, typed);
    }
    if flow == Flow::Unhandled {
        match action {
            Some(Action::Quit) => {
                if s.page == PageId::Complete {
                    s.quit = Quit::Done;
                } else {
                    s.quit = Quit::Asking;
                }
                return Vec::new();
            }
            Some(a) => flow = page_input(s, Input::Action(a)),
            None => {}
        }
        if flow == Flow::Unhandled && action == Some(Action::Back) {
            flow = Flow::Back;
        }
    }
    apply(s, flow)
}

fn cancel_running(s: &State) -> Vec<Effect> {
    let mut out = Vec::new();
    if connect_to_entra::is_waiting(s) {
        out.push(Effect::Cancel(crate::effects::EffectKind::SignIn));
    }
    if configure::is_running(s) {
        out.push(Effect::Cancel(crate::effects::EffectKind::Configure));
    }
    out
}

fn apply(s: &mut State, flow: Flow) -> Vec<Effect> {
    match flow {
        Flow::Unhandled => Vec::new(),
        Flow::Stay(effects) => effects,
        Flow::Next(mut effects) => {
            let seq = sequence(s);
            if let Some(next) = seq
                .iter()
                .position(|p| *p == s.page)
                .and_then(|i| seq.get(i + 1))
            {
                s.page = *next;
                effects.extend(enter(s));
            }
            effects
        }
        Flow::Back => {
            if matches!(
                s.page,
                PageId::Configure | PageId::Complete | PageId::AdditionalTasks
            ) {
                return Vec::new();
            }
            let seq = sequence(s);
            if let Some(prev) = seq
                .iter()
                .position(|p| *p == s.page)
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| seq.get(i))
            {
                s.page = *prev;
            }
            Vec::new()
        }
    }
}

/// Effects a page starts when it is entered going forward.
fn enter(s: &mut State) -> Vec<Effect> {
    match s.page {
        PageId::Prerequisites => prerequisites::enter(s),
        PageId::ConnectToEntra => connect_to_entra::enter(s),
        PageId::UpnSuffixes => upn_suffixes::enter(s),
        PageId::OuFiltering => ou_filtering::enter(s),
        PageId::DirectoryExtensions => directory_extensions::enter(s),
        PageId::GroupWriteback => group_writeback::enter(s),
        PageId::ReadyToConfigure => ready_to_configure::enter(s),
        PageId::Configure => configure::enter(s),
        PageId::ConfigureStagingMode => configure_staging_mode::enter(s),
        PageId::ViewConfiguration => view_configuration::enter(s),
        PageId::RefreshDirectorySchema => refresh_directory_schema::enter(s),
        // wizfeatures
        PageId::AttributeFiltering => attribute_filtering::enter(s),
        PageId::ConfigureSourceAnchor => configure_source_anchor::enter(s),
        _ => Vec::new(),
    }
}

fn page_input(s: &mut State, input: Input) -> Flow {
    match s.page {
        PageId::Welcome => welcome::input(s, input),
        PageId::Prerequisites => prerequisites::input(s, input),
        PageId::ExpressSettings => express_or_custom::input(s, input),
        PageId::ConnectToEntra => connect_to_entra::input(s, input),
        PageId::ConnectDirectories => connect_directories::input(s, input),
        PageId::UpnSuffixes => upn_suffixes::input(s, input),
        PageId::OuFiltering => ou_filtering::input(s, input),
        PageId::IdentifyingUsers => identifying_users::input(s, input),
        PageId::FilterUsersAndDevices => filter_users_and_devices::input(s, input),
        PageId::OptionalFeatures => optional_features::input(s, input),
        PageId::DirectoryExtensions => directory_extensions::input(s, input),
        PageId::GroupWriteback => group_writeback::input(s, input),
        PageId::ReadyToConfigure => ready_to_configure::input(s, input),
        PageId::Configure => configure::input(s, input),
        PageId::Complete => match input {
            Input::Action(Action::Next) => {
                s.quit = Quit::Done;
                Flow::stay()
            }
            _ => Flow::Unhandled,
        },
        PageId::AdditionalTasks => additional_tasks::input(s, input),
        PageId::ViewConfiguration => view_configuration::input(s, input),
        PageId::CustomizeSyncOptions => customize_sync_options::input(s, input),
        PageId::RefreshDirectorySchema => refresh_directory_schema::input(s, input),
        PageId::ConfigureStagingMode => configure_staging_mode::input(s, input),
        PageId::ChangeUserSignIn => change_user_sign_in::input(s, input),
        PageId::UserSignIn => user_sign_in::input(s, input),
        PageId::Troubleshoot => troubleshoot::input(s, input),
        PageId::InstallComponents => crate::wizard::pages::install_components::input(s, input),
        // wizfeatures
        PageId::AppFiltering => app_filtering::input(s, input),
        PageId::AttributeFiltering => attribute_filtering::input(s, input),
        PageId::DeviceWritebackForest => device_writeback::input(s, input),
        PageId::DeviceContainer => device_container::input(s, input),
        PageId::DeviceOptions => configure_device_options::input(s, input),
        PageId::HybridJoin => hybrid_join::input(s, input),
        PageId::ConfigureSourceAnchor => configure_source_anchor::input(s, input),
    }
}

/// The actions the current page offers, for the footer.
pub fn hints(s: &State) -> Vec<Action> {
    if s.quit == Quit::Asking {
        return vec![Action::Yes, Action::No];
    }
    let mut a = match s.page {
        PageId::Welcome => welcome::hints(s),
        PageId::Prerequisites => prerequisites::hints(s),
        PageId::ExpressSettings => express_or_custom::hints(s),
        PageId::ConnectToEntra => connect_to_entra::hints(s),
        PageId::ConnectDirectories => connect_directories::hints(s),
        PageId::UpnSuffixes => upn_suffixes::hints(s),
        PageId::OuFiltering => ou_filtering::hints(s),
        PageId::IdentifyingUsers => identifying_users::hints(s),
        PageId::FilterUsersAndDevices => filter_users_and_devices::hints(s),
        PageId::OptionalFeatures => optional_features::hints(s),
        PageId::DirectoryExtensions => directory_extensions::hints(s),
        PageId::GroupWriteback => group_writeback::hints(s),
        PageId::ReadyToConfigure => ready_to_configure::hints(s),
        PageId::Configure => configure::hints(s),
        PageId::Complete => vec![],
        PageId::AdditionalTasks => additional_tasks::hints(s),
        PageId::ViewConfiguration => view_configuration::hints(s),
        PageId::CustomizeSyncOptions => customize_sync_options::hints(s),
        PageId::RefreshDirectorySchema => refresh_directory_schema::hints(s),
        PageId::ConfigureStagingMode => configure_staging_mode::hints(s),
        PageId::ChangeUserSignIn => change_user_sign_in::hints(s),
        PageId::UserSignIn => user_sign_in::hints(s),
        PageId::Troubleshoot => troubleshoot::hints(s),
        PageId::InstallComponents => crate::wizard::pages::install_components::hints(s),
        // wizfeatures
        PageId::AppFiltering => app_filtering::hints(s),
        PageId::AttributeFiltering => attribute_filtering::hints(s),
        PageId::DeviceWritebackForest => device_writeback::hints(s),
        PageId::DeviceContainer => device_container::hints(s),
        PageId::DeviceOptions => configure_device_options::hints(s),
        PageId::HybridJoin => hybrid_join::hints(s),
        PageId::ConfigureSourceAnchor => configure_source_anchor::hints(s),
    };
    if !matches!(
        s.page,
        PageId::Welcome | PageId::Configure | PageId::Complete | PageId::AdditionalTasks
    ) {
        a.push(Action::Back);
    }
    a.push(Action::Quit);
    a
}

fn on_reply(s: &mut State, reply: Reply) -> Flow {
    match reply {
        Reply::NotConnected(effect) => {
            let failure = not_connected_failure(&effect);
            match effect {
                Effect::CheckPrerequisites { .. } => {
                    prerequisites::on_failure(s, failure);
                    Flow::stay()
                }
                Effect::SignInDeviceCode => on_reply(s, Reply::SignInFailed(failure)),
                Effect::RefreshTenantDomains => on_reply(s, Reply::TenantDomains(Err(failure))),
                Effect::TestAdBind { .. } => on_reply(s, Reply::Forest(Err(failure))),
                Effect::ListOus { parent, .. } => on_reply(
                    s,
                    Reply::Ous {
                        parent,
                        children: Err(failure),
                    },
                ),
                Effect::FindGroups { .. } => on_reply(s, Reply::Groups(Err(failure))),
                Effect::ListExtensionAttributes { forest } => on_reply(
                    s,
                    Reply::ExtensionAttributes {
                        forest,
                        result: Err(failure),
                    },
                ),
                Effect::Configure(_) => on_reply(s, Reply::Step(Err(failure))),
                Effect::CountPendingExports { .. } => {
                    on_reply(s, Reply::PendingExports(Err(failure)))
                }
                Effect::ExportConfiguration { .. } => on_reply(s, Reply::Exported(Err(failure))),
                Effect::RunPreflight { .. } => on_reply(s, Reply::Preflight(Err(failure))),
                Effect::CheckInstallOptions {
                    state_dir,
                    service_user,
                    import,
                } => on_reply(
                    s,
                    Reply::InstallOptions {
                        state_dir: state_dir.map(|_| Err(failure.clone())),
                        service_user: service_user.map(|_| Err(failure.clone())),
                        import: import.map(|_| Err(failure.clone())),
                    },
                ),
                Effect::CheckAccountRights { forest, .. } => on_reply(
                    s,
                    Reply::AccountRights {
                        forest,
                        result: Err(failure),
                    },
                ),
                Effect::Cancel(_) => Flow::stay(),
                // wizfeatures
                Effect::FindConsistencyGuids { .. } => {
                    on_reply(s, Reply::ConsistencyGuids(Err(failure)))
                }
                Effect::ConfigureScp { .. } => on_reply(s, Reply::Scp(Err(failure))),
            }
        }
        Reply::Prerequisites(checks) => {
            prerequisites::on_checks(s, checks);
            Flow::stay()
        }
        Reply::DeviceCode {
            verification_uri,
            user_code,
        } => {
            connect_to_entra::on_device_code(s, verification_uri, user_code);
            Flow::stay()
        }
        Reply::SignedIn(tenant) => connect_to_entra::on_signed_in(s, tenant),
        Reply::SignInFailed(f) => {
            connect_to_entra::on_failed(s, f);
            Flow::stay()
        }
        Reply::TenantDomains(r) => {
            upn_suffixes::on_domains(s, r);
            Flow::stay()
        }
        Reply::Forest(r) => connect_directories::on_forest(s, r),
        Reply::Ous { parent, children } => {
            ou_filtering::on_children(s, &parent, children);
            Flow::stay()
        }
        Reply::Groups(r) => {
            filter_users_and_devices::on_groups(s, r);
            Flow::stay()
        }
        Reply::ExtensionAttributes { forest, result } => {
            directory_extensions::on_candidates(s, &forest, result);
            Flow::stay()
        }
        Reply::Step(r) => configure::on_step(s, r),
        Reply::PendingExports(r) => {
            configure_staging_mode::on_pending(s, r);
            Flow::stay()
        }
        Reply::Exported(r) => {
            view_configuration::on_exported(s, r);
            Flow::stay()
        }
        Reply::Preflight(r) => {
            // The page that asked gets the answer (the admin may have moved on meanwhile).
            if s.troubleshoot.run == refresh_directory_schema::Run::Running {
                troubleshoot::on_preflight(s, r);
            } else {
                refresh_directory_schema::on_preflight(s, r);
            }
            Flow::stay()
        }
        Reply::InstallOptions {
            state_dir,
            service_user,
            import,
        } => {
            crate::wizard::pages::install_components::on_checked(s, state_dir, service_user, import)
        }
        Reply::AccountRights { forest, result } => {
            ready_to_configure::on_rights(s, &forest, result);
            Flow::stay()
        }
        // wizfeatures
        Reply::ConsistencyGuids(r) => {
            configure_source_anchor::on_checked(s, r);
            Flow::stay()
        }
        Reply::Scp(r) => {
            hybrid_join::on_written(s, r);
            Flow::stay()
        }
        Reply::Cancelled(kind) => {
            match kind {
                crate::effects::EffectKind::SignIn => connect_to_entra::on_cancelled(s),
                crate::effects::EffectKind::Configure => configure::on_cancelled(s),
                crate::effects::EffectKind::Preflight => {}
            }
            Flow::stay()
        }
    }
}

/// The configuration the answers so far describe.
pub fn build_config(s: &State) -> Config {
    if s.rerun.is_some() {
        return additional_tasks::build_config(s);
    }
    let mut c = if s.path == InstallPath::Custom {
        crate::wizard::pages::install_components::base_config(s)
    } else {
        Config::default()
    };
    c.install.mode = match s.path {
        InstallPath::Express => InstallMode::Express,
        InstallPath::Custom => InstallMode::Custom,
    };
    connect_to_entra::apply(s, &mut c);
    connect_directories::apply(s, &mut c);
    upn_suffixes::apply(s, &mut c);
    if s.path == InstallPath::Custom {
        crate::wizard::pages::install_components::apply(s, &mut c);
        user_sign_in::apply(s, &mut c);
        ou_filtering::apply(s, &mut c);
        identifying_users::apply(s, &mut c);
        filter_users_and_devices::apply(s, &mut c);
        optional_features::apply(s, &mut c);
        directory_extensions::apply(s, &mut c);
        group_writeback::apply(s, &mut c);
        app_filtering::apply(s, &mut c); // wizfeatures
        if device_writeback::needed(s) {
            device_writeback::apply(s, &mut c); // wizfeatures
        }
    }
    ready_to_configure::apply(s, &mut c);
    configure::apply(s, &mut c);
    s.target.apply(&mut c);
    c
}
