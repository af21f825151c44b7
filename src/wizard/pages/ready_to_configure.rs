//! Ready to configure: the actions the Configure page will take, the checkboxes "Start the
//! synchronization process when configuration completes" (ticked by default) and "Enable staging
//! mode", and any answer the configuration rules reject (checked with the same validation as
//! `hybridsync config check`, so the wizard never writes a file the engine would refuse).
//!
//! Invariants: Next (Configure) is refused while a rule rejects the answers; the values that
//! only Configure can know (the created account's name, the application's ID) are not held
//! against the admin.

use crate::config::Config;
use crate::credentials::SecretRef;
use crate::effects::Effect;
use crate::wizard::app::{Flow, State, build_config};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::connect_directories::AccountMode;
use crate::wizard::text::ready as t;
use crate::wizard::ui::{Body, Styles, checkbox, note};
use crate::wizard::widgets::cycle;

/// Ready to configure state.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadyToConfigure {
    /// Start the scheduler when done.
    pub start_sync: bool,
    /// Staging mode.
    pub staging: bool,
    /// Focus: 0 start sync, 1 staging.
    pub focus: usize,
    /// Answers the rules reject.
    pub problems: Vec<String>,
}

impl Default for ReadyToConfigure {
    fn default() -> Self {
        Self {
            start_sync: true,
            staging: false,
            focus: 0,
            problems: Vec::new(),
        }
    }
}

/// The configuration rules' errors for the answers, ignoring what Configure fills in.
pub fn problems(s: &State) -> Vec<String> {
    let mut c = build_config(s);
    let app = &mut c.tenant.application;
    if app.client_id.is_empty() {
        app.client_id = "00000000-0000-0000-0000-000000000000".into();
        app.certificate_ref = Some(SecretRef::Store("entra-app-certificate".into()));
    }
    for d in &mut c.directories {
        if d.account.username.is_empty() {
            d.account.username = format!("MSOL_000000000000@{}", d.forest);
        }
    }
    let mut out: Vec<String> = crate::config::validate::validate(&c)
        .into_iter()
        .filter(crate::config::ConfigIssue::is_error)
        .map(|i| i.to_string())
        .collect();
    // --- several forests: the existing accounts' rights ---
    out.extend(crate::wizard::pages::connect_directories::rights_problems(
        s,
    ));
    out
}

/// A rights check answered: the problems shown follow.
pub fn on_rights(
    s: &mut State,
    forest: &str,
    r: Result<crate::effects::AccountRights, crate::effects::Failure>,
) {
    crate::wizard::pages::connect_directories::on_rights(s, forest, r);
    s.ready.problems = problems(s);
}

/// Check the answers.
pub fn enter(s: &mut State) -> Vec<Effect> {
    // An existing connector account is checked for the rights the chosen features need.
    let c = build_config(s);
    let effects = crate::wizard::pages::connect_directories::check_rights(s, &c);
    s.ready.problems = problems(s);
    effects
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    // On a rerun staging has its own task, so only "start" is offered here.
    let n = if s.rerun.is_some() { 1 } else { 2 };
    let r = &mut s.ready;
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            r.focus = cycle(r.focus, n, true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            r.focus = cycle(r.focus, n, false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if r.focus == 0 {
                r.start_sync = !r.start_sync;
            } else {
                r.staging = !r.staging;
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            s.ready.problems = problems(s);
            if s.ready.problems.is_empty() {
                Flow::Next(Vec::new())
            } else {
                Flow::stay()
            }
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    if s.rerun.is_some() {
        // One checkbox only: nothing to move between.
        return vec![Action::Next, Action::Toggle];
    }
    vec![Action::Next, Action::FocusNext, Action::Toggle]
}

/// The changes a rerun will write, as `config diff` lists them.
pub fn changes(s: &State) -> Vec<String> {
    let Some(loaded) = s.loaded() else {
        return Vec::new();
    };
    crate::config::diff::diff(loaded, &build_config(s))
        .map(|v| v.iter().map(ToString::to_string).collect())
        .unwrap_or_else(|e| vec![e.to_string()])
}

fn rerun_view(s: &State, st: &Styles) -> Body {
    let r = &s.ready;
    let mut b = Body::default();
    b.text(
        t::rerun_intro(&s.config_path.display().to_string()),
        st.text,
    );
    let changes = changes(s);
    if changes.is_empty() {
        b.text(format!("  {}", t::NO_CHANGES), st.muted);
    }
    for c in changes {
        b.text(format!("  {c}"), st.text);
    }
    b.blank();
    b.push_focus(
        checkbox(r.start_sync.into(), t::START, true, true, st),
        true,
    );
    if !r.start_sync {
        b.push(note(t::START_OFF, st));
    }
    if !r.problems.is_empty() {
        b.blank();
        b.text(t::PROBLEMS, st.error);
        for p in &r.problems {
            b.text(format!("  • {p}"), st.error);
        }
    }
    b
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    if s.rerun.is_some() {
        return rerun_view(s, st);
    }
    let r = &s.ready;
    let mut b = Body::default();
    b.text(t::INTRO, st.text);
    for a in crate::wizard::pages::connect_directories::connected(s) {
        if s.target.is_ldif(&a.info.forest) {
            continue;
        }
        if a.mode == AccountMode::Create {
            b.text(
                format!("  • {}", t::create_account(&a.info.forest)),
                st.muted,
            );
        } else if s.directories.added.len() > 1 {
            b.text(
                format!("  • {} ({})", t::STORE_SECRET, a.info.forest),
                st.muted,
            );
        } else {
            b.text(format!("  • {}", t::STORE_SECRET), st.muted);
        }
    }
    b.text(format!("  • {}", t::REGISTER), st.muted);
    b.text(
        format!("  • {}", t::write(&s.config_path.display().to_string())),
        st.muted,
    );
    if r.start_sync {
        b.text(format!("  • {}", t::FIRST_CYCLE), st.muted);
    }
    b.blank();
    b.push_focus(
        checkbox(r.start_sync.into(), t::START, r.focus == 0, true, st),
        r.focus == 0,
    );
    if !r.start_sync {
        b.push(note(t::START_OFF, st));
    }
    b.push_focus(
        checkbox(r.staging.into(), t::STAGING, r.focus == 1, true, st),
        r.focus == 1,
    );
    b.push(note(t::STAGING_HELP, st));
    if !r.problems.is_empty() {
        b.blank();
        b.text(t::PROBLEMS, st.error);
        for p in &r.problems {
            b.text(format!("  • {p}"), st.error);
        }
    }
    b
}

/// Put the answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    c.sync.scheduler_enabled = s.ready.start_sync;
    c.sync.staging_mode = s.ready.staging;
}
