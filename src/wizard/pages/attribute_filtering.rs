//! Microsoft Entra attributes (app and attribute filtering, page 2 of 2): every attribute the
//! shipped inbound rules read from AD, for users, groups and contacts, each with a checkbox to
//! clear it. Rows say which chosen services need the attribute, and attributes that only the
//! services left out on [`super::app_filtering`] use are shown cleared and greyed (the engine
//! drops them: [`crate::config::apps::effective_excluded`]). A warning says removing attributes
//! can break features, and a cleared attribute a chosen service needs says so on its row.
//!
//! Invariants: the list comes from the rules themselves (read once, when the page is first
//! entered); mandatory attributes ([`crate::config::apps::MANDATORY`]) are never listed, so
//! they can never be cleared; an attribute greyed by the services cannot be toggled.

use crate::config::apps::{self, CLASSES};
use crate::effects::Effect;
use crate::engine::rules::{ConnectorKind, Direction, FlowKind, RuleSet};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::app_filtering as apps_text;
use crate::wizard::text::attribute_filtering as t;
use crate::wizard::ui::{Body, Check, Styles, checkbox};

/// The attributes the shipped inbound AD rules read, by object type (`user`, `group`,
/// `contact`; inetOrgPerson counts as user), sorted, without the mandatory ones.
pub fn synced_attributes() -> Vec<(String, String)> {
    let Ok(set) = RuleSet::builtin() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for rule in set.rules() {
        if rule.direction != Direction::Inbound || rule.connector.kind() != ConnectorKind::Ad {
            continue;
        }
        let class = if rule
            .source_object_type
            .eq_ignore_ascii_case("inetOrgPerson")
        {
            "user".to_string()
        } else {
            rule.source_object_type.to_ascii_lowercase()
        };
        if !CLASSES.contains(&class.as_str()) {
            continue;
        }
        for flow in &rule.flows {
            let names: Vec<String> = match &flow.kind {
                FlowKind::Direct(a) => vec![a.to_string()],
                FlowKind::Expression(e) => e.attributes().iter().map(ToString::to_string).collect(),
                FlowKind::Constant(_) => Vec::new(),
            };
            for n in names {
                if apps::is_mandatory(&n)
                    || out
                        .iter()
                        .any(|(c, a)| *c == class && a.eq_ignore_ascii_case(&n))
                {
                    continue;
                }
                out.push((class.clone(), n));
            }
        }
    }
    out.sort_by_key(|(c, a)| {
        (
            CLASSES.iter().position(|x| x == c).unwrap_or(CLASSES.len()),
            a.to_ascii_lowercase(),
        )
    });
    out
}

/// Entered going forward: read the list once.
pub fn enter(s: &mut State) -> Vec<Effect> {
    if s.app_filter.attributes.is_empty() {
        s.app_filter.attributes = synced_attributes();
    }
    Vec::new()
}

/// `type.attribute`.
pub fn key(class: &str, attr: &str) -> String {
    format!("{class}.{attr}")
}

/// Whether the services chosen leave `attr` out.
pub fn left_out(s: &State, attr: &str) -> bool {
    apps::excluded_by_apps(attr, &s.app_filter.apps)
}

/// Whether `k` (`type.attribute`) is cleared by the admin.
pub fn is_cleared(s: &State, k: &str) -> bool {
    s.app_filter
        .cleared
        .iter()
        .any(|c| c.eq_ignore_ascii_case(k))
}

/// Clear or tick `class.attr` (as Space on its row); false when it cannot be toggled.
pub fn toggle(s: &mut State, class: &str, attr: &str) -> bool {
    if left_out(s, attr) || apps::is_mandatory(attr) {
        return false;
    }
    let k = key(class, attr);
    if is_cleared(s, &k) {
        s.app_filter.cleared.retain(|c| !c.eq_ignore_ascii_case(&k));
    } else {
        s.app_filter.cleared.push(k);
    }
    true
}

fn names(apps: &[crate::config::model::CloudApp]) -> String {
    apps.iter()
        .map(|a| apps_text::label(*a))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let n = s.app_filter.attributes.len();
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.app_filter.cursor = (s.app_filter.cursor + 1).min(n.saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.app_filter.cursor = s.app_filter.cursor.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            if let Some((c, a)) = s.app_filter.attributes.get(s.app_filter.cursor).cloned() {
                toggle(s, &c, &a);
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

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let a = &s.app_filter;
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.text(t::WARNING, st.warning);
    let by_apps = a.attributes.iter().filter(|(_, x)| left_out(s, x)).count();
    b.text(t::summary(a.cleared.len(), by_apps), st.muted);
    b.blank();
    let mut class = "";
    for (i, (c, attr)) in a.attributes.iter().enumerate() {
        if c != class {
            class = c;
            b.text(format!("{c}:"), st.text);
        }
        let focused = i == a.cursor;
        let out = left_out(s, attr);
        let on = !out && !is_cleared(s, &key(c, attr));
        let mut line = checkbox(Check::from(on), attr, focused, !out, st);
        let need = apps::needed_by(attr, &a.apps);
        let extra = if out {
            Some((
                t::only_unchosen(&names(&apps::needed_by(attr, &apps::ALL))),
                st.muted,
            ))
        } else if need.is_empty() {
            None
        } else if is_cleared(s, &key(c, attr)) {
            // A cleared attribute a chosen service needs: said on its row.
            Some((t::breaks(&names(&need)), st.warning))
        } else {
            Some((t::needed(&names(&need)), st.muted))
        };
        if let Some((x, style)) = extra {
            line.spans
                .push(ratatui::text::Span::styled(format!("  {x}"), style));
        }
        b.push_focus(line, focused);
    }
    b
}
