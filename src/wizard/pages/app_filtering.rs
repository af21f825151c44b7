//! Microsoft Entra app filtering (app and attribute filtering, page 1 of 2): the cloud services
//! the organization uses, as checkboxes (all ticked at first). Shown after Optional features when
//! "Microsoft Entra app and attribute filtering" is ticked, on the Custom path and in the rerun's
//! Customize synchronization options; the attributes follow on
//! [`super::attribute_filtering`]. The state of both pages lives here.
//!
//! Invariants: the page never moves on with no service chosen; only
//! `features.app_and_attribute_filtering` comes from these two pages, and nothing from them
//! reaches the configuration while the feature is not ticked.

use crate::config::Config;
use crate::config::apps::{self, ALL};
use crate::config::model::{AppAndAttributeFiltering, CloudApp};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::app_filtering as t;
use crate::wizard::ui::{Body, Check, Styles, checkbox, note};
use crate::wizard::widgets::cycle;

/// Both pages' state.
#[derive(Debug, Clone, PartialEq)]
pub struct AppFiltering {
    /// The services chosen (page 1), in [`ALL`] order.
    pub apps: Vec<CloudApp>,
    /// The highlighted service.
    pub focus: usize,
    /// Next refused: no service chosen.
    pub nothing: bool,
    /// Page 2: the attributes the rules synchronize, `(type, attribute)`, read once.
    pub attributes: Vec<(String, String)>,
    /// Page 2: the highlighted row.
    pub cursor: usize,
    /// Page 2: the attributes cleared, as `type.attribute`.
    pub cleared: Vec<String>,
}

impl Default for AppFiltering {
    fn default() -> Self {
        Self {
            apps: ALL.to_vec(),
            focus: 0,
            nothing: false,
            attributes: Vec::new(),
            cursor: 0,
            cleared: Vec::new(),
        }
    }
}

/// Whether the two pages are part of the path.
pub fn needed(s: &State) -> bool {
    s.features.app_filtering
}

/// Tick or clear `app`.
pub fn toggle(a: &mut AppFiltering, app: CloudApp) {
    if a.apps.contains(&app) {
        a.apps.retain(|x| *x != app);
    } else {
        a.apps.push(app);
        a.apps
            .sort_by_key(|x| ALL.iter().position(|y| y == x).unwrap_or(ALL.len()));
    }
    a.nothing = false;
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let a = &mut s.app_filter;
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            a.focus = cycle(a.focus, ALL.len(), true);
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            a.focus = cycle(a.focus, ALL.len(), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if let Some(app) = ALL.get(a.focus) {
                toggle(a, *app);
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if a.apps.is_empty() {
                a.nothing = true;
                Flow::stay()
            } else {
                Flow::Next(Vec::new())
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
    let a = &s.app_filter;
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    for (i, app) in ALL.iter().enumerate() {
        let focused = i == a.focus;
        b.push_focus(
            checkbox(
                Check::from(a.apps.contains(app)),
                t::label(*app),
                focused,
                true,
                st,
            ),
            focused,
        );
        if focused {
            b.push(note(&t::drops(apps::attributes(*app).len()), st));
        }
    }
    b.blank();
    if a.nothing {
        b.text(t::NOTHING, st.error);
    } else {
        b.text(t::LATER, st.muted);
    }
    b
}

/// Fill both pages from a loaded configuration (rerun).
pub fn prefill(s: &mut State, f: &AppAndAttributeFiltering) {
    s.features.app_filtering = f.enabled;
    s.app_filter.apps = if f.apps.is_empty() {
        ALL.to_vec()
    } else {
        ALL.iter().copied().filter(|a| f.apps.contains(a)).collect()
    };
    s.app_filter.cleared = f.excluded_attributes.clone();
}

/// Put both pages' answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let a = &s.app_filter;
    let f = &mut c.features.app_and_attribute_filtering;
    if !s.features.app_filtering {
        *f = AppAndAttributeFiltering::default();
        return;
    }
    f.enabled = true;
    f.apps = a.apps.clone();
    let mut cleared = a.cleared.clone();
    cleared.sort_by_key(|k| k.to_ascii_lowercase());
    cleared.dedup_by(|x, y| x.eq_ignore_ascii_case(y));
    f.excluded_attributes = cleared;
}
