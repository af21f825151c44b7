//! Optional features: each checkbox with what it needs underneath. Features the forest or
//! hybridsync cannot support are shown greyed with the reason (no Exchange schema; password
//! writeback needs Microsoft's relay; password hash sync is the sign-in method, so it stays on).
//! Group writeback chooses its OU ([`super::group_writeback`]) and directory extensions their
//! attributes ([`super::directory_extensions`]) on pages of their own that follow this one.
//!
//! Invariants: a greyed feature can never be turned on; the answers map one to one onto
//! `[features]` in the configuration.

use crate::config::Config;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories;
use crate::wizard::text::features as t;
use crate::wizard::ui::{Body, Check, Styles, checkbox, note};
use crate::wizard::widgets::cycle;

/// A feature (or a feature's field) on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// Exchange hybrid.
    ExchangeHybrid,
    /// Public folders.
    PublicFolders,
    /// Password hash sync.
    PasswordHashSync,
    /// Password writeback.
    PasswordWriteback,
    /// Group writeback.
    GroupWriteback,
    /// Device writeback.
    DeviceWriteback,
    /// Directory extensions.
    Extensions,
    /// wizfeatures: app and attribute filtering ([`super::app_filtering`]).
    AppFiltering,
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionalFeatures {
    /// Exchange hybrid.
    pub exchange_hybrid: bool,
    /// Public folders.
    pub public_folders: bool,
    /// Group writeback (its OU: [`super::group_writeback`]).
    pub group_writeback: bool,
    /// Device writeback.
    pub device_writeback: bool,
    /// Directory extensions (their attributes: [`super::directory_extensions`]).
    pub extensions: bool,
    /// wizfeatures: app and attribute filtering (its pages: [`super::app_filtering`]).
    pub app_filtering: bool,
    /// Focus index into [`items`].
    pub focus: usize,
    /// Validation messages.
    pub errors: Vec<(Item, &'static str)>,
}

/// Whether a connected forest's schema has Exchange (Exchange hybrid and public folders write
/// back into each object's own forest).
fn exchange(s: &State) -> bool {
    connect_directories::forests(s)
        .iter()
        .any(|f| f.exchange_schema)
}

/// Whether the writeback forest's schema has Exchange (the first connected forest with it,
/// unless another was chosen on the Group writeback page).
fn writeback_exchange(s: &State) -> bool {
    super::group_writeback::forest(s).is_some_and(|f| f.exchange_schema)
}

/// Whether group writeback is ticked and possible (Exchange in the writeback forest's schema).
pub fn group_writeback_on(s: &State) -> bool {
    s.features.group_writeback && writeback_exchange(s)
}

/// The rows, in focus order.
pub fn items(_: &State) -> Vec<Item> {
    vec![
        Item::ExchangeHybrid,
        Item::PublicFolders,
        Item::PasswordHashSync,
        Item::PasswordWriteback,
        Item::GroupWriteback,
        Item::DeviceWriteback,
        Item::Extensions,
        Item::AppFiltering, // wizfeatures
    ]
}

fn available(s: &State, i: Item) -> bool {
    match i {
        Item::ExchangeHybrid | Item::PublicFolders => exchange(s),
        Item::GroupWriteback => writeback_exchange(s),
        Item::PasswordHashSync | Item::PasswordWriteback => false,
        _ => true,
    }
}

/// Validate the fields.
/// Validate the answers: every row is a checkbox whose availability the page enforces, so
/// nothing can be wrong here (the OU and the attributes are validated on their own pages).
pub fn validate(_: &OptionalFeatures) -> Vec<(Item, &'static str)> {
    Vec::new()
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let items = items(s);
    let focused = items.get(s.features.focus).copied();
    let can = focused.is_some_and(|i| available(s, i));
    let f = &mut s.features;
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            f.focus = cycle(f.focus, items.len(), true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            f.focus = cycle(f.focus, items.len(), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') if can => {
            match focused {
                Some(Item::ExchangeHybrid) => f.exchange_hybrid = !f.exchange_hybrid,
                Some(Item::PublicFolders) => f.public_folders = !f.public_folders,
                Some(Item::GroupWriteback) => f.group_writeback = !f.group_writeback,
                Some(Item::DeviceWriteback) => f.device_writeback = !f.device_writeback,
                Some(Item::Extensions) => f.extensions = !f.extensions,
                Some(Item::AppFiltering) => f.app_filtering = !f.app_filtering,
                _ => {}
            }
            f.errors.clear();
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            f.errors = validate(f);
            match f.errors.first() {
                None => Flow::Next(Vec::new()),
                Some((item, _)) => {
                    let item = *item;
                    s.features.focus = self::items(s).iter().position(|i| *i == item).unwrap_or(0);
                    Flow::stay()
                }
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Up, Action::Toggle]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let f = &s.features;
    let items = items(s);
    let focused = items.get(f.focus).copied();
    let phs = s.user_sign_in.method == crate::config::model::SignInMethod::PasswordHashSync;
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    for i in items {
        let is = focused == Some(i);
        let (on, (label, needs)) = match i {
            Item::ExchangeHybrid => (f.exchange_hybrid, t::EXCHANGE_HYBRID),
            Item::PublicFolders => (f.public_folders, t::PUBLIC_FOLDERS),
            Item::PasswordHashSync if phs => (true, t::PHS),
            Item::PasswordHashSync => (false, (t::PHS.0, t::PHS_OFF)),
            Item::PasswordWriteback => (false, t::PASSWORD_WRITEBACK),
            Item::GroupWriteback => (f.group_writeback, t::GROUP_WRITEBACK),
            Item::DeviceWriteback => (f.device_writeback, t::DEVICE_WRITEBACK),
            Item::Extensions => (f.extensions, t::EXTENSIONS_FEATURE),
            Item::AppFiltering => (
                f.app_filtering,
                crate::wizard::text::app_filtering_feature::FEATURE,
            ),
        };
        let avail = available(s, i);
        b.push_focus(
            checkbox(
                Check::from(on),
                label,
                is,
                avail || (i == Item::PasswordHashSync && phs),
                st,
            ),
            is,
        );
        let needs = if !avail
            && matches!(
                i,
                Item::ExchangeHybrid | Item::PublicFolders | Item::GroupWriteback
            ) {
            t::NO_EXCHANGE
        } else {
            needs
        };
        b.push(note(needs, st));
    }
    b
}

/// Put the features into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let f = &s.features;
    let x = exchange(s);
    c.features.exchange_hybrid.enabled = f.exchange_hybrid && x;
    c.features.exchange_mail_public_folders.enabled = f.public_folders && x;
    c.features.group_writeback.enabled = group_writeback_on(s);
    if !c.features.group_writeback.enabled {
        c.features.group_writeback.target_ou = None;
    }
    c.features.device_writeback.enabled = f.device_writeback;
    c.features.directory_extensions.enabled = f.extensions;
    if !f.extensions {
        c.features.directory_extensions.attributes.clear();
    }
}
