//! Microsoft Entra sign-in configuration: each UPN suffix of the forest against the tenant's
//! domains (Verified / Not verified / Not added), Ctrl+R re-reads the tenant, and the checkbox
//! "Continue without matching all UPN suffixes to verified domains". Custom also chooses the
//! attribute used as the Entra user principal name.
//!
//! Invariants: Express shows the page only when a suffix is not verified ([`needed`]); Next is
//! refused while a suffix is unverified and the box is not ticked.

use ratatui::text::{Line, Span};

use crate::config::Config;
use crate::domain::AttributeName;
use crate::effects::{Effect, Failure, TenantDomain};
use crate::wizard::app::{Flow, InstallPath, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::{connect_directories, connect_to_entra};
use crate::wizard::text::upn as t;
use crate::wizard::ui::{Body, Styles, checkbox, radio, working};
use crate::wizard::widgets::cycle;

/// A suffix's state in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuffixState {
    /// A verified domain.
    Verified,
    /// Added, not verified.
    NotVerified,
    /// Not a domain of the tenant.
    NotAdded,
}

/// The attribute that becomes the Entra UPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpnAttribute {
    /// `userPrincipalName`.
    #[default]
    UserPrincipalName,
    /// `mail`.
    Mail,
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpnSuffixes {
    /// Attribute (Custom).
    pub attribute: UpnAttribute,
    /// The checkbox.
    pub continue_anyway: bool,
    /// Focus index.
    pub focus: usize,
    /// Next refused.
    pub must_continue: bool,
    /// Domains re-read with Ctrl+R (replace those from the sign-in).
    pub refreshed: Option<Vec<TenantDomain>>,
    /// A refresh is running.
    pub refreshing: bool,
    /// The last refresh failed.
    pub refresh_failed: Option<Failure>,
}

/// Each forest UPN suffix with its state.
pub fn rows(s: &State) -> Vec<(String, SuffixState)> {
    let Some(tenant) = connect_to_entra::tenant(s) else {
        return Vec::new();
    };
    let domains = s.upn.refreshed.as_ref().unwrap_or(&tenant.domains);
    // The suffixes of every connected forest, each once.
    let mut suffixes: Vec<&String> = Vec::new();
    for f in connect_directories::forests(s) {
        for x in &f.upn_suffixes {
            if !suffixes.iter().any(|y| y.eq_ignore_ascii_case(x)) {
                suffixes.push(x);
            }
        }
    }
    suffixes
        .into_iter()
        .map(|suffix| {
            let state = match domains.iter().find(|d| d.name.eq_ignore_ascii_case(suffix)) {
                Some(d) if d.verified => SuffixState::Verified,
                Some(_) => SuffixState::NotVerified,
                None => SuffixState::NotAdded,
            };
            (suffix.clone(), state)
        })
        .collect()
}

fn all_verified(s: &State) -> bool {
    rows(s).iter().all(|(_, st)| *st == SuffixState::Verified)
}

/// Whether Express needs this page (some suffix is not verified).
pub fn needed(s: &State) -> bool {
    !all_verified(s)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    Attribute,
    Continue,
}

fn items(s: &State) -> Vec<Item> {
    let mut v = Vec::new();
    if s.path == InstallPath::Custom {
        v.push(Item::Attribute);
    }
    if !all_verified(s) {
        v.push(Item::Continue);
    }
    v
}

/// Nothing to start: the domains came with the sign-in.
pub fn enter(s: &mut State) -> Vec<Effect> {
    s.upn.focus = 0;
    Vec::new()
}

/// The tenant's domains were re-read.
pub fn on_domains(s: &mut State, r: Result<Vec<TenantDomain>, Failure>) {
    s.upn.refreshing = false;
    match r {
        Ok(d) => {
            s.upn.refreshed = Some(d);
            s.upn.refresh_failed = None;
            s.upn.must_continue = false;
        }
        Err(f) => s.upn.refresh_failed = Some(f),
    }
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let items = items(s);
    let focused = items.get(s.upn.focus).copied();
    let u = &mut s.upn;
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            u.focus = cycle(u.focus, items.len(), true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            u.focus = cycle(u.focus, items.len(), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            match focused {
                Some(Item::Attribute) => {
                    u.attribute = match u.attribute {
                        UpnAttribute::UserPrincipalName => UpnAttribute::Mail,
                        UpnAttribute::Mail => UpnAttribute::UserPrincipalName,
                    }
                }
                Some(Item::Continue) => {
                    u.continue_anyway = !u.continue_anyway;
                    u.must_continue = false;
                }
                None => {}
            }
            Flow::stay()
        }
        Input::Action(Action::Retry) if !u.refreshing => {
            u.refreshing = true;
            Flow::Stay(vec![Effect::RefreshTenantDomains])
        }
        Input::Action(Action::Next) => {
            if all_verified(s) || s.upn.continue_anyway {
                Flow::Next(Vec::new())
            } else {
                s.upn.must_continue = true;
                s.upn.focus = items.iter().position(|i| *i == Item::Continue).unwrap_or(0);
                Flow::stay()
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    let mut a = vec![Action::Next];
    if !items(s).is_empty() {
        a.extend([Action::FocusNext, Action::Toggle]);
    }
    a.push(Action::Retry);
    a
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let u = &s.upn;
    let items = items(s);
    let focused = items.get(u.focus).copied();
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    b.push(Line::from(vec![
        Span::styled(format!("  {:<40}", t::SUFFIX), st.title),
        Span::styled(t::STATE, st.title),
    ]));
    for (suffix, state) in rows(s) {
        let (label, style) = match state {
            SuffixState::Verified => (t::VERIFIED, st.success),
            SuffixState::NotVerified => (t::NOT_VERIFIED, st.warning),
            SuffixState::NotAdded => (t::NOT_ADDED, st.error),
        };
        b.push(Line::from(vec![
            Span::styled(format!("  {suffix:<40}"), st.text),
            Span::styled(label, style),
        ]));
    }
    if u.refreshing {
        b.push(working(s.tick, t::REFRESHING, st));
    }
    if let Some(f) = &u.refresh_failed {
        b.text(format!("✗ {}", f.message), st.error);
        b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.muted);
    }
    b.blank();
    if items.contains(&Item::Attribute) {
        let is = focused == Some(Item::Attribute);
        b.text(t::ATTRIBUTE, st.text);
        for (a, label) in [
            (UpnAttribute::UserPrincipalName, t::ATTR_UPN),
            (UpnAttribute::Mail, t::ATTR_MAIL),
        ] {
            let sel = u.attribute == a;
            b.push_focus(radio(sel, label, is && sel, st), is && sel);
        }
        b.blank();
    }
    if items.contains(&Item::Continue) {
        let is = focused == Some(Item::Continue);
        b.push_focus(
            checkbox(u.continue_anyway.into(), t::CONTINUE, is, true, st),
            is,
        );
        b.text(format!("  {}", t::WARNING), st.warning);
        if u.must_continue {
            b.text(format!("  {}", t::MUST_CONTINUE), st.error);
        }
    }
    b
}

/// Put the answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    c.sign_in.continue_without_verified_domains = s.upn.continue_anyway && !all_verified(s);
    if s.path == InstallPath::Custom
        && s.upn.attribute == UpnAttribute::Mail
        && let Ok(a) = AttributeName::new("mail")
    {
        c.sign_in.upn_attribute = a;
    }
}
