//! View or export current configuration: a read-only summary of every option in effect
//! (tenant and the sync application's credential, each directory with its scope and pilot
//! group, sign-in, identity and the source anchor, features with the writeback forests and app
//! and attribute filtering, synchronization) and Export, which writes the same settings bundle as
//! `hybridsync config export` into the state directory.
//!
//! Invariants: read-only (Export writes only the bundle file, never the configuration); the
//! summary shows secret references, never secrets; ↑↓ scroll.

use std::path::PathBuf;

use crate::config::Config;
use crate::effects::{Effect, Failure};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::view_config as t;
use crate::wizard::ui::{Body, Styles};

/// The export.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Export {
    /// Not asked.
    #[default]
    NotAsked,
    /// Writing.
    Writing,
    /// Written here.
    Written(PathBuf),
    /// Failed.
    Failed(Failure),
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewConfiguration {
    /// The line kept in view (scrolling).
    pub line: usize,
    /// The export.
    pub export: Export,
}

/// Where Export writes the bundle.
pub fn export_path(s: &State) -> PathBuf {
    s.state_dir.join("exports").join("hybridsync-settings.json")
}

/// Start at the top.
pub fn enter(s: &mut State) -> Vec<Effect> {
    s.view_config.line = 0;
    Vec::new()
}

/// The export finished.
pub fn on_exported(s: &mut State, r: Result<PathBuf, Failure>) {
    s.view_config.export = match r {
        Ok(p) => Export::Written(p),
        Err(f) => Export::Failed(f),
    };
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    let n = s.loaded().map_or(0, |c| summary(c).len());
    match input {
        Input::Action(Action::Down | Action::FocusNext) => {
            s.view_config.line = (s.view_config.line + 1).min(n.saturating_sub(1));
            Flow::stay()
        }
        Input::Action(Action::Up | Action::FocusPrev) => {
            s.view_config.line = s.view_config.line.saturating_sub(1);
            Flow::stay()
        }
        Input::Action(Action::Export) => {
            let Some(c) = s.loaded().cloned() else {
                return Flow::stay();
            };
            s.view_config.export = Export::Writing;
            Flow::Stay(vec![Effect::ExportConfiguration {
                config: Box::new(c),
                path: export_path(s),
            }])
        }
        // Read-only: Enter goes back to the menu.
        Input::Action(Action::Next) => Flow::Back,
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(_: &State) -> Vec<Action> {
    vec![Action::Up, Action::Export]
}

fn on_off(b: bool) -> &'static str {
    if b { t::ON } else { t::OFF }
}

/// The summary lines: `(label, value)`, a header when the value is empty.
pub fn summary(c: &Config) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    let mut kv = |k: &str, val: String| v.push((k.to_string(), val));
    kv(t::TENANT, String::new());
    kv(t::TENANT_ID, c.tenant.tenant_id.clone());
    kv(t::CLOUD, format!("{:?}", c.tenant.cloud).to_lowercase());
    kv(t::AUTH, t::app_auth(&c.tenant.application.client_id));
    if let Some(r) = &c.tenant.application.certificate_ref {
        kv(t::CERTIFICATE, r.to_string());
    }
    if let Some(r) = &c.tenant.application.client_secret_ref {
        kv(t::CLIENT_SECRET, r.to_string());
    }
    for d in &c.directories {
        kv(&t::directory(&d.forest), String::new());
        kv(
            t::DCS,
            if d.domain_controllers.is_empty() {
                t::DNS_DISCOVERY.to_string()
            } else {
                d.domain_controllers.join(", ")
            },
        );
        kv(t::TLS, format!("{:?}", d.tls.mode).to_lowercase());
        kv(
            t::ACCOUNT,
            format!("{} ({})", d.account.username, d.account.secret_ref),
        );
        match d.scope.mode {
            crate::config::model::ScopeMode::All => kv(t::SCOPE, t::ALL_OUS.into()),
            crate::config::model::ScopeMode::Selected => {
                kv(t::SCOPE, t::SELECTED_OUS.into());
                for o in &d.scope.include {
                    kv(t::INCLUDE, o.dn.to_string());
                }
                for o in &d.scope.exclude {
                    kv(t::EXCLUDE, o.dn.to_string());
                }
            }
        }
        kv(
            t::PILOT,
            d.pilot_group
                .as_ref()
                .map_or_else(|| t::NONE.to_string(), |g| g.dn.to_string()),
        );
    }
    kv(t::SIGN_IN, String::new());
    kv(
        t::METHOD,
        crate::wizard::pages::change_user_sign_in::label(c.sign_in.method).into(),
    );
    kv(t::SSO, on_off(c.sign_in.single_sign_on).into());
    kv(t::UPN_ATTRIBUTE, c.sign_in.upn_attribute.to_string());
    kv(t::SOURCE_ANCHOR, c.identity.source_anchor.to_string());
    kv(t::FEATURES, String::new());
    let f = &c.features;
    kv(t::EXCHANGE, on_off(f.exchange_hybrid.enabled).into());
    kv(
        t::PUBLIC_FOLDERS,
        on_off(f.exchange_mail_public_folders.enabled).into(),
    );
    kv(
        t::PHS,
        on_off(f.password_hash_sync.enabled.unwrap_or(true)).into(),
    );
    kv(t::PW_WRITEBACK, on_off(f.password_writeback.enabled).into());
    // A writeback forest left unset is the first directory's.
    let forest_of = |set: &Option<String>| match set {
        Some(name) => name.clone(),
        None => c
            .directories
            .first()
            .map_or_else(|| t::NONE.to_string(), |d| t::first_directory(&d.forest)),
    };
    let gw = &f.group_writeback;
    kv(t::GROUP_WRITEBACK, on_off(gw.enabled).into());
    if gw.enabled {
        kv(t::WRITEBACK_FOREST, forest_of(&gw.forest));
        kv(
            t::TARGET_OU,
            gw.target_ou
                .as_ref()
                .map_or_else(|| t::NONE.to_string(), |o| o.dn.to_string()),
        );
    }
    kv(
        t::DEVICE_WRITEBACK,
        on_off(f.device_writeback.enabled).into(),
    );
    if f.device_writeback.enabled {
        kv(t::WRITEBACK_FOREST, forest_of(&f.device_writeback.forest));
    }
    kv(
        t::EXTENSIONS,
        if f.directory_extensions.enabled {
            f.directory_extensions.attributes.join(", ")
        } else {
            t::OFF.into()
        },
    );
    let af = &f.app_and_attribute_filtering;
    kv(t::APP_FILTERING, on_off(af.enabled).into());
    if af.enabled {
        let list = |v: Vec<String>| {
            if v.is_empty() {
                t::NONE.to_string()
            } else {
                v.join(", ")
            }
        };
        kv(
            t::APPS,
            list(
                af.apps
                    .iter()
                    .map(|a| crate::config::apps::key(*a).to_string())
                    .collect(),
            ),
        );
        kv(t::EXCLUDED_ATTRIBUTES, list(af.excluded_attributes.clone()));
    }
    kv(t::SYNC, String::new());
    kv(t::STAGING, on_off(c.sync.staging_mode).into());
    kv(t::SCHEDULER, on_off(c.sync.scheduler_enabled).into());
    kv(t::INTERVAL, c.sync.interval.to_string());
    kv(
        t::DELETE_GUARD,
        if c.sync.delete_guard.enabled {
            c.sync.delete_guard.count.to_string()
        } else {
            t::OFF.into()
        },
    );
    v
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    let Some(c) = s.loaded() else {
        return b;
    };
    b.text(t::intro(&s.config_path.display().to_string()), st.muted);
    match &s.view_config.export {
        Export::NotAsked => {}
        Export::Writing => b.text(t::EXPORTING, st.progress),
        Export::Written(p) => b.text(t::exported(&p.display().to_string()), st.success),
        Export::Failed(f) => {
            b.text(format!("✗ {}", f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
        }
    }
    for (i, (k, v)) in summary(c).into_iter().enumerate() {
        let focused = i == s.view_config.line;
        if v.is_empty() {
            b.push_focus(ratatui::text::Line::styled(k, st.title), focused);
        } else {
            b.push_focus(
                ratatui::text::Line::from(vec![
                    ratatui::text::Span::styled(format!("  {k:<25}"), st.muted),
                    ratatui::text::Span::styled(v, st.text),
                ]),
                focused,
            );
        }
    }
    b
}
