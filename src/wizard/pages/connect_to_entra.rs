//! Connect to Microsoft Entra ID: a device-code sign-in. The page starts it when it opens, shows
//! the URL and the code to type there, waits (spinner; Esc cancels) and shows who signed in to
//! which tenant.
//!
//! Invariants: no password is ever typed into hybridsync for the tenant; Next is refused until
//! the sign-in succeeded; Ctrl+R starts a new sign-in (cancelling one that is waiting).

use ratatui::text::{Line, Span};

use crate::config::Config;
use crate::effects::{Effect, EffectKind, Failure, TenantInfo};
use crate::wizard::app::{Flow, PageId, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::entra as t;
use crate::wizard::ui::{Body, Styles, working};

/// Where the sign-in is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SignIn {
    /// Not started.
    #[default]
    NotStarted,
    /// Asking for a device code.
    Starting,
    /// Waiting for the admin to enter the code.
    Code {
        /// Where to go.
        verification_uri: String,
        /// What to type.
        user_code: String,
    },
    /// Done.
    SignedIn(TenantInfo),
    /// Failed.
    Failed(Failure),
    /// Cancelled by the admin.
    Cancelled,
}

/// Connect to Entra ID state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectToEntra {
    /// The sign-in.
    pub sign_in: SignIn,
    /// Next was pressed before signing in.
    pub not_yet: bool,
}

/// Whether a sign-in is under way.
pub fn is_waiting(s: &State) -> bool {
    matches!(s.entra.sign_in, SignIn::Starting | SignIn::Code { .. })
}

/// The tenant signed in to, if any.
pub fn tenant(s: &State) -> Option<&TenantInfo> {
    match &s.entra.sign_in {
        SignIn::SignedIn(t) => Some(t),
        _ => None,
    }
}

fn start(s: &mut State) -> Vec<Effect> {
    let mut out = Vec::new();
    if is_waiting(s) {
        out.push(Effect::Cancel(EffectKind::SignIn));
    }
    s.entra.sign_in = SignIn::Starting;
    s.entra.not_yet = false;
    out.push(Effect::SignInDeviceCode);
    out
}

/// Start signing in, unless already signed in.
pub fn enter(s: &mut State) -> Vec<Effect> {
    match s.entra.sign_in {
        SignIn::SignedIn(_) => Vec::new(),
        _ => start(s),
    }
}

/// The device code arrived.
pub fn on_device_code(s: &mut State, verification_uri: String, user_code: String) {
    if s.entra.sign_in == SignIn::Starting {
        s.entra.sign_in = SignIn::Code {
            verification_uri,
            user_code,
        };
    }
}

/// Signed in.
pub fn on_signed_in(s: &mut State, tenant: TenantInfo) -> Flow {
    s.entra.sign_in = SignIn::SignedIn(tenant);
    s.entra.not_yet = false;
    Flow::stay()
}

/// Failed.
pub fn on_failed(s: &mut State, f: Failure) {
    s.entra.sign_in = SignIn::Failed(f);
}

/// Cancelled.
pub fn on_cancelled(s: &mut State) {
    if is_waiting(s) {
        s.entra.sign_in = SignIn::Cancelled;
    }
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    match input {
        Input::Action(Action::Retry) => Flow::Stay(start(s)),
        Input::Action(Action::Next) => {
            if tenant(s).is_some() {
                Flow::Next(Vec::new())
            } else {
                s.entra.not_yet = true;
                Flow::stay()
            }
        }
        Input::Action(Action::Back) if is_waiting(s) => {
            s.entra.sign_in = SignIn::Cancelled;
            s.page = PageId::ExpressSettings;
            Flow::Stay(vec![Effect::Cancel(EffectKind::SignIn)])
        }
        _ => Flow::Unhandled,
    }
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    match s.entra.sign_in {
        SignIn::SignedIn(_) => vec![Action::Next, Action::Retry],
        _ => vec![Action::Retry],
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    match &s.entra.sign_in {
        SignIn::NotStarted => {}
        SignIn::Starting => b.push(working(s.tick, t::STARTING, st)),
        SignIn::Code {
            verification_uri,
            user_code,
        } => {
            b.text(t::OPEN, st.text);
            b.push(Line::from(Span::styled(
                format!("    {verification_uri}"),
                st.title,
            )));
            b.text(t::ENTER_CODE, st.text);
            b.push(Line::from(Span::styled(
                format!("    {user_code}"),
                st.title,
            )));
            if s.target.tenant.is_some() {
                b.text(t::LOCAL_TENANT_APPROVES, st.muted);
            }
            b.blank();
            b.push(working(s.tick, t::WAITING, st));
        }
        SignIn::SignedIn(tenant) => {
            b.text(
                format!("✓ {}", t::signed_in(&tenant.admin, &tenant.initial_domain)),
                st.success,
            );
            b.text(format!("  {}", t::tenant_id(&tenant.tenant_id)), st.muted);
        }
        SignIn::Failed(f) => {
            b.text(format!("✗ {}: {}", t::FAILED, f.message), st.error);
            b.text(format!("  {}{}", crate::wizard::text::FIX, f.fix), st.text);
            b.text(t::RETRY, st.muted);
        }
        SignIn::Cancelled => b.text(t::CANCELLED, st.warning),
    }
    if s.entra.not_yet {
        b.blank();
        b.text(t::NOT_YET, st.error);
    }
    b
}

/// Put the tenant into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    if let Some(t) = tenant(s) {
        c.tenant.tenant_id.clone_from(&t.tenant_id);
    }
}
