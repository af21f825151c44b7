//! Additional tasks: the first page of a rerun over an existing configuration, as in Entra
//! Connect. It lists the tasks (view or export the configuration, customize synchronization
//! options, refresh directory schema, configure staging mode, change user sign-in, troubleshoot,
//! configure device options, and configure source anchor while the anchor is objectGUID)
//! and owns what every rerun shares: pre-filling the pages from the loaded configuration
//! ([`prefill`]), the page order of the chosen task ([`sequence`]) and the configuration a task
//! produces ([`build_config`]: the loaded one with only that task's answers applied).
//!
//! Invariants: a task changes only the keys its pages own (everything else, comments included,
//! stays as loaded); the tasks that change nothing (view, refresh schema, troubleshoot, hybrid
//! join) never reach Configure; the one-shot choices (UPN attribute, user matching) are never changed by a
//! rerun, and the source anchor only from objectGUID to mS-DS-ConsistencyGuid, by its task.

use crate::config::Config;
use crate::config::model::{ScopeMode, SignInMethod};
use crate::domain::Dn;
use crate::effects::{ForestDomain, ForestInfo, GroupEntry};
use crate::wizard::app::{Flow, PageId, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories::{self, AccountMode, Added, Bind};
use crate::wizard::pages::identifying_users::Anchor;
use crate::wizard::pages::ou_filtering::{Children, Node};
use crate::wizard::pages::upn_suffixes::UpnAttribute;
use crate::wizard::pages::{
    change_user_sign_in, configure_staging_mode, customize_sync_options, directory_extensions,
    group_writeback, optional_features, ou_filtering,
};
use crate::wizard::text::tasks as t;
use crate::wizard::ui::{Body, Styles, note, radio};
use crate::wizard::widgets::TextField;

/// A task of the menu, as Entra Connect names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// View or export current configuration.
    ViewConfiguration,
    /// Customize synchronization options.
    CustomizeSyncOptions,
    /// Refresh directory schema.
    RefreshDirectorySchema,
    /// Configure staging mode.
    ConfigureStagingMode,
    /// Change user sign-in.
    ChangeUserSignIn,
    /// Troubleshoot.
    Troubleshoot,
    // ---- wizfeatures (begin)
    /// Configure device options.
    ConfigureDeviceOptions,
    /// Configure source anchor (offered while the anchor is objectGUID).
    ConfigureSourceAnchor,
    // ---- wizfeatures (end)
}

/// The menu, in order (a task not offered for the loaded configuration is left out: [`menu`]).
pub const TASKS: [Task; 8] = [
    Task::ViewConfiguration,
    Task::CustomizeSyncOptions,
    Task::RefreshDirectorySchema,
    Task::ConfigureStagingMode,
    Task::ChangeUserSignIn,
    Task::Troubleshoot,
    // wizfeatures
    Task::ConfigureDeviceOptions,
    Task::ConfigureSourceAnchor,
];

/// wizfeatures: the tasks offered for the loaded configuration, in [`TASKS`] order ("Configure
/// source anchor" only while the anchor is objectGUID).
pub fn menu(s: &State) -> Vec<Task> {
    TASKS
        .iter()
        .copied()
        .filter(|t| match t {
            Task::ConfigureSourceAnchor => s
                .loaded()
                .is_some_and(crate::wizard::pages::configure_source_anchor::offered),
            _ => true,
        })
        .collect()
}

impl Task {
    /// Whether the task writes the configuration (ends on Ready to configure and Configure).
    pub fn changes_config(self) -> bool {
        matches!(
            self,
            Task::CustomizeSyncOptions
                | Task::ConfigureStagingMode
                | Task::ChangeUserSignIn
                | Task::ConfigureSourceAnchor
        )
    }

    /// The name used in answer files (`task = "configure-staging-mode"`).
    pub fn key(self) -> &'static str {
        match self {
            Task::ViewConfiguration => "view-configuration",
            Task::CustomizeSyncOptions => "customize-sync-options",
            Task::RefreshDirectorySchema => "refresh-directory-schema",
            Task::ConfigureStagingMode => "configure-staging-mode",
            Task::ChangeUserSignIn => "change-user-sign-in",
            Task::Troubleshoot => "troubleshoot",
            Task::ConfigureDeviceOptions => "configure-device-options",
            Task::ConfigureSourceAnchor => "configure-source-anchor",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Task::ViewConfiguration => t::VIEW,
            Task::CustomizeSyncOptions => t::CUSTOMIZE,
            Task::RefreshDirectorySchema => t::SCHEMA,
            Task::ConfigureStagingMode => t::STAGING,
            Task::ChangeUserSignIn => t::SIGN_IN,
            Task::Troubleshoot => t::TROUBLESHOOT,
            Task::ConfigureDeviceOptions => crate::wizard::text::device_options::TITLE,
            Task::ConfigureSourceAnchor => crate::wizard::text::source_anchor::TITLE,
        }
    }

    fn help(self) -> &'static str {
        match self {
            Task::ViewConfiguration => t::VIEW_HELP,
            Task::CustomizeSyncOptions => t::CUSTOMIZE_HELP,
            Task::RefreshDirectorySchema => t::SCHEMA_HELP,
            Task::ConfigureStagingMode => t::STAGING_HELP,
            Task::ChangeUserSignIn => t::SIGN_IN_HELP,
            Task::Troubleshoot => t::TROUBLESHOOT_HELP,
            Task::ConfigureDeviceOptions => crate::wizard::text::device_options::HELP,
            Task::ConfigureSourceAnchor => crate::wizard::text::source_anchor::HELP,
        }
    }
}

/// The menu's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdditionalTasks {
    /// The highlighted task (index into [`TASKS`]).
    pub cursor: usize,
}

/// The pages of the chosen task, in order.
pub fn sequence(s: &State) -> Vec<PageId> {
    use PageId::*;
    let mut v = vec![AdditionalTasks];
    let Some(task) = s.task() else {
        return v;
    };
    match task {
        Task::ViewConfiguration => v.push(ViewConfiguration),
        Task::CustomizeSyncOptions => {
            v.push(CustomizeSyncOptions);
            if s.customize.add_directory {
                v.push(ConnectDirectories);
            }
            v.extend([OuFiltering, OptionalFeatures]);
            // wizfeatures
            if crate::wizard::pages::app_filtering::needed(s) {
                v.extend([AppFiltering, AttributeFiltering]);
            }
            if directory_extensions::needed(s) {
                v.push(DirectoryExtensions);
            }
            if group_writeback::needed(s) {
                v.push(GroupWriteback);
            }
        }
        Task::RefreshDirectorySchema => v.push(RefreshDirectorySchema),
        Task::ConfigureStagingMode => v.push(ConfigureStagingMode),
        Task::ChangeUserSignIn => v.push(ChangeUserSignIn),
        Task::Troubleshoot => v.push(Troubleshoot),
        // wizfeatures
        Task::ConfigureSourceAnchor => v.push(ConfigureSourceAnchor),
        Task::ConfigureDeviceOptions => {
            use crate::wizard::pages::configure_device_options::{self as o, DeviceOption};
            v.push(DeviceOptions);
            match s.device_options.choice {
                DeviceOption::HybridJoin => v.push(HybridJoin),
                DeviceOption::ConfigureWriteback => {
                    v.extend([DeviceWritebackForest, DeviceContainer]);
                }
                DeviceOption::DisableWriteback => {}
            }
            if o::changes_config(s) {
                v.extend([ReadyToConfigure, Configure, Complete]);
            }
        }
    }
    if task.changes_config() {
        v.extend([ReadyToConfigure, Configure, Complete]);
    }
    v
}

/// Choose `task` (as Enter on its row does) and move to its first page.
pub fn choose(s: &mut State, task: Task) -> Flow {
    if let Some(i) = menu(s).iter().position(|x| *x == task) {
        s.tasks.cursor = i;
    }
    if let Some(r) = s.rerun.as_mut() {
        r.task = Some(task);
    }
    Flow::Next(Vec::new())
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.tasks.cursor = (s.tasks.cursor + 1).min(menu(s).len().saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.tasks.cursor = s.tasks.cursor.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Next) | Input::Char(' ') => match menu(s).get(s.tasks.cursor) {
            Some(task) => choose(s, *task),
            None => Flow::stay(),
        },
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Up]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::intro(&s.config_path.display().to_string()), st.text);
    if s.loaded().is_some_and(|c| c.sync.staging_mode) {
        b.text(t::IN_STAGING, st.warning);
    }
    b.blank();
    for (i, task) in menu(s).iter().enumerate() {
        let focused = i == s.tasks.cursor;
        b.push_focus(radio(focused, task.label(), focused, st), focused);
        if focused {
            b.push(note(task.help(), st));
        }
    }
    b.blank();
    b.text(t::SUSPENDED, st.muted);
    b
}

/// The forest root's naming context from its DNS name (`corp.example.com` →
/// `DC=corp,DC=example,DC=com`).
pub fn naming_context(dns: &str) -> Option<Dn> {
    let parts: Vec<String> = dns
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| format!("DC={p}"))
        .collect();
    if parts.is_empty() {
        return None;
    }
    Dn::parse(&parts.join(",")).ok()
}

/// The `DC=` tail of `dn` (its domain's naming context) and that domain's DNS name.
fn domain_of(dn: &Dn) -> Option<(Dn, String)> {
    let text = dn.to_string();
    let parts: Vec<&str> = text.split(',').collect();
    let start = parts
        .iter()
        .position(|p| p.trim().len() > 3 && p.trim()[..3].eq_ignore_ascii_case("DC="))?;
    let tail = parts.get(start..)?;
    if !tail
        .iter()
        .all(|p| p.trim().len() > 3 && p.trim()[..3].eq_ignore_ascii_case("DC="))
    {
        return None;
    }
    let name = tail
        .iter()
        .map(|p| p.trim()[3..].to_string())
        .collect::<Vec<_>>()
        .join(".");
    Dn::parse(&tail.join(",")).ok().map(|d| (d, name))
}

fn label(dn: &Dn) -> String {
    dn.rdn()
        .map(|r| r.value().to_string())
        .unwrap_or_else(|| dn.to_string())
}

/// The domains of a configured directory: those its scope names, else the forest root; plus
/// the domain of every included or excluded container.
fn configured_domains(d: &crate::config::model::Directory) -> Vec<ForestDomain> {
    let mut domains: Vec<ForestDomain> = d
        .scope
        .domains
        .iter()
        .map(|x| ForestDomain {
            name: x.name.clone(),
            naming_context: x.naming_context.clone(),
        })
        .collect();
    if domains.is_empty()
        && let Some(nc) = naming_context(&d.forest)
    {
        domains.push(ForestDomain {
            name: d.forest.clone(),
            naming_context: nc,
        });
    }
    for o in d.scope.include.iter().chain(&d.scope.exclude) {
        if let Some((nc, name)) = domain_of(&o.dn)
            && !domains.iter().any(|x| x.naming_context == nc)
        {
            domains.push(ForestDomain {
                name,
                naming_context: nc,
            });
        }
    }
    domains
}

/// Fill every page from the loaded configuration.
pub fn prefill(s: &mut State) {
    let Some(c) = s.loaded().cloned() else {
        return;
    };
    // Every configured forest is listed (never bound again: a rerun has no password); the form
    // shows the first, and each forest's OU tree starts from its scope.
    let f = &c.features;
    // Known only when a feature that needs it is on; a rerun cannot bind without the
    // connector account's password, so it does not read the schema.
    let exchange_schema = f.exchange_hybrid.enabled
        || f.exchange_mail_public_folders.enabled
        || f.group_writeback.enabled;
    let mut trees: Vec<ou_filtering::OuFiltering> = Vec::new();
    for d in &c.directories {
        let domains = configured_domains(d);
        let info = ForestInfo {
            forest: d.forest.clone(),
            domains: domains.clone(),
            upn_suffixes: Vec::new(),
            exchange_schema,
        };
        s.directories.added.push(Added {
            info,
            dcs: d.domain_controllers.clone(),
            tls: d.tls.mode,
            mode: if d.account.managed {
                AccountMode::Create
            } else {
                AccountMode::Existing
            },
            user: d.account.username.clone(),
            password: TextField::password(),
            from_config: Some(d.clone()),
            rights: connect_directories::Rights::NotChecked,
        });
        let mut tree = scope_tree(d, &domains);
        tree.forest = d.forest.to_ascii_lowercase();
        trees.push(tree);
    }
    if let Some(d) = c.directories.first() {
        let dir = &mut s.directories;
        dir.forest = TextField::new(&d.forest);
        dir.dcs = TextField::new(&d.domain_controllers.join(", "));
        dir.tls = d.tls.mode;
        dir.mode = if d.account.managed {
            AccountMode::Create
        } else {
            AccountMode::Existing
        };
        dir.user = TextField::new(&d.account.username);
        dir.editing = Some(0);
        if let Some(a) = dir.added.first() {
            dir.bind = Bind::Connected(a.info.clone());
        }
        if let Some(g) = &d.pilot_group {
            s.filter.selected = true;
            s.filter.chosen = Some(GroupEntry {
                dn: g.dn.clone(),
                guid: g.guid,
                members: 0,
            });
        }
    }
    let mut trees = trees.into_iter();
    if let Some(mut first) = trees.next() {
        first.others = trees.map(|t| (t.forest.clone(), t)).collect();
        s.ous = first;
    }
    prefill_settings(s, &c);
    s.user_sign_in = change_user_sign_in::ChangeUserSignIn {
        method: match c.sign_in.method {
            SignInMethod::DoNotConfigure => SignInMethod::PasswordHashSync,
            m => m,
        },
        single_sign_on: c.sign_in.single_sign_on,
        ..Default::default()
    };
}

/// Fill the pages that do not depend on a forest (features, identity, sign-in, staging) from
/// `c`: a rerun's loaded configuration or an imported one.
pub fn prefill_settings(s: &mut State, c: &Config) {
    let f = &c.features;
    let feat = &mut s.features;
    feat.exchange_hybrid = f.exchange_hybrid.enabled;
    feat.public_folders = f.exchange_mail_public_folders.enabled;
    feat.group_writeback = f.group_writeback.enabled;
    s.group_wb.chosen = f.group_writeback.target_ou.clone();
    s.group_wb.forest = f.group_writeback.forest.clone();
    feat.device_writeback = f.device_writeback.enabled;
    feat.extensions = f.directory_extensions.enabled;
    s.extensions.selected = f.directory_extensions.attributes.clone();
    crate::wizard::pages::app_filtering::prefill(s, &f.app_and_attribute_filtering); // wizfeatures
    let anchor = c.identity.source_anchor.as_str();
    s.identity.matching = c.identity.user_matching;
    if anchor.eq_ignore_ascii_case("mS-DS-ConsistencyGuid") {
        s.identity.anchor = Anchor::ConsistencyGuid;
    } else if anchor.eq_ignore_ascii_case("objectGUID") {
        s.identity.anchor = Anchor::ObjectGuid;
    } else {
        s.identity.anchor = Anchor::Custom;
        s.identity.custom = TextField::new(anchor);
    }
    if c.sign_in
        .upn_attribute
        .as_str()
        .eq_ignore_ascii_case("mail")
    {
        s.upn.attribute = UpnAttribute::Mail;
    }
    s.ready.start_sync = c.sync.scheduler_enabled;
    s.ready.staging = c.sync.staging_mode;
    s.staging = configure_staging_mode::ConfigureStagingMode {
        enabled: c.sync.staging_mode,
        ..Default::default()
    };
    crate::wizard::pages::hybrid_join::prefill(s); // wizfeatures
    // wizfeatures: device writeback's forest as configured.
    if let Some(i) = f.device_writeback.forest.as_ref().and_then(|name| {
        c.directories
            .iter()
            .position(|d| d.forest.eq_ignore_ascii_case(name))
    }) {
        s.device.forest = i;
    }
    s.user_sign_in = change_user_sign_in::ChangeUserSignIn {
        method: c.sign_in.method,
        single_sign_on: c.sign_in.single_sign_on,
        ..Default::default()
    };
}

/// The OU tree of a configured directory: its domains, the containers its scope names (with
/// their objectGUIDs) and the ticks the scope describes.
pub fn scope_tree(
    d: &crate::config::model::Directory,
    domains: &[ForestDomain],
) -> ou_filtering::OuFiltering {
    let mut o = ou_filtering::OuFiltering {
        mode: d.scope.mode,
        ..Default::default()
    };
    for dom in domains {
        o.roots.push(dom.naming_context.clone());
        o.nodes.insert(
            dom.naming_context.clone(),
            Node {
                label: dom.name.clone(),
                guid: None,
                has_children: true,
                expanded: false,
                children: Children::NotLoaded,
            },
        );
    }
    for x in d.scope.include.iter().chain(&d.scope.exclude) {
        o.nodes.entry(x.dn.clone()).or_insert(Node {
            label: label(&x.dn),
            guid: x.guid,
            has_children: true,
            expanded: false,
            children: Children::NotLoaded,
        });
    }
    if d.scope.mode != ScopeMode::Selected {
        return o;
    }
    let roots = o.roots.clone();
    for r in &roots {
        if !d.scope.include.iter().any(|x| x.dn == *r) {
            o.overrides.insert(r.clone(), false);
        }
    }
    for x in &d.scope.include {
        if !roots.contains(&x.dn) {
            o.overrides.insert(x.dn.clone(), true);
        }
    }
    for x in &d.scope.exclude {
        o.overrides.insert(x.dn.clone(), false);
    }
    o
}

/// The configuration after the chosen task: the loaded one with that task's answers applied.
pub fn build_config(s: &State) -> Config {
    let Some(loaded) = s.loaded() else {
        return Config::default();
    };
    let mut c = loaded.clone();
    let Some(task) = s.task() else {
        return c;
    };
    match task {
        Task::CustomizeSyncOptions => {
            connect_directories::apply_new(s, &mut c);
            ou_filtering::apply(s, &mut c);
            for d in &mut c.directories {
                let (Some(old), Some(tree)) = (
                    loaded
                        .directories
                        .iter()
                        .find(|o| o.forest.eq_ignore_ascii_case(&d.forest)),
                    ou_filtering::tree_for(&s.ous, &d.forest),
                ) else {
                    continue;
                };
                if d.scope.mode != ScopeMode::Selected {
                    continue;
                }
                // Keep the domains the loaded scope named, unless the admin cleared them whole.
                d.scope.domains = old
                    .scope
                    .domains
                    .iter()
                    .filter(|x| {
                        ou_filtering::check(tree, &x.naming_context)
                            != crate::wizard::ui::Check::Off
                    })
                    .cloned()
                    .collect();
            }
            customize_sync_options::apply(s, &mut c);
            optional_features::apply(s, &mut c);
            directory_extensions::apply(s, &mut c);
            group_writeback::apply(s, &mut c);
            crate::wizard::pages::app_filtering::apply(s, &mut c); // wizfeatures
            // An OU kept from the configuration keeps its objectGUID.
            if let (Some(new), Some(old)) = (
                c.features.group_writeback.target_ou.as_mut(),
                loaded.features.group_writeback.target_ou.as_ref(),
            ) && new.dn == old.dn
            {
                new.guid = old.guid;
            }
        }
        Task::ConfigureStagingMode => configure_staging_mode::apply(s, &mut c),
        Task::ChangeUserSignIn => change_user_sign_in::apply(s, &mut c),
        // wizfeatures
        Task::ConfigureSourceAnchor => {
            crate::wizard::pages::configure_source_anchor::apply(s, &mut c);
        }
        Task::ConfigureDeviceOptions => {
            crate::wizard::pages::configure_device_options::apply(s, &mut c);
        }
        _ => {}
    }
    if task.changes_config()
        || (task == Task::ConfigureDeviceOptions
            && crate::wizard::pages::configure_device_options::changes_config(s))
    {
        c.sync.scheduler_enabled = s.ready.start_sync;
    }
    c
}
