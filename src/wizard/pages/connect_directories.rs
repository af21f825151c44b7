//! Connect your directories: the forest, optionally its domain controllers and transport, and an
//! account. Express asks for Enterprise Admin credentials (hybridsync creates the connector
//! account with them on the Configure page); Custom also offers "Use existing AD account".
//! Next validates every field (messages next to the field) and then binds to the forest; only a
//! successful bind moves on.
//!
//! Invariants: passwords are masked and leave the page only inside an effect as a
//! [`Secret`](crate::domain::Secret); admin credentials are never written to the configuration.

use crate::config::Config;
use crate::config::model::{ConnectorAccount, Directory, DirectoryTls, Scope, TlsMode};
use crate::config::validate::is_dns_name;
use crate::credentials::SecretRef;
use crate::effects::{Effect, Failure, ForestInfo};
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
        }
    }
}

/// The fields shown on the current path, in focus order.
pub fn fields(s: &State) -> Vec<Field> {
    match s.path {
        InstallPath::Express => vec![Field::Forest, Field::User, Field::Password],
        InstallPath::Custom => vec![
            Field::Forest,
            Field::Dcs,
            Field::Tls,
            Field::AccountMode,
            Field::User,
            Field::Password,
        ],
    }
}

/// What the bind found, if it succeeded.
pub fn forest(s: &State) -> Option<&ForestInfo> {
    match &s.directories.bind {
        Bind::Connected(f) => Some(f),
        _ => None,
    }
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

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    if let Some(l) = &s.target.ldif_forest {
        let forest = l.forest.to_ascii_lowercase();
        return ldif_input(s, forest, input);
    }
    let shown = fields(s);
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
        Field::Tls | Field::AccountMode => None,
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
                _ => {}
            }
            d.bind = Bind::NotTried;
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if let Bind::Connected(_) = d.bind {
                return Flow::Next(Vec::new());
            }
            if !validate(s) {
                return Flow::stay();
            }
            let d = &mut s.directories;
            d.bind = Bind::Binding;
            Flow::Stay(vec![Effect::TestAdBind {
                forest: d.forest.text().to_ascii_lowercase(),
                domain_controllers: dc_list(d),
                tls: d.tls,
                username: d.user.text().to_string(),
                password: d.password.secret(),
            }])
        }
        _ => Flow::Unhandled,
    }
}

/// The bind answered.
pub fn on_forest(s: &mut State, r: Result<ForestInfo, Failure>) -> Flow {
    if s.directories.bind != Bind::Binding {
        return Flow::stay();
    }
    match r {
        Ok(info) => {
            s.directories.bind = Bind::Connected(info);
            // Move on only if the admin is still here (they may have gone back meanwhile).
            if s.page == PageId::ConnectDirectories {
                Flow::Next(Vec::new())
            } else {
                Flow::stay()
            }
        }
        Err(f) => {
            s.directories.bind = Bind::Failed(f);
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
    a
}

fn error(d: &ConnectDirectories, f: Field) -> Option<&'static str> {
    d.errors.iter().find(|(x, _)| *x == f).map(|(_, m)| *m)
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
        b.text(t::INTRO, st.muted);
    }
    for f in shown.iter().filter(|_| s.target.ldif_forest.is_none()) {
        let is = focused == Some(*f);
        match f {
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

/// Put the directory into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let Some(info) = forest(s) else {
        return;
    };
    let d = &s.directories;
    let (username, secret_ref, managed) = match (account_mode(s), configure::created_account(s)) {
        (AccountMode::Create, Some((user, r))) => (user.to_string(), r.clone(), true),
        (AccountMode::Create, None) => (
            String::new(),
            SecretRef::Store(secret_name(&info.forest)),
            true,
        ),
        (AccountMode::Existing, _) => (
            d.user.text().to_string(),
            SecretRef::Store(secret_name(&info.forest)),
            false,
        ),
    };
    c.directories.push(Directory {
        forest: info.forest.clone(),
        connector_name: None,
        domain_controllers: dc_list(d),
        dns_server: None,
        tls: DirectoryTls {
            mode: d.tls,
            ..DirectoryTls::default()
        },
        account: ConnectorAccount {
            username,
            secret_ref,
            managed,
        },
        scope: Scope::default(),
        pilot_group: None,
        delete_guard: None,
        ldif_file: None,
    });
}
