//! The real terminal: raw mode and the alternate screen, the event loop that feeds keys, resizes,
//! ticks and effect replies to [`update`], and the tokio runtime the effects run on.
//!
//! Invariants: the terminal is restored on every way out (normal exit, error, panic via ratatui's
//! hook, Ctrl+C which arrives as a key in raw mode, SIGTERM/SIGHUP); the loop never waits on an
//! effect (it polls input for at most one tick, then drains replies); every frame is drawn at the
//! terminal's current size, so a resize needs nothing more than the next draw.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::effects::{Runner, TokioRunner};
use crate::wizard::app::{Message, PageId, Quit, State, update};
use crate::wizard::theme::Theme;
use crate::wizard::ui::{Styles, draw};

/// Why the wizard could not run.
#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    /// The terminal could not be set up or drawn to.
    #[error("the terminal could not be used ({0}); run the wizard in an interactive terminal")]
    Terminal(#[source] std::io::Error),
    /// The async runtime could not start.
    #[error("could not start the background runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// How the wizard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Configuration completed.
    Configured,
    /// The admin left before the end.
    Quit,
}

/// Restores the terminal when dropped (errors and early returns included).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Run the wizard in the terminal until it completes or the admin quits, acting on Entra ID's
/// global cloud with no credential store (see [`run_with`]).
pub fn run(state: State, theme: &Theme) -> Result<Outcome, WizardError> {
    run_with(state, theme, crate::effects::Context::default())
}

/// Run the wizard with its effects acting on the world `context` describes.
pub fn run_with(
    state: State,
    theme: &Theme,
    context: crate::effects::Context,
) -> Result<Outcome, WizardError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(WizardError::Runtime)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = TokioRunner::with_context(rt.handle().clone(), tx, context);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        rt.spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
            stop.store(true, Ordering::SeqCst);
        });
    }

    let mut terminal = ratatui::try_init().map_err(WizardError::Terminal)?;
    let _restore = Restore;
    let styles = Styles::from_theme(theme);
    let mut state = state;
    for e in update(&mut state, Message::Tick) {
        runner.run(e);
    }
    while state.quit != Quit::Done && !stop.load(Ordering::SeqCst) {
        terminal
            .draw(|f| draw(f, &state, &styles))
            .map_err(WizardError::Terminal)?;
        let msg = if event::poll(Duration::from_millis(100)).map_err(WizardError::Terminal)? {
            match event::read().map_err(WizardError::Terminal)? {
                Event::Key(k) if k.kind != KeyEventKind::Release => Some(Message::Key(k)),
                Event::Resize(w, h) => Some(Message::Resize(w, h)),
                _ => None,
            }
        } else {
            Some(Message::Tick)
        };
        let mut effects = msg.map(|m| update(&mut state, m)).unwrap_or_default();
        while let Ok(reply) = rx.try_recv() {
            effects.extend(update(&mut state, Message::Reply(reply)));
        }
        for e in effects {
            runner.run(e);
        }
    }
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(if state.page == PageId::Complete {
        Outcome::Configured
    } else {
        Outcome::Quit
    })
}
