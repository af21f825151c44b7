//! Change user sign-in: switch between password hash synchronization, pass-through
//! authentication and federation (AD FS or PingFederate), with Seamless single sign-on where the
//! method supports it. "Do not configure" is shown but cannot be chosen on a rerun, as in Entra
//! Connect, and the page says why. The first run's Custom "User sign-in" page
//! ([`super::user_sign_in`]) is this page with "Do not configure" selectable; both share this
//! state (`State::user_sign_in`), keys and drawing.
//!
//! Invariants: the page changes only `sign_in.method` and `sign_in.single_sign_on`; single
//! sign-on is offered only with password hash sync or pass-through; the configuration rules
//! (checked on Ready to configure) still have the last word.

use crate::config::Config;
use crate::config::model::SignInMethod;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::user_sign_in as t;
use crate::wizard::ui::{Body, Styles, checkbox, note, radio};
use crate::wizard::widgets::cycle;

/// The methods a rerun can choose, in screen order.
pub const METHODS: [SignInMethod; 4] = [
    SignInMethod::PasswordHashSync,
    SignInMethod::PassThrough,
    SignInMethod::FederationAdfs,
    SignInMethod::FederationPingfederate,
];

/// The methods the first run can choose, in screen order (as Entra Connect's Custom page).
pub const FIRST_RUN_METHODS: [SignInMethod; 5] = [
    SignInMethod::PasswordHashSync,
    SignInMethod::PassThrough,
    SignInMethod::FederationAdfs,
    SignInMethod::FederationPingfederate,
    SignInMethod::DoNotConfigure,
];

/// The methods selectable here: "Do not configure" only on the first run.
pub fn methods(s: &State) -> &'static [SignInMethod] {
    if s.rerun.is_some() {
        &METHODS
    } else {
        &FIRST_RUN_METHODS
    }
}

/// The page's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeUserSignIn {
    /// The method.
    pub method: SignInMethod,
    /// Seamless single sign-on.
    pub single_sign_on: bool,
    /// Focus: the methods, then the single sign-on checkbox.
    pub focus: usize,
}

impl Default for ChangeUserSignIn {
    fn default() -> Self {
        Self {
            method: SignInMethod::PasswordHashSync,
            single_sign_on: false,
            focus: 0,
        }
    }
}

/// Whether `m` supports Seamless single sign-on.
pub fn sso_possible(m: SignInMethod) -> bool {
    matches!(
        m,
        SignInMethod::PasswordHashSync | SignInMethod::PassThrough
    )
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let methods = methods(s);
    let u = &mut s.user_sign_in;
    let n = methods.len() + 1;
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            u.focus = cycle(u.focus, n, true);
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            u.focus = cycle(u.focus, n, false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            match methods.get(u.focus) {
                Some(m) => {
                    u.method = *m;
                    if !sso_possible(*m) {
                        u.single_sign_on = false;
                    }
                }
                None if sso_possible(u.method) => u.single_sign_on = !u.single_sign_on,
                None => {}
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => Flow::Next(Vec::new()),
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::Up, Action::Toggle]
}

/// The method as the page names it.
pub fn label(m: SignInMethod) -> &'static str {
    match m {
        SignInMethod::PasswordHashSync => t::PHS,
        SignInMethod::PassThrough => t::PTA,
        SignInMethod::FederationAdfs => t::ADFS,
        SignInMethod::FederationPingfederate => t::PING,
        SignInMethod::DoNotConfigure => t::NONE,
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let u = &s.user_sign_in;
    let methods = methods(s);
    let mut b = Body::default();
    match s.loaded() {
        Some(c) => b.text(t::current(label(c.sign_in.method)), st.text),
        None => b.text(t::INTRO, st.muted),
    }
    b.blank();
    for (i, m) in methods.iter().enumerate() {
        let focused = u.focus == i;
        b.push_focus(radio(u.method == *m, label(*m), focused, st), focused);
    }
    if !methods.contains(&SignInMethod::DoNotConfigure) {
        b.push(radio(false, t::NONE, false, st).style(st.muted));
        b.push(note(t::NONE_WHY, st));
    } else if u.method == SignInMethod::DoNotConfigure {
        b.push(note(t::NONE_FIRST_RUN, st));
    }
    b.blank();
    let focused = u.focus == methods.len();
    b.push_focus(
        checkbox(
            (u.single_sign_on && sso_possible(u.method)).into(),
            t::SSO,
            focused,
            sso_possible(u.method),
            st,
        ),
        focused,
    );
    if !sso_possible(u.method) {
        b.push(note(t::SSO_NOT_HERE, st));
    }
    if matches!(
        u.method,
        SignInMethod::PassThrough
            | SignInMethod::FederationAdfs
            | SignInMethod::FederationPingfederate
    ) {
        b.blank();
        b.text(t::EXTERNAL, st.warning);
    }
    b
}

/// Put the answers into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let u = &s.user_sign_in;
    c.sign_in.method = u.method;
    c.sign_in.single_sign_on = u.single_sign_on && sso_possible(u.method);
}
