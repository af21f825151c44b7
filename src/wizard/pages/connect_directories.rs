//! Connect your directories: the forest, optionally its domain controllers and transport, and an
//! account. Express asks for Enterprise Admin credentials (hybridsync creates the connector
//! account with them on the Configure page); Custom also offers "Use existing AD account".
//! Next validates every field (messages next to the field) and then binds to the forest; only a
//! successful bind moves on.
//!
//! Several forests (Custom): the page lists the directories connected so far above the form;
//! Ctrl+N binds the form's forest and keeps the page for another one (or, when the form shows a
//! connected forest, clears it for the next), Delete on a listed directory removes it, and Enter
//! with an empty form moves on. A forest is never added twice. An import ("Install required
//! components") lists the imported forests as pending: the form is filled with each in turn and
//! only its credentials are asked. On a rerun the configured forests are listed read-only and new
//! ones can be added. An existing account's effective rights (and whether it is an Enterprise or
//! Domain admin, which is refused as in Entra Connect) are read on Ready to configure, once the
//! features that decide the rights are chosen ([`check_rights`]).
//!
//! Invariants: passwords are masked and leave the page only inside an effect as a
//! [`Secret`](crate::domain::Secret); admin credentials are never written to the configuration;
//! the configuration gets one `[[directories]]` entry per connected forest, in the order added.

use crate::config::Config;
use crate::config::model::{ConnectorAccount, Directory, DirectoryTls, TlsMode};
use crate::config::validate::is_dns_name;
use crate::credentials::SecretRef;
use crate::effects::{AccountRights, Effect, Failure, ForestInfo};
use crate::provision::rights::Features;
use crate::wizard::app::{Flow, InstallPath, PageId, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::configure;
use crate::wizard::text::{self, directories as t};
use crate::wizard::ui::{Body, Styles, radio};
use crate::wizard::widgets::{TextField, cycle};

/// A field of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Forest name.
    Forest,
    /// Domain controllers.
    Dcs,
    /// Transport.
    Tls,
    /// Create or use existing.
    AccountMode,
    /// Account name.
    User,
    /// Password.
    Password,
    /// A connected directory of the list (Custom), by index into
    /// [`ConnectDirectories::added`].
    Listed(usize),
}

/// How the connector account comes about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountMode {
    /// hybridsync creates `MSOL_<hex>` with admin credentials.
    #[default]
    Create,
    /// An existing account.
    Existing,
}

/// The bind.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Bind {
    /// Not tried.
    #[default]
    NotTried,
    /// Running.
    Binding,
    /// Succeeded.
    Connected(ForestInfo),
    /// Failed.
    Failed(Failure),
}

/// Connect your directories state.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectDirectories {
    /// Forest.
    pub forest: TextField,
    /// DCs.
    pub dcs: TextField,
    /// Transport.
    pub tls: TlsMode,
    /// Account choice.
    pub mode: AccountMode,
    /// Account.
    pub user: TextField,
    /// Password.
    pub password: TextField,
    /// Focused field index (into [`fields`]).
    pub focus: usize,
    /// Validation messages by field.
    pub errors: Vec<(Field, &'static str)>,
    /// The bind.
    pub bind: Bind,
    /// The forests connected, in order (the configuration's `[[directories]]`).
    pub added: Vec<Added>,
    /// The connected forest the form shows (its fields edit that entry).
    pub editing: Option<usize>,
    /// Imported forests still waiting for their credentials.
    pub pending: Vec<Directory>,
    /// The running bind was started by "add another directory": stay on the page after it.
    pub more: bool,
}

/// A forest connected on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// What the bind found.
    pub info: ForestInfo,
    /// Domain controllers (empty: DNS discovery).
    pub dcs: Vec<String>,
    /// Transport.
    pub tls: TlsMode,
    /// Create the connector account or use an existing one.
    pub mode: AccountMode,
    /// The admin (create) or the connector account (existing).
    pub user: String,
    /// Its password (in memory until Configure).
    pub password: TextField,
    /// The configuration's entry for this forest: on a rerun, the configured directory (kept as
    /// it is, never bound again); after an import, the imported one (its scope and options).
    pub from_config: Option<Directory>,
    /// An existing account's rights, checked on Ready to configure for the features chosen.
    pub rights: Rights,
}

/// The rights check of an existing connector account.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Rights {
    /// Not checked (or a created account: hybridsync grants its rights).
    #[default]
    NotChecked,
    /// Being read, for these features.
    Checking(Features),
    /// Read for these features.
    Done(Features, Result<AccountRights, Failure>),
}

impl Default for ConnectDirectories {
    fn default() -> Self {
        Self {
            forest: TextField::default(),
            dcs: TextField::default(),
            tls: TlsMode::Ldaps,
            mode: AccountMode::Create,
            user: TextField::default(),
            password: TextField::password(),
            focus: 0,
            errors: Vec::new(),
            bind: Bind::NotTried,
            added: Vec::new(),
            editing: None,
            pending: Vec::new(),
            more: false,
        }
    }
}

/// The fields shown on the current path, in focus order.
pub fn fields(s: &State) -> Vec<Field> {
    match s.path {
        InstallPath::Express => vec![Field::Forest, Field::User, Field::Password],
        InstallPath::Custom => (0..s.directories.added.len())
            .map(Field::Listed)
            .chain([
                Field::Forest,
                Field::Dcs,
                Field::Tls,
                Field::AccountMode,
                Field::User,
                Field::Password,
            ])
            .collect(),
    }
}

/// The first forest connected (the default of the pages that pick one forest: Domain and OU
/// filtering's tree, the pilot group's search; the Exchange hybrid check).
pub fn forest(s: &State) -> Option<&ForestInfo> {
    s.directories.added.first().map(|a| &a.info)
}

/// The forests connected that the configuration gets, in order: every one on the Custom path,
/// the first on the Express path (one forest, as in Entra Connect).
pub fn connected(s: &State) -> &[Added] {
    let a = &s.directories.added;
    match s.path {
        InstallPath::Express if s.rerun.is_none() => a.get(..1).unwrap_or_default(),
        _ => a,
    }
}

/// Every forest connected (see [`connected`]), in order.
pub fn forests(s: &State) -> Vec<&ForestInfo> {
    connected(s).iter().map(|a| &a.info).collect()
}

/// The account mode in effect (Express always creates).
pub fn account_mode(s: &State) -> AccountMode {
    match s.path {
        InstallPath::Express => AccountMode::Create,
        InstallPath::Custom => s.directories.mode,
    }
}

/// The secret name the connector account's password is stored under.
pub fn secret_name(forest: &str) -> String {
    let mut name = format!("ad-{}", forest.to_ascii_lowercase());
    name.truncate(crate::credentials::MAX_NAME_LEN);
    name
}

fn dc_list(d: &ConnectDirectories) -> Vec<String> {
    d.dcs
        .text()
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn valid_user(u: &str) -> bool {
    let two = |sep: char| {
        u.split_once(sep)
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains(sep))
    };
    two('\\') || two('@')
}

fn valid_dc(dc: &str) -> bool {
    match dc.rsplit_once(':') {
        Some((host, port)) => is_dns_name(host) && port.parse::<u16>().is_ok_and(|p| p > 0),
        None => is_dns_name(dc),
    }
}

/// Validate the fields; the messages are kept in the page state.
pub fn validate(s: &mut State) -> bool {
    let shown = fields(s);
    let d = &mut s.directories;
    let mut errors = Vec::new();
    if d.forest.is_empty() {
        errors.push((Field::Forest, text::REQUIRED));
    } else if !is_dns_name(d.forest.text()) {
        errors.push((Field::Forest, t::BAD_FOREST));
    } else if d
        .added
        .iter()
        .enumerate()
        .any(|(i, a)| Some(i) != d.editing && a.info.forest.eq_ignore_ascii_case(d.forest.text()))
    {
        errors.push((Field::Forest, t::ALREADY_ADDED));
    }
    if shown.contains(&Field::Dcs) && !dc_list(d).iter().all(|dc| valid_dc(dc)) {
        errors.push((Field::Dcs, t::BAD_DC));
    }
    if d.user.is_empty() {
        errors.push((Field::User, text::REQUIRED));
    } else if !valid_user(d.user.text()) {
        errors.push((Field::User, t::BAD_USER));
    }
    if d.password.is_empty() {
        errors.push((Field::Password, text::REQUIRED));
    }
    d.errors = errors;
    if let Some((f, _)) = d.errors.first() {
        d.focus = shown.iter().position(|x| x == f).unwrap_or(0);
    }
    d.errors.is_empty()
}

/// Next on an LDIF forest: nothing to type, "bind" reads the file.
fn ldif_input(s: &mut State, forest: String, input: Input) -> Flow {
    let d = &mut s.directories;
    match input {
        Input::Action(Action::Next) => match d.bind {
            Bind::Connected(_) => Flow::Next(Vec::new()),
            Bind::Binding => Flow::stay(),
            Bind::NotTried | Bind::Failed(_) => {
                d.bind = Bind::Binding;
                Flow::Stay(vec![Effect::TestAdBind {
                    forest,
                    domain_controllers: Vec::new(),
                    tls: d.tls,
                    username: String::new(),
                    password: crate::domain::Secret::new(String::new()),
                }])
            }
        },
        _ => Flow::Unhandled,
    }
}

/// Empty the form for the next forest (filled with the next imported one, if any).
fn clear_form(d: &mut ConnectDirectories) {
    d.forest = TextField::default();
    d.dcs = TextField::default();
    d.tls = TlsMode::Ldaps;
    d.mode = AccountMode::Create;
    d.user = TextField::default();
    d.password = TextField::password();
    d.errors.clear();
    d.bind = Bind::NotTried;
    d.editing = None;
    if let Some(p) = d.pending.first() {
        d.forest = TextField::new(&p.forest);
        d.dcs = TextField::new(&p.domain_controllers.join(", "));
        d.tls = p.tls.mode;
        d.mode = if p.account.managed {
            AccountMode::Create
        } else {
            AccountMode::Existing
        };
        if !p.account.managed {
            d.user = TextField::new(&p.account.username);
        }
    }
}

fn form_is_empty(d: &ConnectDirectories) -> bool {
    d.forest.is_empty() && d.user.is_empty() && d.password.is_empty() && d.dcs.is_empty()
}

/// Remove the listed directory `i`; a configured (rerun) or imported forest stays.
fn remove(d: &mut ConnectDirectories, i: usize) {
    let Some(a) = d.added.get(i) else {
        return;
    };
    if a.from_config.is_some() {
        d.errors = vec![(Field::Listed(i), t::CONFIGURED_STAYS)];
        return;
    }
    d.added.remove(i);
    match d.editing {
        Some(e) if e == i => clear_form(d),
        Some(e) if e > i => d.editing = Some(e - 1),
        _ => {}
    }
    d.focus = d.focus.min(d.added.len());
    d.errors.clear();
}

fn bind_effect(d: &ConnectDirectories) -> Effect {
    Effect::TestAdBind {
        forest: d.forest.text().to_ascii_lowercase(),
        domain_controllers: dc_list(d),
        tls: d.tls,
        username: d.user.text().to_string(),
        password: d.password.secret(),
    }
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    if let Some(l) = &s.target.ldif_forest {
        let forest = l.forest.to_ascii_lowercase();
        return ldif_input(s, forest, input);
    }
    let shown = fields(s);
    let custom = s.path == InstallPath::Custom;
    let focused = shown
        .get(s.directories.focus)
        .copied()
        .unwrap_or(Field::Forest);
    let d = &mut s.directories;
    if d.bind == Bind::Binding {
        return match input {
            Input::Action(Action::Back) => Flow::Unhandled,
            _ => Flow::stay(),
        };
    }
    let field = match focused {
        Field::Forest => Some(&mut d.forest),
        Field::Dcs => Some(&mut d.dcs),
        Field::User => Some(&mut d.user),
        Field::Password => Some(&mut d.password),
        Field::Tls | Field::AccountMode | Field::Listed(_) => None,
    };
    if let Some(f) = field
        && f.input(input)
    {
        d.errors.retain(|(x, _)| *x != focused);
        if matches!(d.bind, Bind::Connected(_) | Bind::Failed(_)) {
            d.bind = Bind::NotTried;
        }
        return Flow::stay();
    }
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            d.focus = cycle(d.focus, shown.len(), true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            d.focus = cycle(d.focus, shown.len(), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            match focused {
                Field::Tls => {
                    d.tls = match d.tls {
                        TlsMode::Ldaps => TlsMode::Starttls,
                        TlsMode::Starttls => TlsMode::Plain,
                        TlsMode::Plain => TlsMode::Ldaps,
                    }
                }
                Field::AccountMode => {
                    d.mode = match d.mode {
                        AccountMode::Create => AccountMode::Existing,
                        AccountMode::Existing => AccountMode::Create,
                    }
                }
                _ => return Flow::stay(),
            }
            d.bind = Bind::NotTried;
            Flow::stay()
        }
        // --- several forests ---
        Input::Action(Action::Remove) if custom => {
            if let Field::Listed(i) = focused {
                remove(d, i);
            }
            Flow::stay()
        }
        Input::Action(Action::AddDirectory) if custom => {
            if matches!(d.bind, Bind::Connected(_)) || (form_is_empty(d) && !d.added.is_empty()) {
                // The form shows a connected forest (or nothing): start a new one.
                clear_form(d);
                d.focus = d.added.len();
                return Flow::stay();
            }
            if !validate(s) {
                return Flow::stay();
            }
            let d = &mut s.directories;
            d.bind = Bind::Binding;
            d.more = true;
            Flow::Stay(vec![bind_effect(d)])
        }
        // --- end several forests ---
        Input::Action(Action::Next) => {
            if let Bind::Connected(_) = d.bind
                && d.pending.is_empty()
            {
                return Flow::Next(Vec::new());
            }
            if custom && form_is_empty(d) && !d.added.is_empty() && d.pending.is_empty() {
                return Flow::Next(Vec::new());
            }
            if !validate(s) {
                return Flow::stay();
            }
            let d = &mut s.directories;
            d.bind = Bind::Binding;
            d.more = false;
            Flow::Stay(vec![bind_effect(d)])
        }
        _ => Flow::Unhandled,
    }
}

/// The bind answered: the forest joins the list (or replaces the entry the form showed).
pub fn on_forest(s: &mut State, r: Result<ForestInfo, Failure>) -> Flow {
    if s.directories.bind != Bind::Binding {
        return Flow::stay();
    }
    match r {
        Ok(info) => {
            let mode = account_mode(s);
            let d = &mut s.directories;
            let from_config = d
                .pending
                .iter()
                .position(|p| p.forest.eq_ignore_ascii_case(&info.forest))
                .map(|i| d.pending.remove(i));
            let entry = Added {
                info: info.clone(),
                dcs: dc_list(d),
                tls: d.tls,
                mode,
                user: d.user.text().to_string(),
                password: d.password.clone(),
                from_config,
                rights: Rights::NotChecked,
            };
            let existing = d.editing.filter(|i| *i < d.added.len()).or_else(|| {
                d.added
                    .iter()
                    .position(|a| a.info.forest.eq_ignore_ascii_case(&info.forest))
            });
            let i = match existing {
                Some(i) => {
                    if let Some(slot) = d.added.get_mut(i) {
                        let keep = slot.from_config.take();
                        *slot = Added {
                            from_config: entry.from_config.clone().or(keep),
                            ..entry
                        };
                    }
                    i
                }
                None => {
                    d.added.push(entry);
                    d.added.len() - 1
                }
            };
            d.bind = Bind::Connected(info);
            d.editing = Some(i);
            if d.more || !d.pending.is_empty() {
                // Stay for the next forest.
                d.more = false;
                clear_form(d);
                d.focus = d.added.len();
                return Flow::stay();
            }
            // Move on only if the admin is still here (they may have gone back meanwhile).
            if s.page == PageId::ConnectDirectories {
                Flow::Next(Vec::new())
            } else {
                Flow::stay()
            }
        }
        Err(f) => {
            s.directories.bind = Bind::Failed(f);
            s.directories.more = false;
            Flow::stay()
        }
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    if s.directories.bind == Bind::Binding {
        return vec![];
    }
    let mut a = vec![Action::Next, Action::FocusNext];
    let shown = fields(s);
    if matches!(
        shown.get(s.directories.focus),
        Some(Field::Tls | Field::AccountMode)
    ) {
        a.push(Action::Toggle);
    }
    if s.path == InstallPath::Custom && s.target.ldif_forest.is_none() {
        a.push(Action::AddDirectory);
        if matches!(shown.get(s.directories.focus), Some(Field::Listed(_))) {
            a.push(Action::Remove);
        }
    }
    a
}

fn error(d: &ConnectDirectories, f: Field) -> Option<&'static str> {
    d.errors.iter().find(|(x, _)| *x == f).map(|(_, m)| *m)
}

fn account_line(a: &Added) -> String {
    match (&a.from_config, a.mode) {
        (Some(c), _) if a.password.is_empty() && !c.account.username.is_empty() => {
            t::listed_configured(&c.account.username)
        }
        (_, AccountMode::Create) => t::LISTED_CREATE.to_string(),
        (_, AccountMode::Existing) => t::listed_existing(&a.user),
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let d = &s.directories;
    let shown = fields(s);
    let focused = shown.get(d.focus).copied();
    let mut b = Body::default();
    if let Some(l) = &s.target.ldif_forest {
        b.text(t::LDIF_INTRO, st.muted);
        b.blank();
        b.text(
            t::ldif_forest(&l.forest, &l.file.display().to_string()),
            st.text,
        );
        b.text(t::LDIF_NO_ACCOUNT, st.muted);
    }
    if s.target.ldif_forest.is_none() {
        if s.path == InstallPath::Custom && !(d.added.is_empty() && d.pending.is_empty()) {
            b.text(t::LISTED, st.title);
            for (i, a) in d.added.iter().enumerate() {
                let is = focused == Some(Field::Listed(i));
                let line = format!(
                    "{}✓ {} — {}",
                    if is { "› " } else { "  " },
                    a.info.forest,
                    account_line(a)
                );
                b.push_focus(
                    ratatui::text::Line::styled(line, if is { st.selection } else { st.text }),
                    is,
                );
                if let Some(m) = error(d, Field::Listed(i)) {
                    b.text(format!("    {m}"), st.error);
                }
            }
            for p in &d.pending {
                b.text(format!("  · {}", t::pending(&p.forest)), st.warning);
            }
            b.text(t::ADD_ANOTHER, st.muted);
        } else {
            b.text(t::INTRO, st.muted);
        }
    }
    for f in shown.iter().filter(|_| s.target.ldif_forest.is_none()) {
        let is = focused == Some(*f);
        match f {
            Field::Listed(_) => {}
            Field::Forest => b.field(t::FOREST, &d.forest, is, error(d, *f), st),
            Field::Dcs => b.field(t::DCS, &d.dcs, is, error(d, *f), st),
            Field::Tls => {
                b.text(t::TLS, st.text);
                for (mode, label) in [
                    (TlsMode::Ldaps, t::TLS_LDAPS),
                    (TlsMode::Starttls, t::TLS_STARTTLS),
                    (TlsMode::Plain, t::TLS_PLAIN),
                ] {
                    let sel = d.tls == mode;
                    b.push_focus(radio(sel, label, is && sel, st), is && sel);
                }
            }
            Field::AccountMode => {
                for (mode, label) in [
                    (AccountMode::Create, t::CREATE),
                    (AccountMode::Existing, t::EXISTING),
                ] {
                    let sel = d.mode == mode;
                    b.push_focus(radio(sel, label, is && sel, st), is && sel);
                }
            }
            Field::User => {
                let label = if account_mode(s) == AccountMode::Create {
                    t::ADMIN_USER
                } else {
                    t::USER
                };
                b.field(label, &d.user, is, error(d, *f), st);
            }
            Field::Password => b.field(t::PASSWORD, &d.password, is, error(d, *f), st),
        }
    }
    b.blank();
    match &d.bind {
        Bind::NotTried => {
            if s.target.ldif_forest.is_some() {
                b.text(t::LDIF_NEXT, st.muted);
            } else if account_mode(s) == AccountMode::Create {
                b.text(t::EXPRESS_NOTE, st.muted);
            }
        }
        Bind::Binding => b.push(crate::wizard::ui::working(s.tick, t::BINDING, st)),
        Bind::Connected(info) => b.text(
            format!("✓ {}", t::connected(&info.forest, info.domains.len())),
            st.success,
        ),
        Bind::Failed(f) => {
            b.push_focus(
                ratatui::text::Line::styled(format!("✗ {}: {}", t::FAILED, f.message), st.error),
                true,
            );
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
        }
    }
    b
}

/// The configuration entry of a connected forest.
pub fn directory(s: &State, a: &Added) -> Directory {
    let (username, secret_ref, managed) =
        match (a.mode, configure::created_account(s, &a.info.forest)) {
            (AccountMode::Create, Some((user, r))) => (user.to_string(), r.clone(), true),
            (AccountMode::Create, None) => (
                String::new(),
                SecretRef::Store(secret_name(&a.info.forest)),
                true,
            ),
            (AccountMode::Existing, _) => (
                a.user.clone(),
                SecretRef::Store(secret_name(&a.info.forest)),
                false,
            ),
        };
    let imported = a.from_config.as_ref();
    Directory {
        forest: a.info.forest.clone(),
        connector_name: imported.and_then(|d| d.connector_name.clone()),
        domain_controllers: a.dcs.clone(),
        dns_server: imported.and_then(|d| d.dns_server),
        tls: DirectoryTls {
            mode: a.tls,
            ..imported.map(|d| d.tls.clone()).unwrap_or_default()
        },
        account: ConnectorAccount {
            username,
            secret_ref,
            managed,
        },
        // An imported forest keeps its selection until its OU tree is opened.
        scope: imported.map(|d| d.scope.clone()).unwrap_or_default(),
        pilot_group: None,
        delete_guard: imported.and_then(|d| d.delete_guard.clone()),
        ldif_file: None,
    }
}

/// Put the directories into the configuration, one entry per connected forest.
pub fn apply(s: &State, c: &mut Config) {
    for a in connected(s) {
        let d = directory(s, a);
        c.directories.push(d);
    }
}

// --- several forests: the existing accounts' rights ---
/// Whether the account of `a` is checked: an existing account bound on this run (not an LDIF
/// forest, not a rerun's configured forest).
fn to_check(s: &State, a: &Added) -> bool {
    a.mode == AccountMode::Existing
        && !s.target.is_ldif(&a.info.forest)
        && !(s.rerun.is_some() && a.from_config.is_some())
}

/// Start the rights checks of the existing accounts whose rights were not read for the
/// features `c` gives their forest ([`Features::for_forest`]: writeback only in its forest).
pub fn check_rights(s: &mut State, c: &Config) -> Vec<Effect> {
    let wanted: Vec<(usize, Features)> = connected(s)
        .iter()
        .enumerate()
        .filter(|(_, a)| to_check(s, a))
        .map(|(i, a)| (i, a, Features::for_forest(c, &a.info.forest)))
        .filter(|(_, a, features)| match &a.rights {
            Rights::NotChecked => true,
            Rights::Checking(f) | Rights::Done(f, _) => f != features,
        })
        .map(|(i, _, features)| (i, features))
        .collect();
    let mut out = Vec::new();
    for (i, features) in wanted {
        if let Some(a) = s.directories.added.get_mut(i) {
            a.rights = Rights::Checking(features.clone());
            out.push(Effect::CheckAccountRights {
                forest: a.info.forest.to_ascii_lowercase(),
                features,
            });
        }
    }
    out
}

/// A rights check answered.
pub fn on_rights(s: &mut State, forest: &str, r: Result<AccountRights, Failure>) {
    if let Some(a) = s
        .directories
        .added
        .iter_mut()
        .find(|a| a.info.forest.eq_ignore_ascii_case(forest))
        && let Rights::Checking(f) = &a.rights
    {
        a.rights = Rights::Done(f.clone(), r);
    }
}

/// What the rights checks found that blocks Configure: one line per problem.
pub fn rights_problems(s: &State) -> Vec<String> {
    rights_problems_by_forest(s)
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .collect()
}

/// The rights checks' problems, by forest (in connection order; forests without a problem are
/// left out).
pub fn rights_problems_by_forest(s: &State) -> Vec<(String, Vec<String>)> {
    let mut all = Vec::new();
    for a in connected(s).iter().filter(|a| to_check(s, a)) {
        let mut out = Vec::new();
        let forest = &a.info.forest;
        match &a.rights {
            Rights::NotChecked => {}
            Rights::Checking(_) => out.push(t::rights_checking(&a.user, forest)),
            Rights::Done(_, Err(f)) => {
                out.push(format!("{forest}: {} (fix: {})", f.message, f.fix))
            }
            Rights::Done(_, Ok(r)) => {
                if !r.privileged.is_empty() {
                    out.push(t::privileged(&a.user, &r.privileged.join(", ")));
                }
                for l in r.missing() {
                    out.push(t::right_missing(
                        &a.user, &l.right, &l.feature, &l.status, &l.fix,
                    ));
                }
            }
        }
        if !out.is_empty() {
            all.push((forest.clone(), out));
        }
    }
    all
}
// --- end several forests: the existing accounts' rights ---

/// Rerun: add the forests connected on this run (the configured ones stay as loaded).
pub fn apply_new(s: &State, c: &mut Config) {
    for a in s
        .directories
        .added
        .iter()
        .filter(|a| a.from_config.is_none())
    {
        if !c
            .directories
            .iter()
            .any(|d| d.forest.eq_ignore_ascii_case(&a.info.forest))
        {
            let d = directory(s, a);
            c.directories.push(d);
        }
    }
}

/// The forests connected on a rerun that the configuration does not have yet (their account
/// is created or stored on Configure).
pub fn new_on_rerun(s: &State) -> Vec<usize> {
    s.directories
        .added
        .iter()
        .enumerate()
        .filter(|(_, a)| a.from_config.is_none())
        .map(|(i, _)| i)
        .collect()
}

/// Rerun ("Add a directory" on Customize synchronization options): empty the form for a new
/// forest, or forget the forests added on this run.
pub fn start_adding(s: &mut State, on: bool) {
    let d = &mut s.directories;
    d.added.retain(|a| a.from_config.is_some());
    clear_form(d);
    d.focus = if on { d.added.len() } else { 0 };
}

/// After "Import synchronization settings": the imported forests wait for their credentials
/// (the form shows the first), and every later page is pre-filled from the configuration.
pub fn prefill_import(s: &mut State, c: &Config) {
    let d = &mut s.directories;
    d.added.clear();
    d.pending = c.directories.clone();
    clear_form(d);
    crate::wizard::pages::additional_tasks::prefill_settings(s, c);
    // The first run may keep "Do not configure"; an import starts in staging mode.
    s.user_sign_in.method = c.sign_in.method;
    s.ready.staging = true;
    s.ready.start_sync = c.sync.scheduler_enabled;
    // The pilot group of whichever forest has one (the forests connect in the file's order).
    if let Some((i, g)) = c
        .directories
        .iter()
        .enumerate()
        .find_map(|(i, d)| d.pilot_group.as_ref().map(|g| (i, g)))
    {
        s.filter.forest = i;
        s.filter.selected = true;
        s.filter.chosen = Some(crate::effects::GroupEntry {
            dn: g.dn.clone(),
            guid: g.guid,
            members: 0,
        });
    }
}
