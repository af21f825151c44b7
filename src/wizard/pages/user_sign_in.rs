//! User sign-in (Custom first run, between Express Settings and Connect to Microsoft Entra ID, as
//! in Entra Connect): password hash synchronization (the default), pass-through authentication,
//! federation with AD FS or PingFederate, or "Do not configure" (a third-party identity
//! provider), and "Enable Seamless single sign-on" with the methods that support it.
//!
//! Invariants: this is the rerun's [`change_user_sign_in`] page in first-run form (same state,
//! keys, strings and drawing; only "Do not configure" becomes selectable); the Express path never
//! shows it and keeps password hash synchronization.

use crate::config::Config;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::change_user_sign_in;
use crate::wizard::ui::{Body, Styles};

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    change_user_sign_in::input(s, input)
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    change_user_sign_in::hints(s)
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    change_user_sign_in::view(s, st)
}

/// Put the answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    change_user_sign_in::apply(s, c);
}
