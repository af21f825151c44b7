//! Install required components (the Custom path's first page, Entra Connect's C1): optional
//! choices, all cleared by default. A custom state directory; an existing PostgreSQL database
//! (shown, but not selectable: the engine has only the SQLite store); an existing local user as
//! the service account instead of the dedicated `hybridsync` user (looked up in the system's user
//! database); and "Import synchronization settings" from a settings export, which pre-fills every
//! later page, turns staging mode on and leaves the credentials to be given again.
//!
//! Invariants: Next checks what was ticked (syntax here, the user database and the file through
//! [`Effect::CheckInstallOptions`]: the state directory exists writable or can be created, the
//! user exists and is not root, the file is a valid export) and moves on only when all of it is
//! usable; a custom state directory is created on Configure, before any secret is stored, and
//! the secrets go into its credential store (where the service will look for them); an import
//! pre-fills the pages once per file read, and the imported forests still need their
//! credentials.

use std::path::PathBuf;

use crate::config::Config;
use crate::effects::{Effect, Failure};
use crate::wizard::app::{Flow, State};
use crate::wizard::keys::{Action, Input};
use crate::wizard::text::{self, install as t};
use crate::wizard::ui::{Body, Styles, checkbox, note};
use crate::wizard::widgets::{TextField, cycle};

/// A row of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// "Use a custom state directory".
    StateDir,
    /// Its path.
    StateDirPath,
    /// "Use an existing PostgreSQL database" (not selectable).
    Database,
    /// "Use an existing local user as the service account".
    Service,
    /// The user.
    ServiceUser,
    /// "Import synchronization settings".
    Import,
    /// The export file.
    ImportPath,
}

/// The page's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstallComponents {
    /// Custom state directory ticked.
    pub custom_state_dir: bool,
    /// The state directory.
    pub state_dir: TextField,
    /// Existing local user ticked.
    pub existing_user: bool,
    /// The user.
    pub user: TextField,
    /// Import ticked.
    pub import: bool,
    /// The export file.
    pub import_path: TextField,
    /// Focused row (index into [`fields`]).
    pub focus: usize,
    /// Messages by row (a failure's fix follows its message).
    pub errors: Vec<(Field, String)>,
    /// The check is running.
    pub checking: bool,
    /// The user found, for the name checked.
    pub user_ok: Option<(String, String)>,
    /// The state directory checked, and what was found.
    pub dir_ok: Option<(String, String)>,
    /// The configuration read from the export, with the file it came from.
    pub imported: Option<(PathBuf, Box<Config>)>,
}

/// The rows shown, in focus order.
pub fn fields(s: &State) -> Vec<Field> {
    let p = &s.install;
    let mut v = vec![Field::StateDir];
    if p.custom_state_dir {
        v.push(Field::StateDirPath);
    }
    v.extend([Field::Database, Field::Service]);
    if p.existing_user {
        v.push(Field::ServiceUser);
    }
    v.push(Field::Import);
    if p.import {
        v.push(Field::ImportPath);
    }
    v
}

/// The configuration read from the export, while "Import synchronization settings" is ticked.
pub fn imported(s: &State) -> Option<&Config> {
    let p = &s.install;
    p.imported
        .as_ref()
        .filter(|_| p.import)
        .map(|(_, c)| c.as_ref())
}

fn valid_user_name(u: &str) -> bool {
    let mut chars = u.chars();
    u.len() <= 32
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The syntax checks; messages kept in the state.
fn validate(s: &mut State) -> bool {
    let config_dir = s.config_path.parent().map(PathBuf::from);
    let p = &mut s.install;
    let mut errors = Vec::new();
    if p.custom_state_dir {
        let dir = PathBuf::from(p.state_dir.text());
        if p.state_dir.is_empty() {
            errors.push((Field::StateDirPath, text::REQUIRED.to_string()));
        } else if !dir.is_absolute() {
            errors.push((Field::StateDirPath, t::STATE_DIR_RELATIVE.to_string()));
        } else if let Some(cd) = config_dir.filter(|cd| dir.starts_with(cd)) {
            errors.push((
                Field::StateDirPath,
                t::state_dir_in_config(&cd.display().to_string()),
            ));
        }
    }
    if p.existing_user {
        if p.user.is_empty() {
            errors.push((Field::ServiceUser, text::REQUIRED.to_string()));
        } else if !valid_user_name(p.user.text()) {
            errors.push((Field::ServiceUser, t::BAD_USER.to_string()));
        }
    }
    if p.import && p.import_path.is_empty() {
        errors.push((Field::ImportPath, text::REQUIRED.to_string()));
    }
    p.errors = errors;
    p.errors.is_empty()
}

fn focus_first_error(s: &mut State) {
    let shown = fields(s);
    if let Some((f, _)) = s.install.errors.first() {
        s.install.focus = shown.iter().position(|x| x == f).unwrap_or(0);
    }
}

/// What still needs the effect: the directory not yet checked, the user not yet found, the file
/// not yet read.
type ToCheck = (Option<PathBuf>, Option<String>, Option<PathBuf>);

fn to_check(s: &State) -> ToCheck {
    let p = &s.install;
    let dir = Some(p.state_dir.text().to_string())
        .filter(|d| p.custom_state_dir && p.dir_ok.as_ref().is_none_or(|(done, _)| done != d))
        .map(PathBuf::from);
    let user = Some(p.user.text().to_string())
        .filter(|u| p.existing_user && p.user_ok.as_ref().is_none_or(|(name, _)| name != u));
    let file = Some(PathBuf::from(p.import_path.text()))
        .filter(|f| p.import && p.imported.as_ref().is_none_or(|(done, _)| done != f));
    (dir, user, file)
}

/// Handle a key.
pub fn input(s: &mut State, input: Input) -> Flow {
    if s.install.checking {
        return match input {
            Input::Action(Action::Back) => Flow::Unhandled,
            _ => Flow::stay(),
        };
    }
    let shown = fields(s);
    let focused = shown
        .get(s.install.focus)
        .copied()
        .unwrap_or(Field::StateDir);
    let p = &mut s.install;
    let field = match focused {
        Field::StateDirPath => Some(&mut p.state_dir),
        Field::ServiceUser => Some(&mut p.user),
        Field::ImportPath => Some(&mut p.import_path),
        _ => None,
    };
    if let Some(f) = field
        && f.input(input)
    {
        p.errors.retain(|(x, _)| *x != focused);
        return Flow::stay();
    }
    match input {
        Input::Action(Action::FocusNext | Action::Down) => {
            p.focus = cycle(p.focus, shown.len(), true);
            Flow::stay()
        }
        Input::Action(Action::FocusPrev | Action::Up) => {
            p.focus = cycle(p.focus, shown.len(), false);
            Flow::stay()
        }
        Input::Action(Action::Toggle) | Input::Char(' ') => {
            p.errors.retain(|(x, _)| *x != Field::Database);
            match focused {
                Field::StateDir => {
                    p.custom_state_dir = !p.custom_state_dir;
                    if p.custom_state_dir && p.state_dir.is_empty() {
                        p.state_dir = TextField::new(&s.state_dir.display().to_string());
                    }
                }
                Field::Database => p
                    .errors
                    .push((Field::Database, t::DATABASE_WHY.to_string())),
                Field::Service => p.existing_user = !p.existing_user,
                Field::Import => {
                    p.import = !p.import;
                    if !p.import && p.imported.take().is_some() {
                        // The imported forests no longer wait for credentials (the pages keep
                        // what was filled in).
                        s.directories.pending.clear();
                    }
                }
                _ => {}
            }
            Flow::stay()
        }
        Input::Action(Action::Next) => {
            if !validate(s) {
                focus_first_error(s);
                return Flow::stay();
            }
            match to_check(s) {
                (None, None, None) => Flow::Next(Vec::new()),
                (state_dir, service_user, import) => {
                    s.install.checking = true;
                    Flow::Stay(vec![Effect::CheckInstallOptions {
                        state_dir,
                        service_user,
                        import,
                    }])
                }
            }
        }
        _ => Flow::Unhandled,
    }
}

fn failed(f: &Failure) -> String {
    format!("{}{}\n{}{}", t::FAILED, f.message, text::FIX, f.fix)
}

/// The check answered: keep what was found, show what was not, move on when all is usable.
pub fn on_checked(
    s: &mut State,
    state_dir: Option<Result<String, Failure>>,
    service_user: Option<Result<String, Failure>>,
    import: Option<Result<Box<Config>, Failure>>,
) -> Flow {
    if !s.install.checking {
        return Flow::stay();
    }
    s.install.checking = false;
    let (asked_dir, asked_user, asked_file) = to_check(s);
    let mut ok = true;
    if let (Some(r), Some(dir)) = (state_dir, asked_dir) {
        match r {
            Ok(what) => s.install.dir_ok = Some((dir.display().to_string(), what)),
            Err(f) => {
                ok = false;
                s.install.errors.push((Field::StateDirPath, failed(&f)));
            }
        }
    }
    if let (Some(r), Some(name)) = (service_user, asked_user) {
        match r {
            Ok(what) => s.install.user_ok = Some((name, what)),
            Err(f) => {
                ok = false;
                s.install.errors.push((Field::ServiceUser, failed(&f)));
            }
        }
    }
    if let (Some(r), Some(file)) = (import, asked_file) {
        match r {
            Ok(c) => {
                crate::wizard::pages::connect_directories::prefill_import(s, &c);
                s.install.imported = Some((file, c));
            }
            Err(f) => {
                ok = false;
                s.install.errors.push((Field::ImportPath, failed(&f)));
            }
        }
    }
    if ok && to_check(s) == (None, None, None) {
        if s.page == crate::wizard::app::PageId::InstallComponents {
            return Flow::Next(Vec::new());
        }
        return Flow::stay();
    }
    focus_first_error(s);
    Flow::stay()
}

/// The footer actions.
pub fn hints(s: &State) -> Vec<Action> {
    if s.install.checking {
        return vec![];
    }
    let shown = fields(s);
    let mut a = vec![Action::Next, Action::FocusNext];
    if matches!(
        shown.get(s.install.focus),
        Some(Field::StateDir | Field::Service | Field::Import)
    ) {
        a.push(Action::Toggle);
    }
    a
}

fn errors_of(b: &mut Body, p: &InstallComponents, f: Field, st: &Styles) {
    for (_, m) in p.errors.iter().filter(|(x, _)| *x == f) {
        for (i, line) in m.lines().enumerate() {
            let style = if i == 0 { st.error } else { st.text };
            b.text(format!("  {line}"), style);
        }
    }
}

/// The body.
pub fn view(s: &State, st: &Styles) -> Body {
    let p = &s.install;
    let shown = fields(s);
    let focused = shown.get(p.focus).copied();
    let mut b = Body::default();
    b.text(t::INTRO, st.muted);
    b.blank();
    for f in &shown {
        let is = focused == Some(*f);
        match f {
            Field::StateDir => {
                b.push_focus(
                    checkbox(p.custom_state_dir.into(), t::STATE_DIR, is, true, st),
                    is,
                );
            }
            Field::StateDirPath => {
                b.field(t::STATE_DIR_PATH, &p.state_dir, is, None, st);
                errors_of(&mut b, p, *f, st);
                if let Some((dir, what)) = &p.dir_ok
                    && dir == p.state_dir.text()
                {
                    b.text(format!("  ✓ {dir} ({what})"), st.success);
                }
                b.push(note(t::STATE_DIR_HELP, st));
            }
            Field::Database => {
                b.push_focus(checkbox(false.into(), t::DATABASE, is, false, st), is);
                if p.errors.iter().any(|(x, _)| x == f) {
                    errors_of(&mut b, p, *f, st);
                } else {
                    b.push(note(t::DATABASE_WHY, st));
                }
            }
            Field::Service => {
                b.push_focus(
                    checkbox(p.existing_user.into(), t::SERVICE, is, true, st),
                    is,
                );
                if !p.existing_user {
                    b.push(note(t::SERVICE_DEFAULT, st));
                }
            }
            Field::ServiceUser => {
                b.field(t::SERVICE_USER, &p.user, is, None, st);
                errors_of(&mut b, p, *f, st);
                if let Some((name, what)) = &p.user_ok
                    && name == p.user.text()
                {
                    b.text(format!("  {}", t::user_found(name, what)), st.success);
                }
                b.push(note(t::SERVICE_FIXED, st));
            }
            Field::Import => {
                b.push_focus(checkbox(p.import.into(), t::IMPORT, is, true, st), is);
                b.push(note(t::IMPORT_HELP, st));
            }
            Field::ImportPath => {
                b.field(t::IMPORT_PATH, &p.import_path, is, None, st);
                errors_of(&mut b, p, *f, st);
                if let Some((file, c)) = &p.imported
                    && file.as_path() == std::path::Path::new(p.import_path.text())
                {
                    b.text(
                        format!(
                            "  {}",
                            t::imported(&file.display().to_string(), c.directories.len())
                        ),
                        st.success,
                    );
                }
            }
        }
    }
    if p.checking {
        b.blank();
        b.push(crate::wizard::ui::working(s.tick, t::CHECKING, st));
    }
    b
}

/// The imported configuration as the base the pages apply their answers to: everything no page
/// asks about (scheduler, delete guard, logging, service, store, wizard) comes from the export;
/// the directories, the tenant and the install options are this server's own.
pub fn base_config(s: &State) -> Config {
    match imported(s) {
        Some(i) => {
            let mut c = i.clone();
            c.directories.clear();
            c.tenant = Default::default();
            c.install = Default::default();
            c
        }
        None => Config::default(),
    }
}

/// Put the choices into the configuration.
pub fn apply(s: &State, c: &mut Config) {
    let p = &s.install;
    if p.custom_state_dir && !p.state_dir.is_empty() {
        c.install.state_dir = Some(PathBuf::from(p.state_dir.text()));
    }
    if p.existing_user && !p.user.is_empty() {
        c.install.service_user = p.user.text().to_string();
    }
}
