//! Device container (device writeback, page 2 of 2): create the containers device writeback
//! writes into now, with an Enterprise Admin's credentials (used once by the Configure page,
//! never stored), or prepare the forest by hand, with the exact steps shown (the DNs of this
//! forest). Entra Connect offers the same choice (credentials, or its CreateDeviceContainer
//! script).
//!
//! Invariants: "create" never moves on without an admin and a password; "manual" needs nothing
//! and the Configure page then does not touch the forest.

use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::pages::additional_tasks::naming_context;
use crate::wizard::pages::device_writeback::{Container, Field, chosen};
use crate::wizard::text::device_writeback as t;
use crate::wizard::ui::{Body, Styles, note, radio};

fn fields(s: &State) -> Vec<Field> {
    match s.device.container {
        Container::Create => vec![Field::Mode, Field::Admin, Field::Password],
        Container::Manual => vec![Field::Mode],
    }
}

/// Validate the answers.
pub fn validate(s: &State) -> Vec<(Field, &'static str)> {
    let d = &s.device;
    let mut v = Vec::new();
    if d.container == Container::Create {
        if d.admin.text().trim().is_empty() {
            v.push((Field::Admin, crate::wizard::text::REQUIRED));
        }
        if d.password.is_empty() {
            v.push((Field::Password, crate::wizard::text::REQUIRED));
        }
    }
    v
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let fields = fields(s);
    let at = fields
        .iter()
        .position(|f| *f == s.device.focus)
        .unwrap_or(0);
    let d = &mut s.device;
    match input {
        Input::Action(Action::FocusNext) => {
            d.focus = fields[(at + 1) % fields.len()];
            Flow::stay()
        }
        Input::Action(Action::FocusPrev) => {
            d.focus = fields[(at + fields.len() - 1) % fields.len()];
            Flow::stay()
        }
        Input::Action(Action::Up | Action::Down)
        | Input::Char(' ')
        | Input::Action(Action::Toggle)
            if d.focus == Field::Mode =>
        {
            d.container = match d.container {
                Container::Create => Container::Manual,
                Container::Manual => Container::Create,
            };
            d.errors.clear();
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            let errors = validate(s);
            let d = &mut s.device;
            d.errors = errors;
            match d.errors.first() {
                None => Flow::Next(Vec::new()),
                Some((f, _)) => {
                    d.focus = *f;
                    Flow::stay()
                }
            }
        }
        other => {
            let field = match d.focus {
                Field::Admin => &mut d.admin,
                Field::Password => &mut d.password,
                Field::Mode => return Flow::Unhandled,
            };
            if field.input(other) {
                d.errors.clear();
                Flow::stay()
            } else {
                Flow::Unhandled
            }
        }
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Next, Action::FocusNext, Action::Up]
}

fn error(s: &State, f: Field) -> Option<&'static str> {
    s.device
        .errors
        .iter()
        .find(|(x, _)| *x == f)
        .map(|(_, m)| *m)
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let d = &s.device;
    let forest = chosen(s).unwrap_or_default();
    let mut b = Body::default();
    b.text(t::container_intro(&forest), st.muted);
    b.blank();
    let mode = d.focus == Field::Mode;
    b.push_focus(
        radio(
            d.container == Container::Create,
            t::CREATE,
            mode && d.container == Container::Create,
            st,
        ),
        mode,
    );
    b.push(note(t::CREATE_NOTE, st));
    b.push(radio(
        d.container == Container::Manual,
        t::MANUAL,
        mode && d.container == Container::Manual,
        st,
    ));
    b.blank();
    match d.container {
        Container::Create => {
            b.field(
                t::ADMIN,
                &d.admin,
                d.focus == Field::Admin,
                error(s, Field::Admin),
                st,
            );
            b.field(
                t::PASSWORD,
                &d.password,
                d.focus == Field::Password,
                error(s, Field::Password),
                st,
            );
        }
        Container::Manual => {
            let domain = naming_context(&forest)
                .map(|x| x.to_string())
                .unwrap_or_default();
            let account = s
                .loaded()
                .and_then(|c| c.directories.iter().find(|x| x.forest == forest))
                .map_or(t::THE_ACCOUNT.to_string(), |x| x.account.username.clone());
            for line in t::steps(&format!("CN=Configuration,{domain}"), &domain, &account) {
                b.text(line, st.text);
            }
        }
    }
    b
}
