//! Configuration complete: where the configuration was written, which source anchor was chosen,
//! whether staging is on and what the scheduler will do.
//!
//! Invariants: read-only; Enter (or Esc) leaves the wizard.

use crate::wizard::app::{State, build_config};
use crate::wizard::text::complete as t;
use crate::wizard::ui::{Body, Styles};

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let c = build_config(s);
    let mut b = Body::default();
    b.text(format!("✓ {}", t::DONE), st.success);
    b.blank();
    b.text(t::written(&s.config_path.display().to_string()), st.text);
    b.text(t::anchor(c.identity.source_anchor.as_str()), st.text);
    for line in &s.configure.summaries {
        b.text(line.clone(), st.text);
    }
    b.blank();
    if c.sync.staging_mode {
        b.text(t::STAGING, st.warning);
    }
    b.text(
        if c.sync.scheduler_enabled {
            t::SCHEDULER_ON
        } else {
            t::SCHEDULER_OFF
        },
        st.muted,
    );
    b.blank();
    b.text(t::EXIT, st.muted);
    b
}
