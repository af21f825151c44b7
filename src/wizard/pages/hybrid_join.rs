//! SCP configuration (Configure device options → Configure Microsoft Entra hybrid join): the
//! service connection point of the forest, `keywords` = `azureADName:<verified domain>` and
//! `azureADId:<tenant id>`, written with an Enterprise Admin's credentials when the admin presses
//! Enter. The result (the DN and the keywords read back from the DC) is shown on the page.
//!
//! Invariants: the admin's password is sent with the one write and never stored; nothing is
//! written while a field is invalid; the configuration file is not changed.

use crate::config::validate::is_dns_name;
use crate::effects::{Effect, Failure, ForestLogin, LoginSecret, ScpWritten};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::hybrid_join as t;
use crate::wizard::ui::{Body, Styles, working};
use crate::wizard::widgets::TextField;

/// A field of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The forest (a choice, when several are configured).
    Forest,
    /// `azureADName`.
    Domain,
    /// `azureADId`.
    Tenant,
    /// The Enterprise Admin.
    Admin,
    /// Its password.
    Password,
}

/// The fields in focus order (the forest only when there is a choice).
fn fields(s: &State) -> Vec<Field> {
    let mut v = Vec::new();
    if s.loaded().is_some_and(|c| c.directories.len() > 1) {
        v.push(Field::Forest);
    }
    v.extend([Field::Domain, Field::Tenant, Field::Admin, Field::Password]);
    v
}

/// The write's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Write {
    /// Not yet.
    #[default]
    NotRun,
    /// Writing.
    Running,
    /// Written.
    Done(ScpWritten),
    /// Failed.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, PartialEq)]
pub struct HybridJoin {
    /// The verified domain.
    pub domain: TextField,
    /// The tenant ID.
    pub tenant: TextField,
    /// The Enterprise Admin.
    pub admin: TextField,
    /// Its password.
    pub password: TextField,
    /// The forest (index into the configured directories).
    pub forest: usize,
    /// The focused field.
    pub focus: Field,
    /// Validation messages.
    pub errors: Vec<(Field, &'static str)>,
    /// The write.
    pub write: Write,
}

impl Default for HybridJoin {
    fn default() -> Self {
        Self {
            domain: TextField::default(),
            tenant: TextField::default(),
            admin: TextField::default(),
            password: TextField::password(),
            forest: 0,
            focus: Field::Domain,
            errors: Vec::new(),
            write: Write::NotRun,
        }
    }
}

/// Whether `text` is a GUID (`8-4-4-4-12` hex digits).
pub fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Pre-fill from the loaded configuration: the tenant ID when it is a GUID, and the forest's
/// name as the domain when the tenant ID is written as a domain.
pub fn prefill(s: &mut State) {
    let Some(c) = s.loaded() else {
        return;
    };
    let id = c.tenant.tenant_id.clone();
    let forest = c
        .directories
        .first()
        .map(|d| d.forest.clone())
        .unwrap_or_default();
    if is_guid(&id) {
        s.hybrid_join.tenant = TextField::new(&id);
        s.hybrid_join.domain = TextField::new(&forest);
    } else {
        s.hybrid_join.domain = TextField::new(&id);
    }
}

/// The forest the SCP goes into (the one chosen; the SCP is per forest).
pub fn forest(s: &State) -> Option<&crate::config::model::Directory> {
    s.loaded()
        .and_then(|c| c.directories.get(s.hybrid_join.forest))
}

/// Choose the forest named `name` (case-insensitive); false when none is configured so.
pub fn choose_forest(s: &mut State, name: &str) -> bool {
    let Some(i) = s.loaded().and_then(|c| {
        c.directories
            .iter()
            .position(|d| d.forest.eq_ignore_ascii_case(name))
    }) else {
        return false;
    };
    s.hybrid_join.forest = i;
    s.hybrid_join.write = Write::NotRun;
    true
}

/// Validate the fields.
pub fn validate(h: &HybridJoin) -> Vec<(Field, &'static str)> {
    let mut v = Vec::new();
    if !is_dns_name(h.domain.text().trim()) {
        v.push((Field::Domain, t::BAD_DOMAIN));
    }
    if !is_guid(h.tenant.text().trim()) {
        v.push((Field::Tenant, t::BAD_TENANT));
    }
    if h.admin.text().trim().is_empty() {
        v.push((Field::Admin, crate::wizard::text::REQUIRED));
    }
    if h.password.is_empty() {
        v.push((Field::Password, crate::wizard::text::REQUIRED));
    }
    v
}

/// The write, when every field is valid.
pub fn effect(s: &State) -> Option<Effect> {
    let h = &s.hybrid_join;
    let d = forest(s)?;
    Some(Effect::ConfigureScp {
        login: ForestLogin {
            forest: d.forest.clone(),
            domain_controllers: d.domain_controllers.clone(),
            tls: d.tls.mode,
            username: h.admin.text().trim().to_string(),
            password: LoginSecret::Given(h.password.secret()),
        },
        tenant_id: h.tenant.text().trim().to_ascii_lowercase(),
        domain: h.domain.text().trim().to_ascii_lowercase(),
    })
}

/// The write answered.
pub fn on_written(s: &mut State, r: Result<ScpWritten, Failure>) {
    s.hybrid_join.write = match r {
        Ok(w) => Write::Done(w),
        Err(f) => Write::Failed(f),
    };
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let fields = fields(s);
    let at = fields
        .iter()
        .position(|f| *f == s.hybrid_join.focus)
        .unwrap_or(0);
    let forests = s.loaded().map_or(0, |c| c.directories.len());
    let h = &mut s.hybrid_join;
    match input {
        Input::Action(Action::Toggle) | Input::Char(' ') if h.focus == Field::Forest => {
            h.forest = (h.forest + 1) % forests.max(1);
            h.write = Write::NotRun;
            Flow::stay()
        }
        Input::Action(Action::FocusNext | Action::Down) => {
            h.focus = fields[(at + 1) % fields.len()];
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            h.focus = fields[(at + fields.len() - 1) % fields.len()];
            Flow::stay()
        }
        Input::Action(Action::Next | Action::Retry) => {
            if h.write == Write::Running {
                return Flow::stay();
            }
            h.errors = validate(h);
            if let Some((f, _)) = h.errors.first() {
                h.focus = *f;
                return Flow::stay();
            }
            match effect(s) {
                Some(e) => {
                    s.hybrid_join.write = Write::Running;
                    Flow::Stay(vec![e])
                }
                None => Flow::stay(),
            }
        }
        other => {
            let field = match h.focus {
                Field::Forest => return Flow::Unhandled,
                Field::Domain => &mut h.domain,
                Field::Tenant => &mut h.tenant,
                Field::Admin => &mut h.admin,
                Field::Password => &mut h.password,
            };
            if field.input(other) {
                h.errors.clear();
                Flow::stay()
            } else {
                Flow::Unhandled
            }
        }
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::FocusNext]
}

fn error(h: &HybridJoin, f: Field) -> Option<&'static str> {
    h.errors.iter().find(|(x, _)| *x == f).map(|(_, m)| *m)
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let h = &s.hybrid_join;
    let mut b = Body::default();
    let forest = forest(s).map(|d| d.forest.clone()).unwrap_or_default();
    b.text(t::intro(&forest), st.muted);
    b.text(t::SERVICE, st.muted);
    if fields(s).contains(&Field::Forest) {
        let all: Vec<String> = s
            .loaded()
            .map(|c| c.directories.iter().map(|d| d.forest.clone()).collect())
            .unwrap_or_default();
        b.text(t::FOREST, st.text);
        for (i, f) in all.iter().enumerate() {
            let focused = h.focus == Field::Forest && i == h.forest;
            b.push_focus(
                crate::wizard::ui::radio(i == h.forest, f, focused, st),
                focused,
            );
        }
    }
    for (f, label, field) in [
        (Field::Domain, t::DOMAIN, &h.domain),
        (Field::Tenant, t::TENANT, &h.tenant),
        (Field::Admin, t::ADMIN, &h.admin),
        (Field::Password, t::PASSWORD, &h.password),
    ] {
        b.field(label, field, h.focus == f, error(h, f), st);
    }
    b.blank();
    match &h.write {
        Write::NotRun => {}
        Write::Running => b.push(working(s.tick, t::WRITING, st)),
        Write::Done(w) => {
            b.push_focus(
                ratatui::text::Line::styled(t::written(&w.dn.to_string(), w.created), st.success),
                true,
            );
            b.text(t::keywords(&w.keywords.join(", ")), st.text);
            b.text(t::NEXT_STEPS, st.muted);
        }
        Write::Failed(f) => {
            b.text(t::FAILED, st.error);
            b.text(format!("  {}", f.message), st.error);
            b.push_focus(
                ratatui::text::Line::styled(
                    format!("  {}{}", crate::wizard::text::FIX, f.fix),
                    st.text,
                ),
                true,
            );
        }
    }
    b
}
