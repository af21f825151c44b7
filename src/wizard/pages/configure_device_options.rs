//! Configure device options (rerun task): Configure Microsoft Entra hybrid join (the SCP page,
//! [`super::hybrid_join`]), Configure device writeback (the writeback forest and device
//! container pages, then Ready to configure), or Disable device writeback (offered only while
//! it is on; then Ready to configure).
//!
//! Invariants: hybrid join writes the forest, never the configuration; the writeback choices
//! change only `features.device_writeback`.

use crate::config::Config;
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::device_options as t;
use crate::wizard::ui::{Body, Styles, note, radio};

/// A choice of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceOption {
    /// Configure Microsoft Entra hybrid join.
    #[default]
    HybridJoin,
    /// Configure device writeback.
    ConfigureWriteback,
    /// Disable device writeback.
    DisableWriteback,
}

impl DeviceOption {
    /// The name used in answer files (`action = "hybrid-join"`).
    pub fn key(self) -> &'static str {
        match self {
            DeviceOption::HybridJoin => "hybrid-join",
            DeviceOption::ConfigureWriteback => "device-writeback",
            DeviceOption::DisableWriteback => "disable-device-writeback",
        }
    }
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigureDeviceOptions {
    /// The highlighted (and chosen) option.
    pub choice: DeviceOption,
}

/// The options offered: "Disable device writeback" only while it is on.
pub fn options(s: &State) -> Vec<DeviceOption> {
    let mut v = vec![DeviceOption::HybridJoin, DeviceOption::ConfigureWriteback];
    if s.loaded()
        .is_some_and(|c| c.features.device_writeback.enabled)
    {
        v.push(DeviceOption::DisableWriteback);
    }
    v
}

/// Whether the chosen option changes the configuration.
pub fn changes_config(s: &State) -> bool {
    s.device_options.choice != DeviceOption::HybridJoin
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let opts = options(s);
    let at = opts
        .iter()
        .position(|o| *o == s.device_options.choice)
        .unwrap_or(0);
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.device_options.choice = opts[(at + 1).min(opts.len() - 1)];
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.device_options.choice = opts[at.saturating_sub(1)];
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => Flow::stay(),
        Input::Action(Action::Next) => Flow::Next(Vec::new()),
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
    b.text(t::INTRO, st.text);
    b.blank();
    for o in options(s) {
        let on = o == s.device_options.choice;
        let (label, help) = match o {
            DeviceOption::HybridJoin => (t::HYBRID_JOIN, t::HYBRID_JOIN_NOTE),
            DeviceOption::ConfigureWriteback => (t::WRITEBACK, t::WRITEBACK_NOTE),
            DeviceOption::DisableWriteback => (t::DISABLE, t::DISABLE_NOTE),
        };
        b.push_focus(radio(on, label, on, st), on);
        b.push(note(help, st));
    }
    b
}

/// Put the choice into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    match s.device_options.choice {
        DeviceOption::HybridJoin => {}
        DeviceOption::ConfigureWriteback => super::device_writeback::apply(s, c),
        DeviceOption::DisableWriteback => c.features.device_writeback.enabled = false,
    }
}
