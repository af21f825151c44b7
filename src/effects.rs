//! The effects runner: the only place the wizard touches the world. Pages return [`Effect`]s
//! (check prerequisites, sign in to the tenant by device code, test an AD bind, list OUs, create the
//! connector account, write the configuration, start a cycle); a [`Runner`] executes them and
//! answers with [`Reply`]s, which the wizard receives as messages. Tests use [`FakeRunner`], which
//! records every effect and answers from a script.
//!
//! Invariants: the UI thread never waits on an effect ([`Runner::run`] only starts it); every
//! effect is answered by exactly one terminal reply (a device-code sign-in first sends
//! [`Reply::DeviceCode`]); a long effect can be stopped with [`Effect::Cancel`]; secrets travel
//! inside effects as [`Secret`]s and never appear in a reply, a `Debug` output or a log line.
//!
//! The real runner ([`TokioRunner`], in `runner`) acts on the world its [`Context`] describes:
//! `local` (prerequisite checks, the configuration file), `tenant` (device-code sign-in, domains,
//! the sync application), `directory` (bind, OU tree, groups, directory extension candidates from
//! the schema, the connector account; LDIF forests answered from the file), `forest_tasks` (the
//! rerun's forest writes and checks: the hybrid join SCP, the device writeback containers, the
//! mS-DS-ConsistencyGuid values in use), `rerun` (the rerun wizard's local effects: counting pending exports
//! with the database opened read-only, exporting the settings bundle, running `hybridsync
//! preflight --json` in a child process), `install` (the Custom path's install options: an existing
//! local user looked up in `/etc/passwd`, a settings export read back for import). Failures carry
//! the fix the wizard shows next to them.

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::config::Config;
use crate::config::model::TlsMode;
use crate::credentials::SecretRef;
use crate::domain::{AttributeName, Dn, ObjectGuid, Secret};
use crate::provision::rights::Features;

mod context;
mod directory;
mod forest_tasks; // wizfeatures
mod install;
mod local;
mod rerun;
mod runner;
mod tenant;

pub use context::{
    CERTIFICATE_SECRET, Context, CycleHook, DEFAULT_SIGN_IN_CLIENT_ID, Endpoints, StoreOpener,
};
pub use install::{check_state_dir, find_user, parse_export};
pub use rerun::{count_pending, parse_preflight};
pub use runner::TokioRunner;

/// What a page asks the world to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run the prerequisite checks (answered by [`Reply::Prerequisites`]).
    CheckPrerequisites {
        /// Where the configuration will be written.
        config_path: PathBuf,
        /// Where the state will live.
        state_dir: PathBuf,
    },
    /// Start a device-code sign-in to the tenant ([`Reply::DeviceCode`], then [`Reply::SignedIn`]
    /// or [`Reply::SignInFailed`]).
    SignInDeviceCode,
    /// Re-read the tenant's domains and their verification state ([`Reply::TenantDomains`]).
    RefreshTenantDomains,
    /// Bind to the forest with the given account and read what the wizard needs to know about it
    /// ([`Reply::Forest`]).
    TestAdBind {
        /// Forest root DNS name.
        forest: String,
        /// Domain controllers to use; empty means DNS SRV discovery.
        domain_controllers: Vec<String>,
        /// Transport security.
        tls: TlsMode,
        /// `DOMAIN\user` or `user@realm`.
        username: String,
        /// Its password (used for this bind only, never stored by this effect).
        password: Secret,
    },
    /// List the child containers of `parent` ([`Reply::Ous`]); the OU tree loads lazily.
    ListOus {
        /// The forest.
        forest: String,
        /// The container whose children are wanted.
        parent: Dn,
    },
    /// Search groups whose name starts with `query` ([`Reply::Groups`]).
    FindGroups {
        /// The forest.
        forest: String,
        /// The start of the group name.
        query: String,
    },
    /// Read the attributes of the forest that can become directory extensions
    /// ([`Reply::ExtensionAttributes`]): single-valued text, number or boolean attributes of
    /// `user` and `group`, from the live schema (an LDIF forest: the attributes its file uses).
    ListExtensionAttributes {
        /// The forest.
        forest: String,
    },
    /// One step of the Configure page ([`Reply::Step`]).
    Configure(ConfigureStep),
    /// Count the exports waiting in the database ([`Reply::PendingExports`]); the rerun
    /// wizard's "Configure staging mode" page shows it before staging is left.
    CountPendingExports {
        /// The database file.
        database: PathBuf,
    },
    /// Write the settings bundle of `config` (the same JSON as `hybridsync config export`) to
    /// `path` ([`Reply::Exported`]).
    ExportConfiguration {
        /// The configuration.
        config: Box<Config>,
        /// The file.
        path: PathBuf,
    },
    /// Run `hybridsync preflight` on the saved configuration: every check and the directory
    /// readiness report ([`Reply::Preflight`]). Troubleshoot and "Refresh directory schema" use
    /// it.
    RunPreflight {
        /// The configuration file.
        config_path: PathBuf,
        /// The state directory.
        state_dir: PathBuf,
    },
    // --- install options ---
    /// Check the Custom path's install options that need this machine
    /// ([`Reply::InstallOptions`]): an existing local user as the service account, and a
    /// settings export to import.
    CheckInstallOptions {
        /// The custom state directory (`None`: the default one).
        state_dir: Option<PathBuf>,
        /// The existing local user chosen as the service account (`None`: the dedicated user).
        service_user: Option<String>,
        /// The settings export to import (`None`: nothing imported).
        import: Option<PathBuf>,
    },
    // --- end install options ---
    // --- several forests ---
    /// Read the effective rights of the account `forest` was bound with, for `features`
    /// ([`Reply::AccountRights`]): an existing AD DS connector account is checked before
    /// Configure.
    CheckAccountRights {
        /// The forest (bound before, with the account to check).
        forest: String,
        /// The features whose rights the account needs.
        features: Features,
    },
    // --- end several forests ---
    /// Stop the running effect of this kind, if any (no reply when nothing runs).
    Cancel(EffectKind),
    // ---- wizfeatures (begin)
    /// Look in each forest, under its scope, for users whose `mS-DS-ConsistencyGuid` is already
    /// set ([`Reply::ConsistencyGuids`]); the rerun's "Configure source anchor" runs it before
    /// switching from objectGUID.
    FindConsistencyGuids {
        /// One search per forest.
        searches: Vec<ForestSearch>,
    },
    /// Write the Microsoft Entra hybrid join service connection point into the forest's
    /// configuration partition ([`Reply::Scp`]), with an Enterprise Admin's credentials that are
    /// used for this write only.
    ConfigureScp {
        /// The forest and the admin.
        login: ForestLogin,
        /// The tenant ID (`azureADId`).
        tenant_id: String,
        /// A verified domain of the tenant (`azureADName`).
        domain: String,
    },
    // ---- wizfeatures (end)
}

// ---- wizfeatures (begin): types of the forest tasks.

/// How to bind to a forest for one effect.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestLogin {
    /// Forest root DNS name.
    pub forest: String,
    /// Domain controllers (empty: DNS SRV discovery).
    pub domain_controllers: Vec<String>,
    /// Transport security.
    pub tls: TlsMode,
    /// The account (`DOMAIN\user` or `user@realm`).
    pub username: String,
    /// Its password.
    pub password: LoginSecret,
}

/// Where a [`ForestLogin`]'s password comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginSecret {
    /// Typed by the admin (used for this effect only, never stored).
    Given(Secret),
    /// The connector account's password in the credential store.
    Stored(SecretRef),
}

/// One forest's part of [`Effect::FindConsistencyGuids`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForestSearch {
    /// The forest and the account.
    pub login: ForestLogin,
    /// Where to look (the scope's included containers, or its domains).
    pub bases: Vec<Dn>,
    /// Containers left out of the scope.
    pub exclude: Vec<Dn>,
}

/// What [`Effect::FindConsistencyGuids`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuidsInUse {
    /// How many users in scope have the attribute set.
    pub total: usize,
    /// The first few of them.
    pub sample: Vec<Dn>,
}

/// The service connection point as written and read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpWritten {
    /// Its DN.
    pub dn: Dn,
    /// Its `keywords`, as read back.
    pub keywords: Vec<String>,
    /// Whether it was created (false: updated).
    pub created: bool,
}

/// The service connection point's RDN value (the same in every forest).
pub const SCP_CN: &str = "62a0ff2e-97b9-4513-943f-0d221bd30080";

// ---- wizfeatures (end)

/// Which long-running effect [`Effect::Cancel`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EffectKind {
    /// The device-code sign-in.
    SignIn,
    /// The step the Configure page is running.
    Configure,
    /// A preflight run.
    Preflight,
}

impl Effect {
    /// The kind used for cancellation, for effects that can be cancelled.
    pub fn kind(&self) -> Option<EffectKind> {
        match self {
            Effect::SignInDeviceCode => Some(EffectKind::SignIn),
            Effect::Configure(_) => Some(EffectKind::Configure),
            Effect::RunPreflight { .. } => Some(EffectKind::Preflight),
            _ => None,
        }
    }

    /// A short name for messages ("test an AD bind").
    pub fn describe(&self) -> &'static str {
        match self {
            Effect::CheckPrerequisites { .. } => "check the prerequisites",
            Effect::SignInDeviceCode => "sign in to Entra ID",
            Effect::RefreshTenantDomains => "read the tenant's domains",
            Effect::TestAdBind { .. } => "connect to the directory",
            Effect::ListOus { .. } => "list organizational units",
            Effect::FindGroups { .. } => "search groups",
            Effect::ListExtensionAttributes { .. } => "read the directory schema's attributes",
            Effect::Configure(step) => step.describe(),
            Effect::CountPendingExports { .. } => "count the pending exports",
            Effect::ExportConfiguration { .. } => "export the configuration",
            Effect::RunPreflight { .. } => "run the preflight checks",
            Effect::CheckInstallOptions { .. } => "check the install options",
            Effect::CheckAccountRights { .. } => "check the connector account's rights",
            Effect::Cancel(_) => "cancel",
            // wizfeatures
            Effect::FindConsistencyGuids { .. } => "look for mS-DS-ConsistencyGuid values in use",
            Effect::ConfigureScp { .. } => "write the service connection point",
        }
    }
}

/// The actions of the Configure page, in the order they run.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigureStep {
    /// Create the custom state directory (0700) and use its credential store for the steps
    /// that follow (the Custom path's "Use a custom state directory").
    UseStateDir {
        /// The directory.
        path: PathBuf,
    },
    /// Create the AD DS connector account `MSOL_<hex>` with the admin's credentials (which are
    /// used for this step only and never stored) and store its password.
    CreateConnectorAccount {
        /// Forest root DNS name.
        forest: String,
        /// Enterprise admin account.
        admin_username: String,
        /// Its password.
        admin_password: Secret,
        /// The secret name the new account's password is stored under.
        secret_name: String,
        /// The features whose rights the account gets.
        features: Features,
    },
    /// Store the password of an existing connector account in the credential store.
    StoreSecret {
        /// The secret name.
        name: String,
        /// The password.
        secret: Secret,
    },
    /// Register the sync application in the tenant, with a certificate credential.
    RegisterApplication,
    /// Write the configuration file (comments kept if it exists).
    WriteConfig {
        /// The configuration.
        config: Box<Config>,
        /// The file.
        path: PathBuf,
    },
    /// Start the first full cycle (in staging mode when the config says so).
    StartFirstCycle,
    /// wizfeatures: prepare the forest for device writeback with an Enterprise Admin's
    /// credentials (used for this step only): the `CN=Device Registration Configuration`
    /// container and `CN=RegisteredDevices` under the domain, then, when `grant` names the
    /// connector account, its rights for `features` (device writeback among them).
    PrepareDeviceWriteback {
        /// The forest and the admin.
        login: ForestLogin,
        /// The connector account to give its rights, with every feature it serves.
        grant: Option<(String, Features)>,
    },
    /// wizfeatures: before the source anchor switches to mS-DS-ConsistencyGuid, with an admin's
    /// credentials (used for this step only; each search's login): in each forest, give the
    /// connector account named beside it (if any) its rights for `features` (writing
    /// mS-DS-ConsistencyGuid on users among them), then write each in-scope user's objectGUID
    /// into its empty mS-DS-ConsistencyGuid, as Entra Connect's writeback of the anchor does.
    StampConsistencyGuids {
        /// One per forest, bound as the admin, with the connector account to grant.
        searches: Vec<(ForestSearch, Option<String>)>,
        /// Every feature the connector accounts serve.
        features: Features,
    },
}

impl ConfigureStep {
    /// The action as the Configure page lists it.
    pub fn describe(&self) -> &'static str {
        match self {
            ConfigureStep::UseStateDir { .. } => "Prepare the state directory",
            ConfigureStep::CreateConnectorAccount { .. } => {
                "Create the AD DS connector account and grant its rights"
            }
            ConfigureStep::StoreSecret { .. } => "Store the connector account's password",
            ConfigureStep::RegisterApplication => {
                "Register the sync application and store its certificate"
            }
            ConfigureStep::WriteConfig { .. } => "Write the configuration file",
            ConfigureStep::StartFirstCycle => "Start the first synchronization cycle",
            ConfigureStep::PrepareDeviceWriteback { .. } => {
                "Create the device writeback containers"
            }
            ConfigureStep::StampConsistencyGuids { .. } => {
                "Write objectGUID into mS-DS-ConsistencyGuid"
            }
        }
    }
}

/// One prerequisite check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// What was checked.
    pub name: String,
    /// Pass, warning or failure.
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// How to fix a failure or warning (empty when it passed).
    pub fix: String,
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Fine.
    Pass,
    /// Works, but should be looked at.
    Warn,
    /// Blocks the installation.
    Fail,
}

/// A verified or unverified domain of the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantDomain {
    /// DNS name.
    pub name: String,
    /// Whether the tenant has verified it.
    pub verified: bool,
}

/// The tenant the admin signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    /// Tenant ID.
    pub tenant_id: String,
    /// The initial `*.onmicrosoft.com` domain.
    pub initial_domain: String,
    /// The signed-in admin (for display).
    pub admin: String,
    /// Its domains.
    pub domains: Vec<TenantDomain>,
}

/// A domain of the forest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForestDomain {
    /// DNS name.
    pub name: String,
    /// Naming context.
    pub naming_context: Dn,
}

/// What a successful bind told us about the forest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForestInfo {
    /// Forest root DNS name.
    pub forest: String,
    /// Its domains.
    pub domains: Vec<ForestDomain>,
    /// The UPN suffixes in use (forest root domain names plus `uPNSuffixes`).
    pub upn_suffixes: Vec<String>,
    /// Whether the schema has Exchange attributes.
    pub exchange_schema: bool,
}

/// An OU or container in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuEntry {
    /// Its DN.
    pub dn: Dn,
    /// Its objectGUID.
    pub guid: Option<ObjectGuid>,
    /// Whether it may have children (false stops the tree from offering to expand it).
    pub has_children: bool,
}

/// A group found by [`Effect::FindGroups`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Its DN.
    pub dn: Dn,
    /// Its objectGUID.
    pub guid: Option<ObjectGuid>,
    /// Direct members.
    pub members: usize,
}

/// The object type a directory extension attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExtensionClass {
    /// `user`.
    User,
    /// `group`.
    Group,
}

impl ExtensionClass {
    /// The prefix the configuration uses (`user` in `user.employeeID`).
    pub fn prefix(self) -> &'static str {
        match self {
            ExtensionClass::User => "user",
            ExtensionClass::Group => "group",
        }
    }
}

/// An attribute that can become a directory extension.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExtensionCandidate {
    /// User or group.
    pub class: ExtensionClass,
    /// The attribute, as the schema spells it.
    pub name: AttributeName,
    /// Its value type (`str`, `num` or `bool`).
    pub kind: &'static str,
}

impl ExtensionCandidate {
    /// The configuration's spelling: `user.employeeID`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.class.prefix(), self.name)
    }
}

/// Why an effect failed, and what the admin can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

impl Failure {
    /// A failure with its fix.
    pub fn new(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fix: fix.into(),
        }
    }
}

/// What a step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutput {
    /// Nothing to remember.
    Done,
    /// wizfeatures: this many users got their objectGUID as mS-DS-ConsistencyGuid.
    Stamped(usize),
    /// The connector account was created: its name and where its password is.
    ConnectorAccount {
        /// `MSOL_<hex>`.
        username: String,
        /// Its password's reference.
        secret_ref: SecretRef,
    },
    /// The application was registered.
    Application {
        /// Client ID.
        client_id: String,
        /// Its certificate's reference.
        certificate_ref: SecretRef,
    },
    /// The configuration was written here.
    Written(PathBuf),
    /// The first cycle ran; a one-line summary.
    Cycle(String),
}

/// Exports waiting in the database, by operation (all connectors together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingCount {
    /// Adds.
    pub adds: u64,
    /// Updates (renames included).
    pub updates: u64,
    /// Deletes.
    pub deletes: u64,
}

impl PendingCount {
    /// Every pending export.
    pub fn total(&self) -> u64 {
        self.adds + self.updates + self.deletes
    }
}

/// One line of the readiness report about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectNote {
    /// The object's DN as the report names it.
    pub dn: String,
    /// What the report says (a problem with its fix, or why the object is filtered).
    pub text: String,
    /// Whether it keeps the object from synchronizing or exporting correctly.
    pub error: bool,
}

/// What a preflight run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreflightResult {
    /// Every check, as `CheckResult`s (id in `name`, title and what was found in `detail`).
    pub checks: Vec<PreflightCheck>,
    /// Every readiness note (issues and filtered objects) of every forest.
    pub objects: Vec<ObjectNote>,
}

/// One preflight check as the wizard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightCheck {
    /// Stable id (`ad.schema`).
    pub id: String,
    /// What was checked.
    pub title: String,
    /// Pass, warning or failure (a skipped check counts as a warning).
    pub status: CheckStatus,
    /// What was found.
    pub found: String,
    /// What to do.
    pub fix: String,
}

/// An effect's answer, delivered to the wizard as a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The prerequisite checks.
    Prerequisites(Vec<CheckResult>),
    /// Device-code sign-in started: show this to the admin.
    DeviceCode {
        /// Where to go.
        verification_uri: String,
        /// What to type there.
        user_code: String,
    },
    /// Signed in.
    SignedIn(TenantInfo),
    /// The sign-in failed.
    SignInFailed(Failure),
    /// The tenant's domains were re-read.
    TenantDomains(Result<Vec<TenantDomain>, Failure>),
    /// The bind result.
    Forest(Result<ForestInfo, Failure>),
    /// Children of `parent`.
    Ous {
        /// The container that was listed.
        parent: Dn,
        /// Its children or why they could not be read.
        children: Result<Vec<OuEntry>, Failure>,
    },
    /// Groups matching a search.
    Groups(Result<Vec<GroupEntry>, Failure>),
    /// The directory extension candidates of `forest`.
    ExtensionAttributes {
        /// The forest whose schema was read (as the effect named it).
        forest: String,
        /// Its candidates, sorted (users first, then by name), or why they could not be read.
        result: Result<Vec<ExtensionCandidate>, Failure>,
    },
    /// A Configure step finished.
    Step(Result<StepOutput, Failure>),
    /// The pending exports; `None` when no cycle has run yet (no database).
    PendingExports(Result<Option<PendingCount>, Failure>),
    /// The configuration was exported here.
    Exported(Result<PathBuf, Failure>),
    /// A preflight run finished.
    Preflight(Result<PreflightResult, Failure>),
    /// A cancelled effect stopped.
    Cancelled(EffectKind),
    // --- install options ---
    /// The install options checked; each is `None` when it was not asked about.
    InstallOptions {
        /// The custom state directory: what will happen to it, or why it cannot be used.
        state_dir: Option<Result<String, Failure>>,
        /// The service account: a description of the user, or why it cannot be used.
        service_user: Option<Result<String, Failure>>,
        /// The imported configuration (staging mode on), or why the file cannot be imported.
        import: Option<Result<Box<Config>, Failure>>,
    },
    // --- end install options ---
    // --- several forests ---
    /// The rights of an existing connector account.
    AccountRights {
        /// The forest.
        forest: String,
        /// What the account holds, or why it could not be read.
        result: Result<AccountRights, Failure>,
    },
    // --- end several forests ---
    /// This effect needs a part of hybridsync that the wizard is not connected to yet.
    NotConnected(Effect),
    // ---- wizfeatures (begin)
    /// The users in scope whose mS-DS-ConsistencyGuid is set.
    ConsistencyGuids(Result<GuidsInUse, Failure>),
    /// The service connection point was written (and read back).
    Scp(Result<ScpWritten, Failure>),
    // ---- wizfeatures (end)
}

/// The effective rights of an existing AD DS connector account for the chosen features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRights {
    /// The privileged groups it is a member of (Entra Connect refuses such an account).
    pub privileged: Vec<String>,
    /// One line per required right.
    pub lines: Vec<RightLine>,
}

/// One required right of the connector account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightLine {
    /// The feature that needs it.
    pub feature: String,
    /// The right.
    pub right: String,
    /// `granted`, `missing …` or `denied …`.
    pub status: String,
    /// A command that grants it.
    pub fix: String,
}

impl AccountRights {
    /// The rights not granted.
    pub fn missing(&self) -> Vec<&RightLine> {
        self.lines
            .iter()
            .filter(|l| l.status != "granted")
            .collect()
    }
}

/// Something that executes effects and later delivers replies.
pub trait Runner {
    /// Start `effect`; its replies arrive later through the runner's channel. Never blocks.
    fn run(&mut self, effect: Effect);
}

/// The failure the wizard shows for [`Reply::NotConnected`].
pub fn not_connected_failure(effect: &Effect) -> Failure {
    Failure::new(
        format!(
            "this version of hybridsync cannot {} from the wizard yet",
            effect.describe()
        ),
        "write the configuration from templates/hybridsync.toml and check it with \
         'hybridsync config check'",
    )
}

/// A runner for tests: records every effect and answers from a script.
pub struct FakeRunner {
    /// Every effect received, in order.
    pub effects: Vec<Effect>,
    /// Replies produced and not yet delivered.
    pub pending: VecDeque<Reply>,
    script: Script,
}

/// How a [`FakeRunner`] answers an effect.
type Script = Box<dyn FnMut(&Effect) -> Vec<Reply>>;

impl FakeRunner {
    /// A runner that answers each effect with what `script` returns.
    pub fn new(script: impl FnMut(&Effect) -> Vec<Reply> + 'static) -> Self {
        Self {
            effects: Vec::new(),
            pending: VecDeque::new(),
            script: Box::new(script),
        }
    }

    /// The next reply to deliver.
    pub fn next_reply(&mut self) -> Option<Reply> {
        self.pending.pop_front()
    }
}

impl Runner for FakeRunner {
    fn run(&mut self, effect: Effect) {
        let replies = (self.script)(&effect);
        self.effects.push(effect);
        self.pending.extend(replies);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokio_runner_writes_the_config_and_fails_plainly_without_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/hybridsync.toml");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut runner = TokioRunner::new(tokio::runtime::Handle::current(), tx);
        let config: Config = crate::config::testing::minimal();
        runner.run(Effect::Configure(ConfigureStep::WriteConfig {
            config: Box::new(config.clone()),
            path: path.clone(),
        }));
        assert_eq!(
            rx.recv().await,
            Some(Reply::Step(Ok(StepOutput::Written(path.clone()))))
        );
        let loaded = crate::config::load(&path).unwrap();
        assert_eq!(loaded.config.tenant.tenant_id, "contoso.onmicrosoft.com");

        runner.run(Effect::Configure(ConfigureStep::StoreSecret {
            name: "ad-corp.example.com".into(),
            secret: Secret::new("x".to_string()),
        }));
        match rx.recv().await {
            Some(Reply::Step(Err(f))) => assert!(f.message.contains("credential store"), "{f:?}"),
            other => panic!("{other:?}"),
        }
        // The first cycle needs the hook the command line hands in.
        runner.run(Effect::Configure(ConfigureStep::StartFirstCycle));
        match rx.recv().await {
            Some(Reply::Step(Err(f))) => assert!(f.fix.contains("sync run"), "{f:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelling_the_first_cycle_asks_the_cycle_to_stop() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hybridsync.toml");
        let stopped = std::sync::Arc::new(AtomicBool::new(false));
        let seen = stopped.clone();
        let hook: CycleHook =
            std::sync::Arc::new(move |_path, stop: std::sync::Arc<AtomicBool>| {
                // A cycle that runs until it is asked to stop, as one_cycle does with SIGTERM.
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                seen.store(true, Ordering::SeqCst);
                Ok(vec!["stopped".into()])
            });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut runner = TokioRunner::with_context(
            tokio::runtime::Handle::current(),
            tx,
            Context {
                first_cycle: Some(hook),
                ..Context::default()
            },
        );
        let config: Config = toml::from_str(
            "schema_version = 1\n[tenant]\ntenant_id = \"contoso.onmicrosoft.com\"\n[tenant.application]\nclient_id = \"3f1b2a4c-5d6e-4f70-8192-a3b4c5d6e7f8\"\ncertificate_ref = \"store:entra-app-certificate\"\n[[directories]]\nforest = \"corp.example.com\"\n[directories.account]\nusername = \"svc@corp.example.com\"\nsecret_ref = \"store:ad\"\n",
        )
        .unwrap();
        runner.run(Effect::Configure(ConfigureStep::WriteConfig {
            config: Box::new(config),
            path: path.clone(),
        }));
        assert_eq!(
            rx.recv().await,
            Some(Reply::Step(Ok(StepOutput::Written(path))))
        );
        runner.run(Effect::Configure(ConfigureStep::StartFirstCycle));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!stopped.load(Ordering::SeqCst), "the cycle runs");
        runner.run(Effect::Cancel(EffectKind::Configure));
        assert_eq!(
            rx.recv().await,
            Some(Reply::Cancelled(EffectKind::Configure))
        );
        for _ in 0..400 {
            if stopped.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the cycle was not asked to stop");
    }

    #[tokio::test]
    async fn prerequisites_fail_on_an_unwritable_state_directory_with_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let ctx = Context {
            endpoints: Endpoints {
                authority_host: Some("https://127.0.0.1:1".into()),
                ..Endpoints::default()
            },
            ..Context::default()
        };
        let checks = local::checks(&ctx, &dir.path().join("c.toml"), &file.join("state")).await;
        assert_eq!(checks[0].status, CheckStatus::Pass, "{checks:?}");
        let state = checks
            .iter()
            .find(|c| {
                c.name.to_lowercase().contains("state directory") && c.status == CheckStatus::Fail
            })
            .unwrap_or_else(|| panic!("{checks:?}"));
        assert!(!state.fix.is_empty());
        // Nothing listens on port 1: the identity platform check warns with a fix.
        let idp = checks
            .iter()
            .find(|c| c.name.contains("identity platform"))
            .unwrap();
        assert_eq!(idp.status, CheckStatus::Warn);
        assert!(idp.fix.contains("https://127.0.0.1:1"), "{idp:?}");
    }

    #[test]
    fn pending_exports_are_counted_from_the_database() {
        use crate::domain::AttributeName;
        use crate::engine::model::{
            Anchor, ConnectorName, ImportedObject, Operation, PendingExport,
        };
        use crate::engine::store::{SqliteStore, Store};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hybridsync.db");
        assert_eq!(
            count_pending(&db),
            Ok(None),
            "no cycle has run: no database"
        );
        {
            let mut store = SqliteStore::open(&db, "test").unwrap();
            let mut tx = store.begin().unwrap();
            let entra = ConnectorName::new("entra");
            for (n, op) in [
                (1u8, Operation::Add),
                (2, Operation::Delete),
                (3, Operation::Delete),
            ] {
                let o = ImportedObject {
                    anchor: Anchor::Bytes(vec![n; 16]),
                    dn: Dn::parse(&format!("CN=User {n},DC=corp,DC=example,DC=com")).unwrap(),
                    object_class: "user".into(),
                    attributes: [(
                        AttributeName::new("cn").unwrap(),
                        vec![crate::engine::expr::Value::Str(format!("User {n}"))],
                    )]
                    .into_iter()
                    .collect(),
                };
                let cs = tx.import_object(&entra, &o).unwrap().cs;
                tx.put_pending_export(&PendingExport {
                    connector: entra.clone(),
                    cs,
                    anchor: Some(o.anchor.clone()),
                    dn: o.dn.clone(),
                    object_class: "user".into(),
                    operation: op,
                    changes: vec![],
                })
                .unwrap();
            }
            tx.commit().unwrap();
        }
        assert_eq!(
            count_pending(&db),
            Ok(Some(PendingCount {
                adds: 1,
                updates: 0,
                deletes: 2
            }))
        );
    }

    #[tokio::test]
    async fn the_exported_bundle_imports_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::parse(include_str!("../templates/hybridsync.toml"))
            .unwrap()
            .config;
        let path = dir.path().join("exports/hybridsync-settings.json");
        assert_eq!(rerun::export_config(&config, &path).await, Ok(path.clone()));
        let json = std::fs::read_to_string(&path).unwrap();
        let (bundle, _) = crate::config::export::import(&json, true).unwrap();
        assert_eq!(bundle.config, config);
    }

    #[test]
    fn preflight_json_is_read_with_the_readiness_notes() {
        let r = parse_preflight(
            r#"{"summary":{"pass":1,"warn":0,"fail":1,"skip":1},
               "checks":[{"id":"ad.bind","title":"Bind","status":"pass","found":"ok"},
                         {"id":"ad.schema","title":"Schema","status":"fail","found":"no x","fix":"extend it"},
                         {"id":"ad.rights","title":"Rights","status":"skip","found":"not run"}],
               "readiness":[{"forest":"corp","summary":{},
                 "issues":[{"dn":"CN=A,DC=corp","class":"user","attribute":"mail","value":"x","severity":"error","problem":"bad","fix":"fix it"}],
                 "filtered":[{"dn":"CN=B,DC=corp","class":"user","reason":"out of scope"}]}]}"#,
        )
        .unwrap();
        assert_eq!(r.checks.len(), 3);
        assert_eq!(r.checks[1].status, CheckStatus::Fail);
        assert_eq!(r.checks[1].fix, "extend it");
        assert_eq!(
            r.checks[2].status,
            CheckStatus::Warn,
            "a skipped check is not a pass"
        );
        assert_eq!(r.objects.len(), 2);
        assert_eq!(r.objects[0].text, "mail: bad (fix it)");
        assert_eq!(r.objects[1].text, "not synchronized: out of scope");
        assert!(parse_preflight("not json").is_none());
    }
}
