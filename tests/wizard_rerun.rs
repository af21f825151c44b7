//! The rerun wizard (an existing configuration: the "Additional tasks" menu) without a terminal:
//! scripted key flows against a fake effects runner that really writes the file through
//! `config::save` (so the tests see the admin's comments survive), the unattended `--answers`
//! path driven with the same runner (it must produce the same configuration as the keys), the
//! answer errors that name their key, and render snapshots of every rerun page and its error
//! states at 80x24.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/wizard_driver.rs"]
mod wizard_driver;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use wizard_driver::{Keys, dn, guid, pump, render};

use hybridsync::config::Config;
use hybridsync::config::model::{ScopeMode, SignInMethod};
use hybridsync::domain::AttributeName;
use hybridsync::effects::{
    CheckStatus, ConfigureStep, Effect, ExtensionCandidate, ExtensionClass, Failure, FakeRunner,
    ObjectNote, OuEntry, PendingCount, PreflightCheck, PreflightResult, Reply, StepOutput,
};
use hybridsync::wizard::answers::{self, AnswerError};
use hybridsync::wizard::app::{Message, PageId, State, build_config};
use ratatui::crossterm::event::KeyCode;

const TEMPLATE: &str = include_str!("../templates/hybridsync.toml");
const STATE_DIR: &str = "/var/lib/hybridsync";
const SHOWN: &str = "/etc/hybridsync/hybridsync.toml";

fn ou(s: &str, n: u8, has_children: bool) -> OuEntry {
    OuEntry {
        dn: dn(s),
        guid: Some(guid(n)),
        has_children,
    }
}

/// The lab: the forest's OUs, a pending-export count, and a WriteConfig that really writes the
/// file the way the real runner does (comments kept by `config::save::update_document`).
fn lab(pending: Option<PendingCount>) -> impl FnMut(&Effect) -> Vec<Reply> {
    move |e| match e {
        Effect::ListOus { parent, .. } => {
            let children = match parent.to_string().as_str() {
                "DC=corp,DC=example,DC=com" => vec![
                    ou("OU=Sales,DC=corp,DC=example,DC=com", 1, true),
                    ou("OU=Staff,DC=corp,DC=example,DC=com", 2, false),
                    ou("CN=Users,DC=corp,DC=example,DC=com", 3, false),
                ],
                "OU=Sales,DC=corp,DC=example,DC=com" => vec![
                    ou("OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com", 4, false),
                    ou("OU=Americas,OU=Sales,DC=corp,DC=example,DC=com", 5, false),
                ],
                _ => vec![],
            };
            vec![Reply::Ous {
                parent: parent.clone(),
                children: Ok(children),
            }]
        }
        Effect::ListExtensionAttributes { forest } => {
            let cand = |class, name: &str| ExtensionCandidate {
                class,
                name: AttributeName::new(name).unwrap(),
                kind: "str",
            };
            vec![Reply::ExtensionAttributes {
                forest: forest.clone(),
                result: Ok(vec![
                    cand(ExtensionClass::User, "employeeID"),
                    cand(ExtensionClass::Group, "info"),
                ]),
            }]
        }
        Effect::CountPendingExports { .. } => vec![Reply::PendingExports(Ok(pending))],
        Effect::Configure(ConfigureStep::WriteConfig { config, path }) => {
            let existing = std::fs::read_to_string(path).unwrap();
            let text = hybridsync::config::save::update_document(&existing, config).unwrap();
            std::fs::write(path, text).unwrap();
            vec![Reply::Step(Ok(StepOutput::Written(path.clone())))]
        }
        Effect::ExportConfiguration { path, .. } => vec![Reply::Exported(Ok(path.clone()))],
        Effect::Cancel(_) => vec![],
        other => vec![Reply::NotConnected(other.clone())],
    }
}

struct Wizard {
    state: State,
    runner: FakeRunner,
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Keys for Wizard {
    fn send(&mut self, msg: Message) {
        pump(&mut self.state, &mut self.runner, msg);
    }
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("hybridsync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

impl Wizard {
    fn over(text: &str, script: impl FnMut(&Effect) -> Vec<Reply> + 'static) -> Self {
        // A fixed-length path, shown on screen as the same-length /etc/hybridsync/hybridsync.toml.
        let dir = tempfile::Builder::new()
            .prefix("rerun")
            .rand_bytes(5)
            .tempdir_in("/tmp")
            .unwrap();
        let path = write_config(dir.path(), text);
        assert_eq!(path.display().to_string().len(), SHOWN.len());
        let loaded = hybridsync::config::load(&path).unwrap().config;
        let mut w = Self {
            state: State::rerun(path.clone(), PathBuf::from(STATE_DIR), loaded),
            runner: FakeRunner::new(script),
            _dir: dir,
            path,
        };
        w.send(Message::Tick);
        w
    }

    fn page(&self) -> PageId {
        self.state.page
    }

    /// Highlight task `n` of the menu (0-based) and open it.
    fn task(&mut self, n: usize) -> &mut Self {
        assert_eq!(self.page(), PageId::AdditionalTasks);
        // From the top, wherever the highlight was left.
        while self.state.tasks.cursor > 0 {
            self.key(KeyCode::Up);
        }
        for _ in 0..n {
            self.down();
        }
        self.enter()
    }

    fn screen(&self) -> String {
        let screen = render(&self.state);
        // The temporary directory differs per run: show a stable path.
        screen.replace(&self.path.display().to_string(), SHOWN)
    }

    fn written(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }
}

fn loaded(text: &str) -> Config {
    hybridsync::config::parse(text).unwrap().config
}

/// The comment lines of a file.
fn comments(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .collect()
}

fn staging_on(text: &str) -> String {
    text.replace("staging_mode = false", "staging_mode = true")
}

// ---------------------------------------------------------------- flows

#[test]
fn rerun_opens_additional_tasks_prefilled_from_the_config() {
    let w = Wizard::over(TEMPLATE, lab(None));
    assert_eq!(w.page(), PageId::AdditionalTasks);
    assert_eq!(w.state.step(), (1, 1));
    assert_eq!(w.state.directories.forest.text(), "corp.example.com");
    assert_eq!(
        w.state.ous.roots,
        vec![dn("DC=corp,DC=example,DC=com")],
        "the tree starts at the forest root domain"
    );
    assert_eq!(
        build_config(&w.state),
        loaded(TEMPLATE),
        "nothing chosen, nothing changes"
    );
    assert!(w.runner.effects.is_empty(), "the menu runs nothing");
}

#[test]
fn staging_toggle_writes_only_staging_and_keeps_every_comment() {
    let mut w = Wizard::over(TEMPLATE, lab(Some(PendingCount::default())));
    w.task(3);
    assert_eq!(w.page(), PageId::ConfigureStagingMode);
    assert_eq!(
        w.runner.effects,
        vec![Effect::CountPendingExports {
            database: PathBuf::from(STATE_DIR).join("hybridsync.db")
        }]
    );
    assert!(
        !w.state.staging.enabled,
        "pre-filled from staging_mode = false"
    );
    w.space().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert_eq!(
        hybridsync::wizard::pages::ready_to_configure::changes(&w.state),
        vec!["~ sync.staging_mode: false -> true".to_string()]
    );
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let written = w.written();
    assert_eq!(comments(&written), comments(TEMPLATE), "every comment kept");
    assert_eq!(written, staging_on(TEMPLATE), "only the one value changed");
    let mut expected = loaded(TEMPLATE);
    expected.sync.staging_mode = true;
    assert_eq!(loaded(&written), expected);
}

#[test]
fn leaving_staging_shows_the_pending_exports_first() {
    let pending = PendingCount {
        adds: 3,
        updates: 2,
        deletes: 1,
    };
    let mut w = Wizard::over(&staging_on(TEMPLATE), lab(Some(pending)));
    w.task(3);
    assert!(w.state.staging.enabled);
    insta::assert_snapshot!("rerun_staging_on", w.screen());
    w.space();
    let screen = w.screen();
    assert!(
        screen.contains("Pending exports: 3 add, 2 update, 1 delete."),
        "{screen}"
    );
    assert!(
        screen.contains("STAGING MODE"),
        "the footer says so: {screen}"
    );
    insta::assert_snapshot!("rerun_staging_leaving", screen);
    w.enter().enter();
    assert_eq!(w.page(), PageId::Complete);
    assert!(w.written().contains("staging_mode = false"));
}

#[test]
fn customize_changes_ou_filtering_and_keeps_every_comment() {
    let mut w = Wizard::over(TEMPLATE, lab(None));
    w.task(1);
    assert_eq!(w.page(), PageId::CustomizeSyncOptions);
    w.enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    assert!(w.runner.effects.iter().any(|e| matches!(e,
        Effect::ListOus { parent, .. } if parent.to_string() == "DC=corp,DC=example,DC=com")));
    // Sync selected; clear Sales (row 3 under the root).
    w.down().space().down().down().space();
    w.enter();
    assert_eq!(w.page(), PageId::OptionalFeatures);
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let written = w.written();
    assert_eq!(comments(&written), comments(TEMPLATE), "every comment kept");
    let c = loaded(&written);
    let scope = &c.directories[0].scope;
    assert_eq!(scope.mode, ScopeMode::Selected);
    assert_eq!(scope.include.len(), 1);
    assert_eq!(scope.include[0].dn, dn("DC=corp,DC=example,DC=com"));
    assert_eq!(scope.exclude.len(), 1);
    assert_eq!(
        scope.exclude[0].dn,
        dn("OU=Sales,DC=corp,DC=example,DC=com")
    );
    assert_eq!(
        scope.exclude[0].guid,
        Some(guid(1)),
        "kept by objectGUID too"
    );
    // Nothing else moved.
    let mut expected = loaded(TEMPLATE);
    expected.directories[0].scope = scope.clone();
    assert_eq!(c, expected);

    // A second rerun starts from the saved selection.
    let mut again = Wizard::over(&written, lab(None));
    again.task(1).enter();
    assert_eq!(
        hybridsync::wizard::pages::ou_filtering::check(
            &again.state.ous,
            &dn("OU=Sales,DC=corp,DC=example,DC=com")
        ),
        hybridsync::wizard::ui::Check::Off
    );
    assert_eq!(
        build_config(&again.state),
        c,
        "pre-filled pages give back the same scope"
    );
}

#[test]
fn one_shot_choices_are_read_only_and_a_pilot_group_can_only_be_removed() {
    let text = TEMPLATE.replacen(
        "forest = \"corp.example.com\"\n",
        "forest = \"corp.example.com\"\npilot_group = { dn = \"CN=Sync Pilot,OU=Groups,DC=corp,DC=example,DC=com\" }\n",
        1,
    );
    let mut w = Wizard::over(&text, lab(None));
    w.task(1);
    let screen = w.screen();
    assert!(
        screen.contains("Source anchor: mS-DS-ConsistencyGuid"),
        "{screen}"
    );
    insta::assert_snapshot!("rerun_customize_pilot", screen);
    w.space().enter().enter().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    let c = loaded(&w.written());
    assert!(c.directories[0].pilot_group.is_none());
    assert_eq!(
        c.identity.source_anchor.as_str(),
        loaded(&text).identity.source_anchor.as_str()
    );
}

#[test]
fn change_user_sign_in_switches_method_and_drops_sso_where_impossible() {
    let mut w = Wizard::over(TEMPLATE, lab(None));
    w.task(4);
    assert_eq!(w.page(), PageId::ChangeUserSignIn);
    insta::assert_snapshot!("rerun_user_sign_in", w.screen());
    w.down().down().space(); // federation with AD FS
    insta::assert_snapshot!("rerun_user_sign_in_federation", w.screen());
    w.enter().enter();
    assert_eq!(w.page(), PageId::Complete);
    let c = loaded(&w.written());
    assert_eq!(c.sign_in.method, SignInMethod::FederationAdfs);
    assert!(!c.sign_in.single_sign_on);
}

#[test]
fn view_configuration_is_read_only_and_exports() {
    let mut w = Wizard::over(TEMPLATE, lab(None));
    w.task(0);
    assert_eq!(w.page(), PageId::ViewConfiguration);
    insta::assert_snapshot!("rerun_view_configuration", w.screen());
    w.ctrl('e');
    let Some(Effect::ExportConfiguration { path, config }) = w.runner.effects.last() else {
        panic!("{:?}", w.runner.effects);
    };
    assert_eq!(
        path,
        &PathBuf::from(STATE_DIR).join("exports/hybridsync-settings.json")
    );
    assert_eq!(**config, loaded(TEMPLATE));
    insta::assert_snapshot!("rerun_view_configuration_exported", w.screen());
    w.enter();
    assert_eq!(
        w.page(),
        PageId::AdditionalTasks,
        "Enter goes back to the tasks"
    );
    assert_eq!(w.written(), TEMPLATE, "viewing writes nothing");
}

#[test]
fn export_failure_is_shown_with_its_fix() {
    let mut w = Wizard::over(TEMPLATE, |e| match e {
        Effect::ExportConfiguration { .. } => vec![Reply::Exported(Err(Failure::new(
            "cannot write /var/lib/hybridsync/exports/hybridsync-settings.json: Permission denied",
            "check that the state directory is writable",
        )))],
        _ => vec![],
    });
    w.task(0).ctrl('e');
    insta::assert_snapshot!("rerun_view_configuration_export_failed", w.screen());
}

fn preflight(id: &str, status: CheckStatus, found: &str, fix: &str) -> PreflightCheck {
    PreflightCheck {
        id: id.into(),
        title: format!("{id} (dc1.corp.example.com)"),
        status,
        found: found.into(),
        fix: fix.into(),
    }
}

#[test]
fn refresh_schema_and_troubleshoot_show_the_preflight() {
    let result = PreflightResult {
        checks: vec![
            preflight("ad.bind", CheckStatus::Pass, "bound as MSOL_0123456789ab", ""),
            preflight(
                "ad.schema",
                CheckStatus::Fail,
                "no msExchMailboxGuid",
                "extend the schema for Exchange, or turn Exchange hybrid off",
            ),
            preflight("local.disk", CheckStatus::Pass, "40 GiB free", ""),
        ],
        objects: vec![ObjectNote {
            dn: "CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com".into(),
            text: "userPrincipalName: the suffix corp.local is not a verified domain (verify it or change the UPN)".into(),
            error: true,
        }],
    };
    let r = result.clone();
    let mut w = Wizard::over(TEMPLATE, move |e| match e {
        Effect::RunPreflight { .. } => vec![Reply::Preflight(Ok(r.clone()))],
        _ => vec![],
    });
    w.task(2);
    assert_eq!(w.page(), PageId::RefreshDirectorySchema);
    insta::assert_snapshot!("rerun_refresh_schema", w.screen());
    w.ctrl('b').task(5);
    assert_eq!(w.page(), PageId::Troubleshoot);
    w.enter();
    insta::assert_snapshot!("rerun_troubleshoot_required", w.screen());
    w.typ("not a dn").enter();
    insta::assert_snapshot!("rerun_troubleshoot_bad_dn", w.screen());
    for _ in 0.."not a dn".len() {
        w.key(KeyCode::Backspace);
    }
    w.typ("CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com")
        .enter();
    let screen = w.screen();
    assert!(screen.contains("corp.local is not a verified"), "{screen}");
    insta::assert_snapshot!("rerun_troubleshoot_result", screen);
    let runs = w
        .runner
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::RunPreflight { .. }))
        .count();
    assert_eq!(
        runs, 2,
        "schema once, troubleshoot once (not for the invalid DN)"
    );

    let mut failed = Wizard::over(TEMPLATE, |e| match e {
        Effect::RunPreflight { .. } => vec![Reply::Preflight(Err(Failure::new(
            "the preflight did not produce a report: no output",
            "run 'hybridsync preflight' in a shell to see the full report",
        )))],
        _ => vec![],
    });
    failed.task(2);
    insta::assert_snapshot!("rerun_refresh_schema_failed", failed.screen());
}

#[test]
fn snapshots_additional_tasks_and_ready() {
    let mut w = Wizard::over(&staging_on(TEMPLATE), lab(None));
    insta::assert_snapshot!("rerun_additional_tasks", w.screen());
    w.task(3);
    insta::assert_snapshot!("rerun_staging_no_database", w.screen());
    w.space().enter();
    insta::assert_snapshot!("rerun_ready", w.screen());
    let mut f = Wizard::over(TEMPLATE, |e| match e {
        Effect::CountPendingExports { .. } => vec![Reply::PendingExports(Err(Failure::new(
            "cannot read the pending exports: the database is newer than this hybridsync",
            "run 'hybridsync sync pending-exports' to see them, and check the state directory",
        )))],
        _ => vec![],
    });
    f.task(3);
    insta::assert_snapshot!("rerun_staging_count_failed", f.screen());
}

#[test]
fn prefilled_optional_features_still_validate_and_nothing_is_written() {
    let mut w = Wizard::over(TEMPLATE, lab(None));
    w.task(1).enter().enter();
    assert_eq!(w.page(), PageId::OptionalFeatures);
    // Directory extensions on without attributes: the picker refuses, as on a first run.
    let before = w.written();
    w.state.features.extensions = true;
    w.enter();
    assert_eq!(w.page(), PageId::DirectoryExtensions);
    w.enter();
    assert_eq!(w.page(), PageId::DirectoryExtensions);
    assert!(w.state.extensions.error.is_some());
    insta::assert_snapshot!("rerun_extensions_nothing_chosen", w.screen());
    assert_eq!(w.written(), before);
}

// ---------------------------------------------------------------- unattended

/// Run `answers` over a fresh copy of `text` with the lab; returns the state and the file.
fn unattended(
    text: &str,
    answers_toml: &str,
) -> (Result<(), AnswerError>, State, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), text);
    let cfg = hybridsync::config::load(&path).unwrap().config;
    let mut state = State::rerun(path.clone(), PathBuf::from(STATE_DIR), cfg);
    let a = answers::parse(answers_toml).unwrap();
    let mut script = lab(Some(PendingCount {
        adds: 1,
        updates: 0,
        deletes: 0,
    }));
    let mut exec = |e: Effect| script(&e);
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = lines.clone();
    let mut say = |l: &str| sink.borrow_mut().push(l.to_string());
    let r = answers::drive(&mut state, &a, &mut exec, &mut say);
    let written = std::fs::read_to_string(&path).unwrap();
    let lines = lines.borrow().clone();
    (r, state, written, lines)
}

#[test]
fn unattended_staging_gives_the_same_file_as_the_keys() {
    let mut w = Wizard::over(TEMPLATE, lab(Some(PendingCount::default())));
    w.task(3).space().enter().enter();
    assert_eq!(w.page(), PageId::Complete);
    let (r, state, written, lines) = unattended(
        TEMPLATE,
        "task = \"configure-staging-mode\"\n[staging]\nenabled = true\n",
    );
    r.unwrap();
    assert_eq!(state.page, PageId::Complete);
    assert_eq!(written, w.written(), "byte for byte");
    assert_eq!(build_config(&state), build_config(&w.state));
    assert!(
        lines.iter().any(|l| l == "Configure staging mode"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("Pending exports: 1 add")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Write the configuration file")),
        "{lines:?}"
    );
}

#[test]
fn unattended_ou_filtering_gives_the_same_file_as_the_keys() {
    let mut w = Wizard::over(TEMPLATE, lab(None));
    w.task(1).enter();
    // Selected; open Sales; clear EMEA.
    w.down()
        .space()
        .down()
        .down()
        .key(KeyCode::Right)
        .down()
        .space();
    w.enter().enter().enter();
    assert_eq!(w.page(), PageId::Complete);
    let (r, state, written, _) = unattended(
        TEMPLATE,
        r#"
task = "customize-sync-options"
[ou_filtering]
mode = "selected"
include = ["DC=corp,DC=example,DC=com"]
exclude = ["OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com"]
"#,
    );
    r.unwrap();
    assert_eq!(state.page, PageId::Complete);
    assert_eq!(written, w.written(), "byte for byte");
    let c = loaded(&written);
    assert_eq!(c.directories[0].scope.exclude[0].guid, Some(guid(4)));
}

#[test]
fn unattended_answers_without_ou_filtering_keep_the_saved_selection() {
    let (r, _, selected, _) = unattended(
        TEMPLATE,
        r#"
task = "customize-sync-options"
[ou_filtering]
include = ["OU=Staff,DC=corp,DC=example,DC=com"]
"#,
    );
    r.unwrap();
    let (r, _, written, _) = unattended(
        &selected,
        "task = \"customize-sync-options\"\n[features]\ndevice_writeback = true\n",
    );
    r.unwrap();
    let before = loaded(&selected);
    let after = loaded(&written);
    assert_eq!(before.directories[0].scope.mode, ScopeMode::Selected);
    assert_eq!(
        before.directories[0].scope.include[0].guid,
        Some(guid(2)),
        "found in the tree with its objectGUID"
    );
    assert_eq!(after.directories[0].scope, before.directories[0].scope);
    assert!(after.features.device_writeback.enabled);
    assert_eq!(comments(&written), comments(TEMPLATE));
}

#[test]
fn unattended_sign_in_and_pilot_removal_match_their_pages() {
    let (r, _, written, _) = unattended(
        TEMPLATE,
        "task = \"change-user-sign-in\"\n[user_sign_in]\nmethod = \"pass-through\"\nsingle_sign_on = true\n[ready]\nstart_sync = false\n",
    );
    r.unwrap();
    let c = loaded(&written);
    assert_eq!(c.sign_in.method, SignInMethod::PassThrough);
    assert!(c.sign_in.single_sign_on);
    assert!(!c.sync.scheduler_enabled);

    let with_pilot = TEMPLATE.replacen(
        "forest = \"corp.example.com\"\n",
        "forest = \"corp.example.com\"\npilot_group = { dn = \"CN=Sync Pilot,OU=Groups,DC=corp,DC=example,DC=com\" }\n",
        1,
    );
    let (r, _, kept, _) = unattended(&with_pilot, "task = \"customize-sync-options\"\n");
    r.unwrap();
    assert!(
        loaded(&kept).directories[0].pilot_group.is_some(),
        "kept unless asked"
    );
    let (r, _, removed, _) = unattended(
        &with_pilot,
        "task = \"customize-sync-options\"\n[filtering]\nremove_pilot_group = true\n",
    );
    r.unwrap();
    assert!(loaded(&removed).directories[0].pilot_group.is_none());
}

#[test]
fn unattended_errors_name_the_answer_key_and_write_nothing() {
    for (answers_toml, key, needle) in [
        ("[staging]\nenabled = true\n", "task", "missing"),
        (
            "task = \"view-configuration\"\n",
            "task",
            "is not a task the answers can run",
        ),
        (
            r#"task = "customize-sync-options"
[ou_filtering]
include = ["DC=corp,DC=example,DC=com", "OU=Staff,DC=corp,DC=example,DC=com", "OU=X"]
"#,
            "ou_filtering.include[2]",
            "\"OU=X\" is not a DN in corp.example.com",
        ),
        (
            r#"task = "customize-sync-options"
[ou_filtering]
exclude = ["OU=Nowhere,DC=corp,DC=example,DC=com"]
"#,
            "ou_filtering.exclude[0]",
            "no such container",
        ),
        (
            r#"task = "customize-sync-options"
[ou_filtering]
include = ["=broken"]
"#,
            "ou_filtering.include[0]",
            "is not a DN — write it like",
        ),
        (
            r#"task = "customize-sync-options"
[features]
directory_extensions = ["employeeID"]
"#,
            "features.directory_extensions[0]",
            "is not a candidate in corp.example.com",
        ),
        (
            "task = \"change-user-sign-in\"\n[user_sign_in]\nmethod = \"do-not-configure\"\n",
            "user_sign_in.method",
            "Not available on a rerun",
        ),
    ] {
        let (r, _, written, _) = unattended(TEMPLATE, answers_toml);
        let e = r.expect_err(answers_toml);
        assert_eq!(e.key, key, "{e}");
        assert!(
            e.to_string().starts_with(&format!("answers.{key}: ")),
            "{e}"
        );
        assert!(e.message.contains(needle), "{e}");
        assert_eq!(written, TEMPLATE, "nothing written for {answers_toml}");
    }
    // Unknown keys are refused by the parser, naming the key.
    let e = answers::parse("[staging]\nenable = true\n").unwrap_err();
    assert!(e.contains("enable"), "{e}");
}

#[test]
fn answer_templates_parse_and_document_every_section() {
    for (name, text) in [
        (
            "answers-express.toml",
            include_str!("../templates/answers-express.toml"),
        ),
        (
            "answers-custom.toml",
            include_str!("../templates/answers-custom.toml"),
        ),
    ] {
        let a = answers::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(a.install.accept_license, "{name}");
        assert!(a.task.is_none(), "{name} is for a first installation");
        assert!(
            a.directory.password_env.is_some(),
            "{name}: the password comes from the environment"
        );
        assert!(
            text.lines().filter(|l| l.starts_with('#')).count() > 10,
            "{name} explains itself"
        );
    }
    let custom = answers::parse(include_str!("../templates/answers-custom.toml")).unwrap();
    assert_eq!(custom.install.mode.as_deref(), Some("custom"));
    assert!(!custom.ou_filtering.include.is_empty());
}

// ---------------------------------------------------------------- the real binary

fn hybridsync_wizard(dir: &Path, answers: &str) -> std::process::Output {
    let file = dir.join("answers.toml");
    std::fs::write(&file, answers).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_hybridsync"))
        .arg("--config")
        .arg(dir.join("hybridsync.toml"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["wizard", "--answers"])
        .arg(&file)
        .env("HOME", dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_binary_runs_answers_unattended_with_progress_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), TEMPLATE);
    let out = hybridsync_wizard(
        dir.path(),
        "task = \"configure-staging-mode\"\n[staging]\nenabled = true\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for line in [
        "Additional tasks",
        "Configure staging mode",
        "  … count the pending exports",
        "Ready to configure",
        "  … Write the configuration file",
        "Configuration complete",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line}: {stdout}");
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        staging_on(TEMPLATE)
    );
    assert!(
        !hybridsync::service::SuspendLock::is_held(&dir.path().join("state")).unwrap(),
        "released at exit"
    );

    // A refused answer names its key, exits 1 and writes nothing.
    let before = std::fs::read_to_string(&path).unwrap();
    let out = hybridsync_wizard(
        dir.path(),
        "task = \"customize-sync-options\"\n[ou_filtering]\ninclude = [\"OU=X\"]\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("answers.ou_filtering.include[0]: \"OU=X\" is not a DN in corp.example.com"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[test]
fn a_second_wizard_is_refused_while_one_holds_the_suspend_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), TEMPLATE);
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let held = hybridsync::service::SuspendLock::acquire(&state, "wizard")
        .unwrap()
        .unwrap();
    let out = hybridsync_wizard(
        dir.path(),
        "task = \"configure-staging-mode\"\n[staging]\nenabled = true\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("another wizard is open"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), TEMPLATE);
    drop(held);
}

#[test]
fn view_configuration_shows_each_directory_and_every_feature_with_its_forest() {
    // Two forests (corp with selected OUs and a pilot group), group writeback into corp, device
    // writeback into fabrikam, app and attribute filtering, objectGUID as the source anchor.
    let text = format!(
        "{}\n[features.device_writeback]\nenabled = true\nforest = \"fabrikam.example\"\n",
        include_str!("config/valid/two_forests_selected_ous.toml")
    );
    let mut w = Wizard::over(&text, lab(None));
    w.task(0);
    assert_eq!(w.page(), PageId::ViewConfiguration);
    let c = w.state.loaded().unwrap().clone();
    let lines: Vec<String> = hybridsync::wizard::pages::view_configuration::summary(&c)
        .into_iter()
        .map(|(k, v)| format!("{} = {v}", k.trim()))
        .collect();
    let has = |want: &str| {
        assert!(
            lines.iter().any(|l| l == want),
            "{want} not in:\n{}",
            lines.join("\n")
        )
    };
    for want in [
        "Directory corp.example.com = ",
        "Domain and OU filtering = selected domains and OUs",
        "included = OU=Staff,DC=corp,DC=example,DC=com",
        "excluded = OU=Service Accounts,OU=Staff,DC=corp,DC=example,DC=com",
        "Pilot group = CN=Sync Pilot,OU=Groups,DC=corp,DC=example,DC=com",
        "Directory fabrikam.example = ",
        "Domain and OU filtering = all domains and OUs",
        "Pilot group = none",
        "Source anchor = objectGUID",
        "Group writeback = on",
        "forest = corp.example.com",
        "target OU = OU=Cloud Groups,DC=corp,DC=example,DC=com",
        "Device writeback = on",
        "forest = fabrikam.example",
        "App/attribute filtering = on",
        "apps = exchange-online, sharepoint-online",
        "excluded attributes = user.facsimileTelephoneNumber",
    ] {
        has(want);
    }
    // The writeback forests in order: group writeback's, then device writeback's.
    let forests: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("forest = "))
        .collect();
    assert_eq!(
        forests,
        vec!["forest = corp.example.com", "forest = fabrikam.example"]
    );
    insta::assert_snapshot!("rerun_view_configuration_two_forests", w.screen());
    // Scrolled down to the features.
    let features = lines
        .iter()
        .position(|l| l.starts_with("App/attribute filtering"))
        .unwrap();
    for _ in 0..features {
        w.down();
    }
    insta::assert_snapshot!("rerun_view_configuration_features", w.screen());
    // Unset writeback forests are the first directory's, and say so.
    let mut d = c.clone();
    d.features.group_writeback.forest = None;
    let lines: Vec<String> = hybridsync::wizard::pages::view_configuration::summary(&d)
        .into_iter()
        .map(|(k, v)| format!("{} = {v}", k.trim()))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l == "forest = corp.example.com (the first directory)"),
        "{lines:?}"
    );
}
