//! Configure staging mode: the checkbox that turns staging on or off, the current state, what
//! each choice means, and the number of exports waiting in the database (read when the page
//! opens), so an admin sees what the next cycle will export before leaving staging.
//!
//! Invariants: the count is read-only (the database is opened without the lock); leaving staging
//! with exports waiting is allowed but the count and the warning are on screen first; the page
//! changes only `sync.staging_mode`.

use crate::config::Config;
use crate::effects::{Effect, Failure, PendingCount};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::staging as t;
use crate::wizard::ui::{Body, Styles, checkbox, working};

/// The pending-export count.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Pending {
    /// Not read yet.
    #[default]
    NotRead,
    /// Being read.
    Reading,
    /// No cycle has run yet (no database).
    NoDatabase,
    /// Read.
    Count(PendingCount),
    /// Could not be read.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigureStagingMode {
    /// The checkbox.
    pub enabled: bool,
    /// The pending exports.
    pub pending: Pending,
}

/// The database the engine uses for this configuration.
pub fn database(s: &State) -> Option<std::path::PathBuf> {
    let c = s.loaded()?;
    let p = &c.store.path;
    Some(if p.is_absolute() {
        p.clone()
    } else {
        s.state_dir.join(p)
    })
}

/// Read the pending-export count.
pub fn enter(s: &mut State) -> Vec<Effect> {
    let Some(database) = database(s) else {
        return Vec::new();
    };
    s.staging.pending = Pending::Reading;
    vec![Effect::CountPendingExports { database }]
}

/// The count arrived.
pub fn on_pending(s: &mut State, r: Result<Option<PendingCount>, Failure>) {
    s.staging.pending = match r {
        Ok(Some(c)) => Pending::Count(c),
        Ok(None) => Pending::NoDatabase,
        Err(f) => Pending::Failed(f),
    };
}

fn was_on(s: &State) -> bool {
    s.loaded().is_some_and(|c| c.sync.staging_mode)
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            s.staging.enabled = !s.staging.enabled;
            Flow::stay()
        }
        Input::Action(Action::Retry) => Flow::Stay(enter(s)),
        Input::Action(Action::Next) => Flow::Next(Vec::new()),
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Toggle, Action::Retry]
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let p = &s.staging;
    let mut b = Body::default();
    b.text(
        if was_on(s) { t::NOW_ON } else { t::NOW_OFF },
        if was_on(s) { st.warning } else { st.text },
    );
    b.blank();
    b.push_focus(
        checkbox(p.enabled.into(), t::CHECKBOX, true, true, st),
        true,
    );
    b.blank();
    b.text(
        match (was_on(s), p.enabled) {
            (false, true) => t::ENTERING,
            (true, false) => t::LEAVING,
            (true, true) => t::STAYS_ON,
            (false, false) => t::STAYS_OFF,
        },
        st.text,
    );
    b.blank();
    match &p.pending {
        Pending::NotRead => {}
        Pending::Reading => b.push(working(s.tick, t::COUNTING, st)),
        Pending::NoDatabase => b.text(t::NO_DATABASE, st.muted),
        Pending::Count(c) => {
            let style = if was_on(s) && !p.enabled && c.total() > 0 {
                st.warning
            } else {
                st.text
            };
            b.text(t::pending(c.adds, c.updates, c.deletes), style);
            if was_on(s) && !p.enabled && c.total() > 0 {
                b.text(t::REVIEW, st.warning);
            }
        }
        Pending::Failed(f) => {
            b.text(format!("✗ {}", f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
        }
    }
    b
}

/// Put the answer into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    c.sync.staging_mode = s.staging.enabled;
}
