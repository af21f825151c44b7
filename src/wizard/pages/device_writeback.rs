//! Writeback forest (device writeback, page 1 of 2): the forest that receives the devices
//! registered in Microsoft Entra ID (one forest, as in Entra Connect; it defaults to the forest
//! connected). Shown after Optional features when device writeback is ticked on the Custom path,
//! and in the rerun's Configure device options → Configure device writeback. The device
//! container page follows ([`super::device_container`]); the state of both lives here.
//!
//! Invariants: the admin's password typed on the container page is used by the Configure step
//! only and never stored; only `features.device_writeback` comes from these pages.

use crate::config::Config;
use crate::effects::{ForestLogin, LoginSecret};
use crate::provision::rights::Features;
use crate::wizard::app::{Flow, State, build_config};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories;
use crate::wizard::text::device_writeback as t;
use crate::wizard::ui::{Body, Styles, radio};
use crate::wizard::widgets::TextField;

/// How the forest gets its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Container {
    /// Create them on the Configure page with an Enterprise Admin's credentials.
    #[default]
    Create,
    /// The admin prepares the forest (the steps are shown).
    Manual,
}

/// A field of the container page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Create or manual.
    Mode,
    /// The admin.
    Admin,
    /// Its password.
    Password,
}

/// Both pages' state.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceWriteback {
    /// The forest chosen.
    pub forest: usize,
    /// Create or manual.
    pub container: Container,
    /// The Enterprise Admin.
    pub admin: TextField,
    /// Its password (never stored).
    pub password: TextField,
    /// The focused field of the container page.
    pub focus: Field,
    /// Validation messages.
    pub errors: Vec<(Field, &'static str)>,
}

impl Default for DeviceWriteback {
    fn default() -> Self {
        Self {
            forest: 0,
            container: Container::Create,
            admin: TextField::default(),
            password: TextField::password(),
            focus: Field::Mode,
            errors: Vec::new(),
        }
    }
}

/// Whether the pages are part of the Custom path.
pub fn needed(s: &State) -> bool {
    s.features.device_writeback
}

/// The forests the page offers: the one connected (first run) or those configured (rerun).
pub fn forests(s: &State) -> Vec<String> {
    if let Some(c) = s.loaded() {
        return c.directories.iter().map(|d| d.forest.clone()).collect();
    }
    connect_directories::forests(s)
        .into_iter()
        .map(|f| f.forest.clone())
        .collect()
}

/// The forest chosen.
pub fn chosen(s: &State) -> Option<String> {
    forests(s).get(s.device.forest).cloned()
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let n = forests(s).len();
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.device.forest = (s.device.forest + 1).min(n.saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.device.forest = s.device.forest.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => Flow::stay(),
        Input::Action(Action::Next) if n > 0 => Flow::Next(Vec::new()),
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
    b.text(t::FOREST_INTRO, st.muted);
    b.blank();
    for (i, f) in forests(s).iter().enumerate() {
        let on = i == s.device.forest;
        b.push_focus(radio(on, f, on, st), on);
    }
    b
}

/// How the Configure step binds to prepare the forest (the admin's typed credentials).
pub fn login(s: &State) -> Option<ForestLogin> {
    let forest = chosen(s)?;
    let (dcs, tls) = match s.loaded() {
        Some(c) => {
            let d = c.directories.iter().find(|d| d.forest == forest)?;
            (d.domain_controllers.clone(), d.tls.mode)
        }
        None => {
            let a = connect_directories::connected(s)
                .iter()
                .find(|a| a.info.forest == forest)?;
            (a.dcs.clone(), a.tls)
        }
    };
    Some(ForestLogin {
        forest,
        domain_controllers: dcs,
        tls,
        username: s.device.admin.text().to_string(),
        password: LoginSecret::Given(s.device.password.secret()),
    })
}

/// Whether the Configure page prepares the forest.
pub fn prepares(s: &State) -> bool {
    s.device.container == Container::Create && login(s).is_some()
}

/// The connector account (rerun) to give its device rights, with every feature it serves.
/// Only an account hybridsync manages: granting also drops its explicit ACEs that no feature
/// needs, which an account set up by hand may rely on (its admin follows the manual steps).
pub fn grant(s: &State) -> Option<(String, Features)> {
    let c = s.loaded()?;
    let forest = chosen(s)?;
    let d = c.directories.iter().find(|d| d.forest == forest)?;
    if !d.account.managed {
        return None;
    }
    Some((
        d.account.username.clone(),
        Features::for_forest(&build_config(s), &forest),
    ))
}

/// Put the answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let f = &mut c.features.device_writeback;
    f.enabled = true;
    f.forest = chosen(s);
}
