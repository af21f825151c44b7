//! `hybridsync wizard --answers FILE`: the wizard without a terminal. The answers (TOML, see
//! `templates/answers-express.toml` and `templates/answers-custom.toml`) are put into the same
//! page states the screens fill, and the pages are moved on with the same key presses, through
//! the same [`update`]; so the validation, the effects and the configuration written are the
//! TUI's. Each page and effect prints a progress line.
//!
//! Invariants: an answer a page refuses stops the run with an error that names the answer key
//! (`answers.ou_filtering.include[2]: ...`) and nothing is written; answer files hold no secrets
//! (a password is named by an environment variable or a file); the run never waits for a key.

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use crate::config::model::{ScopeMode, SignInMethod, TlsMode, UserMatching};
use crate::domain::Dn;
use crate::effects::{Effect, Reply};
use crate::wizard::app::{InstallPath, Message, PageId, State, update};
use crate::wizard::keys::{Action, BINDINGS, Input};
use crate::wizard::pages::additional_tasks::{TASKS, Task};
use crate::wizard::pages::connect_directories::{AccountMode, Bind};
use crate::wizard::pages::filter_users_and_devices::Search;
use crate::wizard::pages::identifying_users::Anchor;
use crate::wizard::pages::ou_filtering;
use crate::wizard::pages::prerequisites::Checks;
use crate::wizard::pages::upn_suffixes::UpnAttribute;
use crate::wizard::widgets::TextField;

/// An answer the wizard cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answers.{key}: {message}")]
pub struct AnswerError {
    /// The answer key (`ou_filtering.include[2]`).
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> AnswerError {
    AnswerError {
        key: key.into(),
        message: message.into(),
    }
}

/// Why an answer file cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum AnswersFileError {
    /// Not readable.
    #[error("cannot read the answers file {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML or an unknown key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// The parser's message (it names the key and the line).
        message: String,
    },
}

/// The whole answer file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Answers {
    /// Rerun only: the Additional tasks task (`configure-staging-mode`,
    /// `customize-sync-options`, `change-user-sign-in`).
    pub task: Option<String>,
    /// Welcome and Express Settings.
    pub install: InstallAnswers,
    /// Connect your directories.
    pub directory: DirectoryAnswers,
    // --- several forests ---
    /// More forests (Custom): each like `[directory]`, with its own `ou_filtering`; without a
    /// `[directory]` the first entry is the first forest. On a rerun's customize task: the
    /// forests to add.
    pub directories: Vec<DirectoryAnswers>,
    // --- end several forests ---
    /// Microsoft Entra sign-in configuration.
    pub upn: UpnAnswers,
    /// Domain and OU filtering.
    pub ou_filtering: OuAnswers,
    /// Uniquely identifying your users.
    pub identity: IdentityAnswers,
    /// Filter users and devices.
    pub filtering: FilteringAnswers,
    /// Optional features.
    pub features: FeatureAnswers,
    /// Ready to configure.
    pub ready: ReadyAnswers,
    /// Rerun: Configure staging mode.
    pub staging: StagingAnswers,
    /// Custom: User sign-in; rerun: Change user sign-in.
    pub user_sign_in: SignInAnswers,
    // ---- wizfeatures (begin)
    /// Device writeback's forest and container (Custom, and the rerun's device-writeback
    /// action).
    pub device_writeback: DeviceWritebackAnswers,
    /// Rerun: Configure device options.
    pub device_options: DeviceOptionsAnswers,
    /// Rerun: Configure source anchor.
    pub source_anchor: SourceAnchorAnswers,
    // ---- wizfeatures (end)
}

// ---- wizfeatures (begin): device options and source anchor answers.

/// `[device_writeback]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceWritebackAnswers {
    /// The writeback forest (default: the first).
    pub forest: Option<String>,
    /// `create` or `manual` (default: `create` when `admin_username` is given, else `manual`).
    pub container: Option<String>,
    /// The Enterprise Admin that creates the containers.
    pub admin_username: Option<String>,
    /// The environment variable holding its password.
    pub admin_password_env: Option<String>,
    /// Or a file holding it (first line).
    pub admin_password_file: Option<std::path::PathBuf>,
}

/// `[device_options]` (rerun, `task = "configure-device-options"`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceOptionsAnswers {
    /// `hybrid-join`, `device-writeback` or `disable-device-writeback`.
    pub action: Option<String>,
    /// Hybrid join: the forest whose SCP is written (default: the first).
    pub forest: Option<String>,
    /// Hybrid join: the verified domain (`azureADName`).
    pub domain: Option<String>,
    /// Hybrid join: the tenant ID (`azureADId`; default: the configuration's).
    pub tenant_id: Option<String>,
    /// Hybrid join: the Enterprise Admin.
    pub admin_username: Option<String>,
    /// The environment variable holding its password.
    pub admin_password_env: Option<String>,
    /// Or a file holding it (first line).
    pub admin_password_file: Option<std::path::PathBuf>,
}

/// `[source_anchor]` (rerun, `task = "configure-source-anchor"`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceAnchorAnswers {
    /// Switch even when users already have mS-DS-ConsistencyGuid set (`/SkipLdapSearch`).
    pub skip_ldap_search: bool,
    /// Write each in-scope user's objectGUID into mS-DS-ConsistencyGuid and grant the
    /// connector account that right, with the admin below.
    pub write_from_object_guid: bool,
    /// The Domain or Enterprise Admin for it.
    pub admin_username: Option<String>,
    /// The environment variable holding its password.
    pub admin_password_env: Option<String>,
    /// Or a file holding it (first line).
    pub admin_password_file: Option<std::path::PathBuf>,
}

/// A password named by an environment variable or a file, for the answer `table`.
fn secret_answer(
    table: &str,
    env: &Option<String>,
    file: &Option<std::path::PathBuf>,
) -> Result<String, AnswerError> {
    let k = |x: &str| format!("{table}.{x}");
    match (env, file) {
        (Some(var), None) => std::env::var(var).map_err(|_| {
            err(
                k("admin_password_env"),
                format!("the environment variable {var} is not set — export it before the run"),
            )
        }),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map(|t| t.lines().next().unwrap_or("").to_string())
            .map_err(|e| {
                err(
                    k("admin_password_file"),
                    format!("cannot read {}: {e}", f.display()),
                )
            }),
        (Some(_), Some(_)) => Err(err(
            k("admin_password_env"),
            "give admin_password_env or admin_password_file, not both",
        )),
        (None, None) => Err(err(
            k("admin_password_env"),
            "missing — name the environment variable holding the Enterprise Admin's password (or use admin_password_file)",
        )),
    }
}

fn typed(text: &str, password: bool) -> TextField {
    let mut f = if password {
        TextField::password()
    } else {
        TextField::new("")
    };
    for c in text.chars() {
        f.input(Input::Char(c));
    }
    f
}

/// `[device_writeback]` on the writeback forest and device container pages.
fn fill_device_forest(s: &mut State, a: &DeviceWritebackAnswers) -> Result<(), AnswerError> {
    use crate::wizard::pages::device_writeback as page;
    if let Some(f) = &a.forest {
        let forests = page::forests(s);
        s.device.forest = forests
            .iter()
            .position(|x| x.eq_ignore_ascii_case(f))
            .ok_or_else(|| {
                err(
                    "device_writeback.forest",
                    format!(
                        "\"{f}\" is not a connected forest — write one of: {}",
                        forests.join(", ")
                    ),
                )
            })?;
    }
    Ok(())
}

fn fill_device_container(s: &mut State, a: &DeviceWritebackAnswers) -> Result<(), AnswerError> {
    use crate::wizard::pages::device_writeback::Container;
    // Not given: create when an admin is named, else the steps by hand (no credentials).
    s.device.container = match a.container.as_deref() {
        None if a.admin_username.is_none() => Container::Manual,
        None | Some("create") => Container::Create,
        Some("manual") => Container::Manual,
        Some(o) => {
            return Err(err(
                "device_writeback.container",
                format!("\"{o}\" is not a choice — write \"create\" or \"manual\""),
            ));
        }
    };
    if s.device.container == Container::Create {
        let user = a.admin_username.clone().ok_or_else(|| {
            err(
                "device_writeback.admin_username",
                "missing — name the Enterprise Admin that creates the device containers (or write container = \"manual\")",
            )
        })?;
        s.device.admin = typed(&user, false);
        let pw = secret_answer(
            "device_writeback",
            &a.admin_password_env,
            &a.admin_password_file,
        )?;
        s.device.password = typed(&pw, true);
    }
    Ok(())
}

/// `[device_options]` on the Configure device options page.
fn fill_device_options(s: &mut State, a: &DeviceOptionsAnswers) -> Result<(), AnswerError> {
    use crate::wizard::pages::configure_device_options::options;
    let name = a.action.as_deref().ok_or_else(|| {
        err(
            "device_options.action",
            "missing — write hybrid-join, device-writeback or disable-device-writeback",
        )
    })?;
    let offered = options(s);
    s.device_options.choice = offered
        .iter()
        .copied()
        .find(|o| o.key() == name)
        .ok_or_else(|| {
            let keys: Vec<&str> = offered.iter().map(|o| o.key()).collect();
            err(
                "device_options.action",
                format!(
                    "\"{name}\" is not offered here — write one of: {} (disable-device-writeback only while device writeback is on)",
                    keys.join(", ")
                ),
            )
        })?;
    Ok(())
}

/// `[device_options]` on the SCP configuration page.
fn fill_hybrid_join(s: &mut State, a: &DeviceOptionsAnswers) -> Result<(), AnswerError> {
    if let Some(f) = &a.forest
        && !crate::wizard::pages::hybrid_join::choose_forest(s, f)
    {
        return Err(err(
            "device_options.forest",
            format!(
                "\"{f}\" is not a configured forest — write the forest of one of [[directories]]"
            ),
        ));
    }
    if let Some(d) = &a.domain {
        s.hybrid_join.domain = typed(d, false);
    }
    if let Some(t) = &a.tenant_id {
        s.hybrid_join.tenant = typed(t, false);
    }
    let user = a.admin_username.clone().ok_or_else(|| {
        err(
            "device_options.admin_username",
            "missing — name the Enterprise Admin that writes the service connection point",
        )
    })?;
    s.hybrid_join.admin = typed(&user, false);
    let pw = secret_answer(
        "device_options",
        &a.admin_password_env,
        &a.admin_password_file,
    )?;
    s.hybrid_join.password = typed(&pw, true);
    Ok(())
}

/// Why the SCP page did not finish.
fn hybrid_join_refusal(s: &State) -> AnswerError {
    use crate::wizard::pages::hybrid_join::{Field, Write};
    if let Some((f, m)) = s.hybrid_join.errors.first() {
        let k = match f {
            Field::Forest => "device_options.forest",
            Field::Domain => "device_options.domain",
            Field::Tenant => "device_options.tenant_id",
            Field::Admin => "device_options.admin_username",
            Field::Password => "device_options.admin_password_env",
        };
        return err(k, *m);
    }
    match &s.hybrid_join.write {
        Write::Failed(f) => err(
            "device_options",
            format!(
                "the service connection point was not written: {} (fix: {})",
                f.message, f.fix
            ),
        ),
        _ => err(
            "device_options",
            "the service connection point was not written",
        ),
    }
}

/// `[source_anchor]` on the Configure source anchor page.
fn fill_source_anchor(s: &mut State, a: &SourceAnchorAnswers) -> Result<(), AnswerError> {
    let p = &mut s.source_anchor;
    p.skip = a.skip_ldap_search;
    p.stamp = a.write_from_object_guid;
    if p.stamp {
        let user = a.admin_username.clone().ok_or_else(|| {
            err(
                "source_anchor.admin_username",
                "missing — name the Domain or Enterprise Admin that writes mS-DS-ConsistencyGuid (or leave write_from_object_guid out)",
            )
        })?;
        p.admin = typed(&user, false);
        let pw = secret_answer(
            "source_anchor",
            &a.admin_password_env,
            &a.admin_password_file,
        )?;
        s.source_anchor.password = typed(&pw, true);
    }
    Ok(())
}

/// Why Configure source anchor did not move on.
fn source_anchor_refusal(s: &State) -> AnswerError {
    use crate::wizard::pages::configure_source_anchor::Check;
    let k = "source_anchor.skip_ldap_search";
    match &s.source_anchor.check {
        Check::InUse(g) => err(
            k,
            crate::wizard::text::source_anchor::answer_in_use(
                g.total,
                &g.sample
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Check::Failed(f) => err(
            k,
            format!(
                "the check for mS-DS-ConsistencyGuid values could not run: {} (fix: {}); set skip_ldap_search = true to switch without it",
                f.message, f.fix
            ),
        ),
        _ => err(k, "the check did not finish"),
    }
}

// ---- wizfeatures (end)

/// `[install]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstallAnswers {
    /// The license terms (must be `true`).
    pub accept_license: bool,
    /// `express` (default) or `custom`.
    pub mode: Option<String>,
    // --- install options ---
    /// Custom: a custom state directory (must be the one the wizard runs with).
    pub state_dir: Option<std::path::PathBuf>,
    /// Custom: `sqlite` (default); `postgres` is refused (not built yet).
    pub store: Option<String>,
    /// Custom: an existing local user as the service account (default: the dedicated user
    /// `hybridsync`). Can't be changed after installation.
    pub service_user: Option<String>,
    /// Custom: a settings export to import (pre-fills every page, staging mode on).
    pub import_settings: Option<std::path::PathBuf>,
    // --- end install options ---
}

/// `[directory]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryAnswers {
    /// Forest root DNS name.
    pub forest: String,
    /// Custom: domain controllers (empty: DNS SRV discovery).
    pub domain_controllers: Vec<String>,
    /// Custom: `ldaps` (default), `starttls` or `plain`.
    pub tls: Option<TlsMode>,
    /// Custom: `create` (default) or `existing`.
    pub account: Option<String>,
    /// Enterprise admin (create) or the existing connector account.
    pub username: String,
    /// The environment variable holding its password.
    pub password_env: Option<String>,
    /// Or a file holding it (first line).
    pub password_file: Option<std::path::PathBuf>,
    /// In `[[directories]]`: this forest's Domain and OU filtering.
    pub ou_filtering: Option<OuAnswers>,
}

/// `[upn]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpnAnswers {
    /// Continue although some UPN suffixes are not verified domains.
    pub continue_without_verified_domains: bool,
    /// Custom: `userPrincipalName` (default) or `mail`.
    pub attribute: Option<String>,
}

/// `[ou_filtering]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OuAnswers {
    /// `all` or `selected`.
    pub mode: Option<ScopeMode>,
    /// Containers ticked with their subtree.
    pub include: Vec<String>,
    /// Containers cleared below a ticked one.
    pub exclude: Vec<String>,
}

/// `[identity]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityAnswers {
    /// `mS-DS-ConsistencyGuid` (default), `objectGUID` or another attribute.
    pub source_anchor: Option<String>,
    /// How users in several forests are joined.
    pub user_matching: Option<UserMatching>,
}

/// `[filtering]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilteringAnswers {
    /// First run: the pilot group's DN (only its members synchronize).
    pub pilot_group: Option<String>,
    /// Rerun: remove the pilot group filter.
    pub remove_pilot_group: bool,
}

/// `[features]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeatureAnswers {
    /// Exchange hybrid deployment.
    pub exchange_hybrid: Option<bool>,
    /// Exchange mail public folders.
    pub exchange_mail_public_folders: Option<bool>,
    /// Group writeback.
    pub group_writeback: Option<bool>,
    /// Its target OU.
    pub group_writeback_ou: Option<String>,
    /// Its writeback forest (default: the first connected forest with Exchange in the schema).
    pub group_writeback_forest: Option<String>,
    /// Device writeback.
    pub device_writeback: Option<bool>,
    /// Directory extensions, `user.attr` or `group.attr`, each a candidate of the forest's
    /// schema (an empty list turns the feature off).
    pub directory_extensions: Option<Vec<String>>,
    // ---- wizfeatures (begin)
    /// Microsoft Entra app and attribute filtering (on when `apps` or `excluded_attributes`
    /// is given and this is not `false`).
    pub app_and_attribute_filtering: Option<bool>,
    /// Its cloud services (`exchange-online`, ...); not given: all of them.
    pub apps: Option<Vec<String>>,
    /// Its cleared attributes, `user.title`, `group.info`, `contact.department`.
    pub excluded_attributes: Option<Vec<String>>,
    // ---- wizfeatures (end)
}

/// `[ready]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadyAnswers {
    /// Start the synchronization process when configuration completes (default true).
    pub start_sync: Option<bool>,
    /// Enable staging mode (first run).
    pub staging: Option<bool>,
}

/// `[staging]` (rerun).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StagingAnswers {
    /// Staging mode on or off.
    pub enabled: Option<bool>,
}

/// `[user_sign_in]` (Custom first run, and the rerun's change-user-sign-in task).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignInAnswers {
    /// The method.
    pub method: Option<SignInMethod>,
    /// Seamless single sign-on.
    pub single_sign_on: Option<bool>,
}

/// Parse an answer file's text.
pub fn parse(text: &str) -> Result<Answers, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim().to_string())
}

/// The key event bound to `action` in the key table (the unattended run presses the same keys).
fn key(action: Action) -> KeyEvent {
    BINDINGS
        .iter()
        .find(|b| b.action == action)
        .map(|b| KeyEvent::new(b.code, b.modifiers))
        .unwrap_or_else(|| KeyEvent::new(KeyCode::Null, KeyModifiers::NONE))
}

/// Runs effects: executes one and returns its replies (a device-code sign-in: both).
pub type Exec<'a> = dyn FnMut(Effect) -> Vec<Reply> + 'a;
/// Receives progress lines.
pub type Say<'a> = dyn FnMut(&str) + 'a;

struct Driver<'a, 'b> {
    s: &'a mut State,
    exec: &'a mut Exec<'b>,
    say: &'a mut Say<'b>,
    /// The page whose title was printed last.
    shown: Option<PageId>,
}

impl Driver<'_, '_> {
    /// Print the page's title when the wizard reached a new page.
    fn announce(&mut self) {
        if self.shown != Some(self.s.page) {
            self.shown = Some(self.s.page);
            (self.say)(crate::wizard::ui::page_title(self.s.page));
        }
    }

    fn settle(&mut self, mut effects: Vec<Effect>) {
        while !effects.is_empty() {
            let mut next = Vec::new();
            for e in effects {
                if matches!(e, Effect::Cancel(_)) {
                    continue;
                }
                (self.say)(&format!("  … {}", e.describe()));
                for r in (self.exec)(e) {
                    if let Reply::DeviceCode {
                        verification_uri,
                        user_code,
                    } = &r
                    {
                        (self.say)(&format!(
                            "  To sign in, open {verification_uri} and enter the code {user_code}"
                        ));
                    }
                    next.extend(update(self.s, Message::Reply(r)));
                    self.announce();
                }
            }
            effects = next;
        }
    }

    fn press(&mut self, action: Action) {
        let effects = update(self.s, Message::Key(key(action)));
        self.announce();
        self.settle(effects);
    }

    fn type_into(&mut self, f: fn(&mut State) -> &mut TextField, text: &str) {
        *f(self.s) = TextField::new("");
        for c in text.chars() {
            f(self.s).input(Input::Char(c));
        }
    }
}

fn path(a: &Answers) -> Result<InstallPath, AnswerError> {
    match a.install.mode.as_deref() {
        None | Some("express") => Ok(InstallPath::Express),
        Some("custom") => Ok(InstallPath::Custom),
        Some(other) => Err(err(
            "install.mode",
            format!("\"{other}\" is not a mode — write \"express\" or \"custom\""),
        )),
    }
}

fn password(a: &DirectoryAnswers, key: &str) -> Result<String, AnswerError> {
    match (&a.password_env, &a.password_file) {
        (Some(var), None) => std::env::var(var).map_err(|_| {
            err(
                format!("{key}.password_env"),
                format!("the environment variable {var} is not set — export it before the run"),
            )
        }),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map(|t| t.lines().next().unwrap_or("").to_string())
            .map_err(|e| {
                err(
                    format!("{key}.password_file"),
                    format!("cannot read {}: {e}", file.display()),
                )
            }),
        (Some(_), Some(_)) => Err(err(
            format!("{key}.password_env"),
            "give password_env or password_file, not both",
        )),
        (None, None) => Err(err(
            format!("{key}.password_env"),
            "missing — name the environment variable holding the password (or use password_file); passwords never go into the answers file",
        )),
    }
}

/// The domain root `dn` sits under, among the tree's roots.
fn root_of(o: &ou_filtering::OuFiltering, dn: &Dn) -> Option<Dn> {
    o.roots
        .iter()
        .find(|r| *r == dn || dn.is_descendant_of(r))
        .cloned()
}

/// Parse `text` as a container of the forest and open the OU tree down to it (reading what was
/// never read), as the arrows on its ancestors' rows do; errors are about answer key `k`.
fn reach_container(d: &mut Driver<'_, '_>, k: &str, text: &str) -> Result<Dn, AnswerError> {
    let forest = if d.s.ous.forest.is_empty() {
        crate::wizard::pages::connect_directories::forest(d.s)
            .map(|f| f.forest.clone())
            .unwrap_or_default()
    } else {
        d.s.ous.forest.clone()
    };
    let dn = Dn::parse(text)
        .ok()
        .filter(|x| !x.is_empty())
        .ok_or_else(|| {
            err(
                k,
                format!(
                    "\"{text}\" is not a DN — write it like \"OU=Sales,DC=corp,DC=example,DC=com\""
                ),
            )
        })?;
    let Some(root) = root_of(&d.s.ous, &dn) else {
        return Err(err(
            k,
            format!(
                "\"{text}\" is not a DN in {forest} — it must end with one of the forest's domains ({})",
                d.s.ous
                    .roots
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    };
    // Open every container from the domain down to the parent of `dn`.
    let mut chain = Vec::new();
    let mut cur = dn.parent();
    while let Some(p) = cur {
        if p != root && !p.is_descendant_of(&root) {
            break;
        }
        chain.push(p.clone());
        if p == root {
            break;
        }
        cur = p.parent();
    }
    for p in chain.into_iter().rev() {
        let effects = ou_filtering::open(d.s, &p);
        d.settle(effects);
        match d.s.ous.nodes.get(&p).map(|n| &n.children) {
            Some(ou_filtering::Children::Loaded(_)) => {}
            Some(ou_filtering::Children::Failed(f)) => {
                return Err(err(
                    k,
                    format!("cannot read {p}: {} (fix: {})", f.message, f.fix),
                ));
            }
            _ => {
                return Err(err(
                    k,
                    format!("\"{text}\" is not in {forest}: {p} was not found"),
                ));
            }
        }
    }
    if dn != root && !d.s.ous.nodes.contains_key(&dn) {
        return Err(err(
            k,
            format!(
                "\"{text}\" is not in {forest}: no such container (check the spelling, or open the tree in the wizard)"
            ),
        ));
    }
    Ok(dn)
}

/// Tick the answers' containers in the tree, as Space on each row does, after opening the tree
/// down to each of them (so each is known to exist, with its objectGUID).
fn fill_ous(d: &mut Driver<'_, '_>, a: &OuAnswers, prefix: &str) -> Result<(), AnswerError> {
    if a.mode.is_none() && a.include.is_empty() && a.exclude.is_empty() {
        // No [ou_filtering] answers: the page keeps what it shows (all, or the saved selection
        // on a rerun).
        return Ok(());
    }
    let mode = a
        .mode
        .unwrap_or(if a.include.is_empty() && a.exclude.is_empty() {
            ScopeMode::All
        } else {
            ScopeMode::Selected
        });
    let mut parsed = Vec::new();
    for (list, key, tick) in [
        (&a.include, "include", true),
        (&a.exclude, "exclude", false),
    ] {
        for (i, text) in list.iter().enumerate() {
            let k = format!("{prefix}.{key}[{i}]");
            let dn = reach_container(d, &k, text)?;
            parsed.push((dn, tick));
        }
    }
    let o = &mut d.s.ous;
    o.mode = mode;
    o.overrides.clear();
    o.nothing = false;
    if mode == ScopeMode::All {
        return Ok(());
    }
    // Clear every domain, then tick the includes (shallowest first) and clear the excludes.
    for r in o.roots.clone() {
        if ou_filtering::check(o, &r) != crate::wizard::ui::Check::Off {
            ou_filtering::toggle(o, &r);
        }
    }
    parsed.sort_by_key(|(dn, _)| dn.to_string().matches(',').count());
    for (dn, tick) in parsed {
        if ou_filtering::effective(o, &dn) != tick {
            // A partly ticked node ticks everything first, as Space does.
            ou_filtering::toggle(o, &dn);
            if ou_filtering::effective(o, &dn) != tick {
                ou_filtering::toggle(o, &dn);
            }
        }
    }
    Ok(())
}

fn fill_features(s: &mut State, a: &FeatureAnswers) {
    let f = &mut s.features;
    if let Some(v) = a.exchange_hybrid {
        f.exchange_hybrid = v;
    }
    if let Some(v) = a.exchange_mail_public_folders {
        f.public_folders = v;
    }
    if let Some(v) = a.group_writeback {
        f.group_writeback = v;
    }
    if let Some(v) = a.device_writeback {
        f.device_writeback = v;
    }
    if let Some(v) = &a.directory_extensions {
        f.extensions = !v.is_empty();
    }
    // wizfeatures
    if let Some(v) = a
        .app_and_attribute_filtering
        .or((a.apps.is_some() || a.excluded_attributes.is_some()).then_some(true))
    {
        f.app_filtering = v;
    }
}

// ---- wizfeatures (begin): app and attribute filtering answers.

/// `features.apps` on the Microsoft Entra app filtering page.
fn fill_apps(s: &mut State, a: &FeatureAnswers) -> Result<(), AnswerError> {
    let Some(wanted) = &a.apps else {
        return Ok(());
    };
    let mut apps = Vec::new();
    for (i, text) in wanted.iter().enumerate() {
        let app = crate::config::apps::parse(text).ok_or_else(|| {
            err(
                format!("features.apps[{i}]"),
                crate::wizard::text::attribute_filtering::unknown_app(text),
            )
        })?;
        apps.push(app);
    }
    s.app_filter.apps.clear();
    for app in apps {
        if !s.app_filter.apps.contains(&app) {
            crate::wizard::pages::app_filtering::toggle(&mut s.app_filter, app);
        }
    }
    if s.app_filter.apps.is_empty() {
        return Err(err(
            "features.apps",
            crate::wizard::text::app_filtering::NOTHING,
        ));
    }
    Ok(())
}

/// `features.excluded_attributes` on the Microsoft Entra attributes page: each must be listed
/// there and clearable.
fn fill_attributes(s: &mut State, a: &FeatureAnswers) -> Result<(), AnswerError> {
    use crate::wizard::pages::attribute_filtering as page;
    use crate::wizard::text::attribute_filtering as t;
    let Some(wanted) = &a.excluded_attributes else {
        return Ok(());
    };
    s.app_filter.cleared.clear();
    for (i, k) in wanted.iter().enumerate() {
        let key = format!("features.excluded_attributes[{i}]");
        let (class, attr) = k.split_once('.').unwrap_or(("", k.as_str()));
        if crate::config::apps::is_mandatory(attr) {
            return Err(err(key, t::mandatory(k)));
        }
        let Some((c, x)) = s
            .app_filter
            .attributes
            .iter()
            .find(|(c, x)| c.eq_ignore_ascii_case(class) && x.eq_ignore_ascii_case(attr))
            .cloned()
        else {
            return Err(err(key, t::unknown(k)));
        };
        if page::left_out(s, &x) {
            // Already not synchronized because of the services chosen: nothing to clear.
            continue;
        }
        if !page::is_cleared(s, &page::key(&c, &x)) {
            page::toggle(s, &c, &x);
        }
    }
    Ok(())
}

// ---- wizfeatures (end)

/// `features.directory_extensions` on the Directory extensions page: each must be one of the
/// forest's candidates, chosen as Space on its row does.
fn fill_extensions(s: &mut State, a: &FeatureAnswers) -> Result<(), AnswerError> {
    use crate::wizard::pages::directory_extensions::{self as page, Load};
    let Some(wanted) = &a.directory_extensions else {
        // No answer: the page keeps what it shows (a rerun's attributes).
        return Ok(());
    };
    // The forests read, named in the messages.
    let forest = s
        .extensions
        .forests
        .iter()
        .map(|(f, _)| f.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let candidates = match &s.extensions.load {
        Load::Loaded(c) => c.clone(),
        Load::Failed(f) => {
            let failed = s
                .extensions
                .forests
                .iter()
                .find(|(_, l)| matches!(l, page::ForestLoad::Failed(_)))
                .map_or(forest.clone(), |(f, _)| f.clone());
            return Err(err(
                "features.directory_extensions",
                format!(
                    "cannot read the schema of {failed}: {} (fix: {})",
                    f.message, f.fix
                ),
            ));
        }
        _ => {
            return Err(err(
                "features.directory_extensions",
                "the schema read did not finish",
            ));
        }
    };
    s.extensions.selected.clear();
    for (i, key) in wanted.iter().enumerate() {
        let k = format!("features.directory_extensions[{i}]");
        let Some(c) = candidates
            .iter()
            .find(|c| c.key().eq_ignore_ascii_case(key))
        else {
            return Err(err(
                k,
                crate::wizard::text::extensions::unknown(key, &forest),
            ));
        };
        if !page::is_selected(&s.extensions, &c.key()) {
            page::toggle(&mut s.extensions, &c.key());
        }
        if let Some(m) = s.extensions.error {
            return Err(err(k, m));
        }
    }
    Ok(())
}

/// `features.group_writeback_forest` on the Group writeback page's Forest row.
fn writeback_forest(s: &mut State, name: &str) -> Result<Vec<Effect>, AnswerError> {
    use crate::wizard::pages::group_writeback::{self as page, ForestRefusal};
    use crate::wizard::text::group_writeback as t;
    let offered = page::candidates(s)
        .iter()
        .map(|f| f.forest.clone())
        .collect::<Vec<_>>()
        .join(", ");
    page::choose_forest(s, name).map_err(|r| {
        err(
            "features.group_writeback_forest",
            match r {
                ForestRefusal::NotConnected => t::unknown_forest(name, &offered),
                ForestRefusal::NoExchange => t::forest_without_exchange(name, &offered),
            },
        )
    })
}

/// `[user_sign_in]` into the User sign-in page (first run) or the Change user sign-in task.
fn fill_sign_in(s: &mut State, a: &SignInAnswers) -> Result<(), AnswerError> {
    use crate::wizard::pages::change_user_sign_in::{methods, sso_possible};
    if let Some(m) = a.method {
        if !methods(s).contains(&m) {
            return Err(err(
                "user_sign_in.method",
                crate::wizard::text::user_sign_in::NONE_WHY,
            ));
        }
        s.user_sign_in.method = m;
        if !sso_possible(m) {
            s.user_sign_in.single_sign_on = false;
        }
    }
    if let Some(v) = a.single_sign_on {
        if v && !sso_possible(s.user_sign_in.method) {
            return Err(err(
                "user_sign_in.single_sign_on",
                crate::wizard::text::user_sign_in::SSO_NOT_HERE,
            ));
        }
        s.user_sign_in.single_sign_on = v;
    }
    Ok(())
}

// --- several forests ---
/// The forests the answers connect, each with the key its errors name: `[directory]` then
/// `[[directories]]` (a rerun adds only the `[[directories]]`).
fn forests_of(a: &Answers, rerun: bool) -> Vec<(String, &DirectoryAnswers)> {
    let mut v = Vec::new();
    if !rerun && (!a.directory.forest.is_empty() || a.directories.is_empty()) {
        v.push(("directory".to_string(), &a.directory));
    }
    v.extend(
        a.directories
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("directories[{i}]"), x)),
    );
    v
}

/// Why Connect your directories refused the forest of answer key `key`.
fn dir_refusal(s: &State, key: &str, x: &DirectoryAnswers) -> AnswerError {
    use crate::wizard::pages::connect_directories::Field;
    if let Bind::Failed(f) = &s.directories.bind {
        return err(
            key,
            format!(
                "cannot connect to {}: {} (fix: {})",
                x.forest, f.message, f.fix
            ),
        );
    }
    match s.directories.errors.first() {
        Some((field, msg)) => {
            let k = match field {
                Field::Forest | Field::Listed(_) => "forest",
                Field::Dcs => "domain_controllers",
                Field::Tls => "tls",
                Field::AccountMode => "account",
                Field::User => "username",
                Field::Password => "password_env",
            };
            err(format!("{key}.{k}"), *msg)
        }
        None => match s.directories.pending.first() {
            Some(p) => err(
                "directories",
                format!(
                    "the imported forest {} needs its credentials: add a [[directories]] entry with forest = \"{}\"",
                    p.forest, p.forest
                ),
            ),
            None => err(key, "the directory page did not accept the answers"),
        },
    }
}

/// Type one forest's answers into the form.
fn fill_directory(
    d: &mut Driver<'_, '_>,
    key: &str,
    x: &DirectoryAnswers,
) -> Result<(), AnswerError> {
    d.type_into(|s| &mut s.directories.forest, &x.forest);
    d.type_into(|s| &mut s.directories.dcs, &x.domain_controllers.join(", "));
    d.type_into(|s| &mut s.directories.user, &x.username);
    if let Some(t) = x.tls {
        d.s.directories.tls = t;
    }
    d.s.directories.mode = match x.account.as_deref() {
        None | Some("create") => AccountMode::Create,
        Some("existing") => AccountMode::Existing,
        Some(o) => {
            return Err(err(
                format!("{key}.account"),
                format!("\"{o}\" is not an account choice — write \"create\" or \"existing\""),
            ));
        }
    };
    let pw = password(x, key)?;
    d.s.directories.password = TextField::password();
    for c in pw.chars() {
        d.s.directories.password.input(Input::Char(c));
    }
    Ok(())
}

/// Connect every forest of the answers: Ctrl+N after each but the last, Enter after the last.
fn connect_all(d: &mut Driver<'_, '_>, a: &Answers) -> Result<(), AnswerError> {
    let rerun = d.s.rerun.is_some();
    let list = forests_of(a, rerun);
    let n = list.len();
    for (i, (key, x)) in list.into_iter().enumerate() {
        fill_directory(d, &key, x)?;
        if i + 1 < n {
            let before = d.s.directories.added.len();
            d.press(Action::AddDirectory);
            if d.s.directories.added.len() == before {
                return Err(dir_refusal(d.s, &key, x));
            }
        } else {
            d.press(Action::Next);
            if d.s.page == PageId::ConnectDirectories {
                return Err(dir_refusal(d.s, &key, x));
            }
        }
    }
    Ok(())
}

/// Domain and OU filtering of every forest: the first takes `[ou_filtering]` (or its own), the
/// others their `[[directories]]` entry's `ou_filtering`.
fn fill_all_ous(d: &mut Driver<'_, '_>, a: &Answers) -> Result<(), AnswerError> {
    let forests: Vec<String> = crate::wizard::pages::connect_directories::forests(d.s)
        .iter()
        .map(|f| f.forest.clone())
        .collect();
    let list = forests_of(a, d.s.rerun.is_some());
    for (i, forest) in forests.iter().enumerate() {
        let own = list
            .iter()
            .find(|(_, x)| x.forest.eq_ignore_ascii_case(forest))
            .and_then(|(k, x)| {
                x.ou_filtering
                    .as_ref()
                    .map(|o| (format!("{k}.ou_filtering"), o))
            });
        let (prefix, answers) = match own {
            Some(o) => o,
            None if i == 0 => ("ou_filtering".to_string(), &a.ou_filtering),
            None => continue,
        };
        if forests.len() > 1 {
            let effects = ou_filtering::switch_forest(d.s, forest);
            d.settle(effects);
        }
        fill_ous(d, answers, &prefix)?;
    }
    Ok(())
}
// --- end several forests ---

// --- install options ---
/// `[install]`'s Custom options into Install required components.
fn fill_install(s: &mut State, a: &InstallAnswers) -> Result<(), AnswerError> {
    let p = &mut s.install;
    if let Some(dir) = &a.state_dir {
        p.custom_state_dir = true;
        p.state_dir = TextField::new(&dir.display().to_string());
    }
    match a.store.as_deref() {
        None | Some("sqlite") => {}
        Some("postgres") => {
            return Err(err(
                "install.store",
                crate::wizard::text::install::DATABASE_WHY,
            ));
        }
        Some(o) => {
            return Err(err(
                "install.store",
                format!("\"{o}\" is not a store — write \"sqlite\""),
            ));
        }
    }
    if let Some(u) = &a.service_user {
        p.existing_user = true;
        p.user = TextField::new(u);
    }
    if let Some(f) = &a.import_settings {
        p.import = true;
        p.import_path = TextField::new(&f.display().to_string());
    }
    Ok(())
}
// --- end install options ---

/// A connector account's rights problem (Ready to configure's check), under the key of the
/// forest's own answers: `directory.username` or `directories[1].username`.
fn rights_refusal(s: &State, a: &Answers) -> Option<AnswerError> {
    let (forest, lines) = crate::wizard::pages::connect_directories::rights_problems_by_forest(s)
        .into_iter()
        .next()?;
    let key = forests_of(a, s.rerun.is_some())
        .into_iter()
        .find(|(_, x)| x.forest.eq_ignore_ascii_case(&forest))
        .map_or_else(
            || "directories".to_string(),
            |(k, _)| format!("{k}.username"),
        );
    Some(err(
        key,
        crate::wizard::text::directories::rights_refused(&forest, &lines.join("; ")),
    ))
}

/// The first answer key a page's refusal is about.
fn refusal(s: &State, a: &Answers) -> AnswerError {
    match s.page {
        PageId::Welcome => err(
            "install.accept_license",
            "must be true: the license terms have to be accepted",
        ),
        PageId::Prerequisites => {
            let failed: Vec<String> = match &s.prerequisites.checks {
                Checks::Done(c) => c
                    .iter()
                    .filter(|c| c.status == crate::effects::CheckStatus::Fail)
                    .map(|c| format!("{} ({}; fix: {})", c.name, c.detail, c.fix))
                    .collect(),
                Checks::Failed(f) => vec![format!("{} (fix: {})", f.message, f.fix)],
                _ => vec!["did not finish".into()],
            };
            err(
                "install",
                format!("prerequisite checks failed: {}", failed.join("; ")),
            )
        }
        PageId::ConnectToEntra => match &s.entra.sign_in {
            crate::wizard::pages::connect_to_entra::SignIn::Failed(f) => err(
                "install",
                format!("sign-in to Entra ID failed: {} (fix: {})", f.message, f.fix),
            ),
            _ => err("install", "sign-in to Entra ID did not finish"),
        },
        PageId::ConnectDirectories => dir_refusal(s, "directory", &a.directory),
        PageId::InstallComponents => {
            use crate::wizard::pages::install_components::Field as F;
            match s.install.errors.first() {
                Some((f, m)) => err(
                    match f {
                        F::StateDir | F::StateDirPath => "install.state_dir",
                        F::Database => "install.store",
                        F::Service | F::ServiceUser => "install.service_user",
                        F::Import | F::ImportPath => "install.import_settings",
                    },
                    m.replace('\n', " "),
                ),
                None => err("install", "the install options were not accepted"),
            }
        }
        PageId::UpnSuffixes => err(
            "upn.continue_without_verified_domains",
            crate::wizard::text::upn::MUST_CONTINUE,
        ),
        PageId::OuFiltering => err("ou_filtering.include", crate::wizard::text::ous::NOTHING),
        PageId::IdentifyingUsers => err(
            "identity.source_anchor",
            s.identity.error.unwrap_or("not accepted"),
        ),
        PageId::FilterUsersAndDevices => err(
            "filtering.pilot_group",
            match &s.filter.search {
                Search::Failed(f) => {
                    format!("the group search failed: {} (fix: {})", f.message, f.fix)
                }
                _ => format!(
                    "no group with the DN \"{}\" was found — give the pilot group's exact DN",
                    a.filtering.pilot_group.as_deref().unwrap_or("")
                ),
            },
        ),
        PageId::OptionalFeatures => match s.features.errors.first() {
            Some((_, m)) => err("features", *m),
            None => err("features", "not accepted"),
        },
        PageId::GroupWriteback => err(
            "features.group_writeback_ou",
            crate::wizard::text::group_writeback::NOTHING,
        ),
        // wizfeatures
        PageId::AppFiltering => err("features.apps", crate::wizard::text::app_filtering::NOTHING),
        PageId::DirectoryExtensions => err(
            "features.directory_extensions",
            s.extensions.error.unwrap_or("not accepted"),
        ),
        PageId::ReadyToConfigure if let Some(e) = rights_refusal(s, a) => e,
        PageId::ReadyToConfigure => err(
            "ready",
            format!(
                "the configuration rules reject the answers: {}",
                s.ready.problems.join("; ")
            ),
        ),
        PageId::Configure => {
            let failed = s.configure.steps.iter().find_map(|(_, st)| match st {
                crate::wizard::pages::configure::Status::Failed(f) => Some(f.clone()),
                _ => None,
            });
            match failed {
                Some(f) => err(
                    "ready",
                    format!("configuration failed: {} (fix: {})", f.message, f.fix),
                ),
                None => err("ready", "configuration did not finish"),
            }
        }
        // wizfeatures
        PageId::ConfigureSourceAnchor => source_anchor_refusal(s),
        PageId::DeviceContainer => match s.device.errors.first() {
            Some((crate::wizard::pages::device_writeback::Field::Password, m)) => {
                err("device_writeback.admin_password_env", *m)
            }
            Some((_, m)) => err("device_writeback.admin_username", *m),
            None => err("device_writeback", "not accepted"),
        },
        PageId::HybridJoin => hybrid_join_refusal(s),
        _ => err("task", "this page did not accept the answers"),
    }
}

fn task_of(a: &Answers) -> Result<Task, AnswerError> {
    let Some(name) = a.task.as_deref() else {
        return Err(err(
            "task",
            "missing — the configuration exists, so name the task to run (configure-staging-mode, customize-sync-options, change-user-sign-in, configure-device-options, configure-source-anchor)",
        ));
    };
    TASKS
        .iter()
        .copied()
        .find(|t| t.key() == name && (t.changes_config() || *t == Task::ConfigureDeviceOptions))
        .ok_or_else(|| {
            err(
                "task",
                format!("\"{name}\" is not a task the answers can run — write configure-staging-mode, customize-sync-options, change-user-sign-in, configure-device-options or configure-source-anchor"),
            )
        })
}

/// Drive the wizard from `a` until the configuration is written. `exec` runs each effect and
/// returns its replies; `say` receives the progress lines.
pub fn drive(
    s: &mut State,
    a: &Answers,
    exec: &mut Exec<'_>,
    say: &mut Say<'_>,
) -> Result<(), AnswerError> {
    if s.rerun.is_none() && a.task.is_some() {
        return Err(err(
            "task",
            "only for a configuration that exists already; remove it for a first installation",
        ));
    }
    // --- install options / several forests ---
    if s.rerun.is_none() && path(a)? == InstallPath::Express {
        let i = &a.install;
        for (set, key) in [
            (i.state_dir.is_some(), "install.state_dir"),
            (i.store.is_some(), "install.store"),
            (i.service_user.is_some(), "install.service_user"),
            (i.import_settings.is_some(), "install.import_settings"),
            (!a.directories.is_empty(), "directories"),
        ] {
            if set {
                return Err(err(
                    key,
                    "only with the custom settings: write mode = \"custom\" in [install] (express settings connect one forest with the defaults)",
                ));
            }
        }
    }
    // --- end install options / several forests ---
    let mut d = Driver {
        s,
        exec,
        say,
        shown: None,
    };
    let start = update(d.s, Message::Tick);
    d.announce();
    d.settle(start);
    let mut guard = 0;
    loop {
        guard += 1;
        let page = d.s.page;
        if page == PageId::Complete {
            return Ok(());
        }
        if guard > 64 {
            return Err(err(
                "task",
                "the wizard did not finish (a page kept refusing the answers)",
            ));
        }
        d.announce();
        let mut action = Action::Next;
        match page {
            PageId::AdditionalTasks => {
                let task = task_of(a)?;
                // wizfeatures: the menu offers what fits the configuration.
                let menu = crate::wizard::pages::additional_tasks::menu(d.s);
                let Some(i) = menu.iter().position(|t| *t == task) else {
                    return Err(err(
                        "task",
                        format!(
                            "\"{}\" is not offered for this configuration (configure-source-anchor only while the source anchor is objectGUID)",
                            task.key()
                        ),
                    ));
                };
                d.s.tasks.cursor = i;
            }
            PageId::Welcome => d.s.welcome.agreed = a.install.accept_license,
            PageId::ExpressSettings => d.s.path = path(a)?,
            PageId::ConnectDirectories => {
                connect_all(&mut d, a)?;
                continue;
            }
            PageId::InstallComponents => fill_install(d.s, &a.install)?,
            PageId::UpnSuffixes => {
                d.s.upn.continue_anyway = a.upn.continue_without_verified_domains;
                d.s.upn.attribute = match a.upn.attribute.as_deref() {
                    None => d.s.upn.attribute,
                    Some(x) if x.eq_ignore_ascii_case("userPrincipalName") => {
                        UpnAttribute::UserPrincipalName
                    }
                    Some(x) if x.eq_ignore_ascii_case("mail") => UpnAttribute::Mail,
                    Some(o) => {
                        return Err(err(
                            "upn.attribute",
                            format!(
                                "\"{o}\" is not offered — write \"userPrincipalName\" or \"mail\""
                            ),
                        ));
                    }
                };
            }
            PageId::OuFiltering => fill_all_ous(&mut d, a)?,
            PageId::IdentifyingUsers => {
                if let Some(m) = a.identity.user_matching {
                    d.s.identity.matching = m;
                }
                match a.identity.source_anchor.as_deref() {
                    None => {}
                    Some(x) if x.eq_ignore_ascii_case("mS-DS-ConsistencyGuid") => {
                        d.s.identity.anchor = Anchor::ConsistencyGuid;
                    }
                    Some(x) if x.eq_ignore_ascii_case("objectGUID") => {
                        d.s.identity.anchor = Anchor::ObjectGuid;
                    }
                    Some(x) => {
                        d.s.identity.anchor = Anchor::Custom;
                        d.type_into(|s| &mut s.identity.custom, x);
                    }
                }
            }
            PageId::FilterUsersAndDevices => {
                if let Some(g) = &a.filtering.pilot_group {
                    let dn = Dn::parse(g).map_err(|_| {
                        err(
                            "filtering.pilot_group",
                            format!("\"{g}\" is not a DN — write the group's DN"),
                        )
                    })?;
                    d.s.filter.selected = true;
                    let name = dn.rdn().map(|r| r.value().to_string()).unwrap_or_default();
                    d.s.filter.focus = 1;
                    d.type_into(|s| &mut s.filter.query, &name);
                    d.press(Action::Search);
                    if let Search::Done(found) = &d.s.filter.search {
                        d.s.filter.chosen = found.iter().find(|x| x.dn == dn).cloned();
                    }
                    d.s.filter.focus = 0;
                } else {
                    d.s.filter.selected = false;
                }
            }
            PageId::OptionalFeatures => fill_features(d.s, &a.features),
            PageId::DirectoryExtensions => fill_extensions(d.s, &a.features)?,
            // wizfeatures
            PageId::AppFiltering => fill_apps(d.s, &a.features)?,
            PageId::AttributeFiltering => fill_attributes(d.s, &a.features)?,
            PageId::GroupWriteback => {
                if let Some(name) = &a.features.group_writeback_forest {
                    let effects = writeback_forest(d.s, name)?;
                    d.settle(effects);
                }
                if let Some(text) = &a.features.group_writeback_ou {
                    let k = "features.group_writeback_ou";
                    let effects = crate::wizard::pages::group_writeback::enter(d.s);
                    d.settle(effects);
                    let dn = reach_container(&mut d, k, text)?;
                    crate::wizard::pages::group_writeback::choose(d.s, &dn);
                }
            }
            PageId::ReadyToConfigure => {
                if let Some(v) = a.ready.start_sync {
                    d.s.ready.start_sync = v;
                }
                if let (Some(v), None) = (a.ready.staging, &d.s.rerun) {
                    d.s.ready.staging = v;
                }
            }
            PageId::CustomizeSyncOptions => {
                d.s.customize.remove_pilot_group = a.filtering.remove_pilot_group;
                if !a.directories.is_empty() {
                    crate::wizard::pages::customize_sync_options::set_add_directory(d.s, true);
                }
            }
            PageId::ConfigureStagingMode => {
                if let Some(v) = a.staging.enabled {
                    d.s.staging.enabled = v;
                }
                match &d.s.staging.pending {
                    crate::wizard::pages::configure_staging_mode::Pending::Count(c) => {
                        (d.say)(&format!(
                            "  {}",
                            crate::wizard::text::staging::pending(c.adds, c.updates, c.deletes)
                        ))
                    }
                    crate::wizard::pages::configure_staging_mode::Pending::Failed(f) => {
                        (d.say)(&format!("  ✗ {}", f.message));
                    }
                    _ => {}
                }
            }
            PageId::ChangeUserSignIn | PageId::UserSignIn => fill_sign_in(d.s, &a.user_sign_in)?,
            PageId::Configure => action = Action::Retry,
            // wizfeatures
            PageId::DeviceWritebackForest => fill_device_forest(d.s, &a.device_writeback)?,
            PageId::DeviceContainer => fill_device_container(d.s, &a.device_writeback)?,
            PageId::DeviceOptions => fill_device_options(d.s, &a.device_options)?,
            PageId::HybridJoin => {
                fill_hybrid_join(d.s, &a.device_options)?;
                d.press(Action::Next);
                return match &d.s.hybrid_join.write {
                    crate::wizard::pages::hybrid_join::Write::Done(w) => {
                        (d.say)(&crate::wizard::text::hybrid_join::written(
                            &w.dn.to_string(),
                            w.created,
                        ));
                        Ok(())
                    }
                    _ => Err(hybrid_join_refusal(d.s)),
                };
            }
            PageId::ConfigureSourceAnchor => fill_source_anchor(d.s, &a.source_anchor)?,
            _ => {}
        }
        d.press(action);
        if d.s.page == page {
            return Err(refusal(d.s, a));
        }
    }
}

/// Run `file` against `state` with the real effects runner, printing progress on stdout.
/// Returns whether the configuration was written; errors are printed on stderr.
pub fn run_file(
    mut state: State,
    file: &Path,
    context: crate::effects::Context,
) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(file).map_err(|source| AnswersFileError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let answers = parse(&text).map_err(|message| AnswersFileError::Parse {
        path: file.to_path_buf(),
        message,
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = crate::effects::TokioRunner::with_context(rt.handle().clone(), tx, context);
    let mut exec = |e: Effect| {
        use crate::effects::Runner as _;
        let is_sign_in = e == Effect::SignInDeviceCode;
        runner.run(e);
        let mut out = Vec::new();
        while let Some(r) = rt.block_on(rx.recv()) {
            let more = is_sign_in && matches!(r, Reply::DeviceCode { .. });
            out.push(r);
            if !more {
                break;
            }
        }
        out
    };
    let mut say = |line: &str| println!("{line}");
    let result = drive(&mut state, &answers, &mut exec, &mut say);
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => {
            println!("hybridsync is configured: {}", state.config_path.display());
            Ok(true)
        }
        Err(e) => {
            eprintln!("hybridsync wizard: {e}. Nothing more was changed.");
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_the_driver_presses_has_a_key() {
        for a in [Action::Next, Action::Search, Action::Retry] {
            assert_ne!(key(a).code, KeyCode::Null, "{a:?}");
        }
    }
}
