//! The Custom path's "Install required components" page and several forests, without a
//! terminal: key flows against a fake effects runner with two forests (each with its own OU
//! selection, asserting the two `[[directories]]` written), the import of a settings export
//! (pre-filled pages, staging on, credentials asked again), the unattended answers giving the
//! same configuration as the keys, the rerun's "Add a directory", and 80x24 snapshots of the new
//! pages and their error states.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/wizard_driver.rs"]
mod wizard_driver;

use std::path::PathBuf;
use wizard_driver::{Keys, dn, guid, pump, render, tenant};

use hybridsync::config::Config;
use hybridsync::config::model::ScopeMode;
use hybridsync::credentials::SecretRef;
use hybridsync::effects::{
    CheckResult, CheckStatus, ConfigureStep, Effect, Failure, FakeRunner, ForestDomain, ForestInfo,
    GroupEntry, OuEntry, Reply, StepOutput,
};
use hybridsync::wizard::app::{Message, PageId, State, build_config};
use ratatui::crossterm::event::KeyCode;

const CONFIG: &str = "/etc/hybridsync/hybridsync.toml";
const STATE_DIR: &str = "/var/lib/hybridsync";
/// A state directory that can be created (its parent exists); nothing creates it in the tests.
const CUSTOM_STATE: &str = "/tmp/hybridsync-wizard-test-state";
const CLIENT_ID: &str = "3f1b2a4c-5d6e-4f70-8192-a3b4c5d6e7f8";

/// The two forests of the lab: corp.example.com and fabrikam.example.com (whose UPN suffix
/// fabrikam.com is not a domain of the tenant).
fn forest_info(name: &str) -> Option<ForestInfo> {
    let (nc, suffix) = match name {
        "corp.example.com" => ("DC=corp,DC=example,DC=com", "corp.example.com"),
        "fabrikam.example.com" => ("DC=fabrikam,DC=example,DC=com", "fabrikam.com"),
        _ => return None,
    };
    Some(ForestInfo {
        forest: name.into(),
        domains: vec![ForestDomain {
            name: name.into(),
            naming_context: dn(nc),
        }],
        upn_suffixes: vec![suffix.into()],
        exchange_schema: false,
    })
}

fn ou(s: &str, n: u8) -> OuEntry {
    OuEntry {
        dn: dn(s),
        guid: Some(guid(n)),
        has_children: false,
    }
}

fn lab(e: &Effect) -> Vec<Reply> {
    match e {
        Effect::CheckPrerequisites { .. } => vec![Reply::Prerequisites(vec![CheckResult {
            name: "State directory is writable".into(),
            status: CheckStatus::Pass,
            detail: STATE_DIR.into(),
            fix: String::new(),
        }])],
        Effect::SignInDeviceCode => vec![
            Reply::DeviceCode {
                verification_uri: "https://microsoft.com/devicelogin".into(),
                user_code: "FQK7-ZP2M".into(),
            },
            Reply::SignedIn(tenant()),
        ],
        Effect::RefreshTenantDomains => vec![Reply::TenantDomains(Ok(tenant().domains))],
        Effect::TestAdBind { forest, .. } => vec![Reply::Forest(forest_info(forest).ok_or_else(
            || Failure::new(format!("cannot resolve {forest}"), "check the forest name"),
        ))],
        Effect::ListOus { parent, .. } => {
            let children = match parent.to_string().as_str() {
                "DC=corp,DC=example,DC=com" => vec![
                    ou("OU=Sales,DC=corp,DC=example,DC=com", 1),
                    ou("OU=Staff,DC=corp,DC=example,DC=com", 2),
                ],
                "DC=fabrikam,DC=example,DC=com" => vec![
                    ou("OU=Research,DC=fabrikam,DC=example,DC=com", 11),
                    ou("OU=Labs,DC=fabrikam,DC=example,DC=com", 12),
                ],
                _ => vec![],
            };
            vec![Reply::Ous {
                parent: parent.clone(),
                children: Ok(children),
            }]
        }
        Effect::Configure(step) => vec![Reply::Step(Ok(match step {
            ConfigureStep::CreateConnectorAccount {
                secret_name,
                forest,
                ..
            } => StepOutput::ConnectorAccount {
                username: format!("MSOL_0123456789ab@{forest}"),
                secret_ref: SecretRef::Store(secret_name.clone()),
            },
            ConfigureStep::StoreSecret { .. } | ConfigureStep::UseStateDir { .. } => {
                StepOutput::Done
            }
            ConfigureStep::RegisterApplication => StepOutput::Application {
                client_id: CLIENT_ID.into(),
                certificate_ref: SecretRef::Store("entra-app-certificate".into()),
            },
            ConfigureStep::WriteConfig { path, .. } => StepOutput::Written(path.clone()),
            ConfigureStep::StartFirstCycle => StepOutput::Cycle("First cycle: done".into()),
            ConfigureStep::PrepareDeviceWriteback { .. } => StepOutput::Done,
            ConfigureStep::StampConsistencyGuids { .. } => StepOutput::Stamped(0),
        }))],
        Effect::CheckInstallOptions {
            state_dir,
            service_user,
            import,
        } => vec![Reply::InstallOptions {
            // The directory check is the real one.
            state_dir: state_dir
                .as_ref()
                .map(|d| hybridsync::effects::check_state_dir(d)),
            // The user database of the lab: svc-sync exists, root is refused, others are missing.
            service_user: service_user.as_ref().map(|u| {
                hybridsync::effects::find_user(
                    "root:x:0:0:root:/root:/bin/bash\nsvc-sync:x:998:998::/var/lib/svc-sync:/usr/sbin/nologin\n",
                    u,
                )
            }),
            // The file really is read and parsed, as the real runner does.
            import: import.as_ref().map(|p| {
                std::fs::read_to_string(p)
                    .map_err(|e| {
                        Failure::new(format!("cannot read {}: {e}", p.display()), "give a file")
                    })
                    .and_then(|json| hybridsync::effects::parse_export(p, &json))
                    .map(Box::new)
            }),
        }],
        // The lab's existing accounts: corp's holds its rights; fabrikam's is a Domain Admin
        // and lacks Replicating Directory Changes All.
        Effect::CheckAccountRights { forest, .. } => {
            let fabrikam = forest == "fabrikam.example.com";
            vec![Reply::AccountRights {
                forest: forest.clone(),
                result: Ok(hybridsync::effects::AccountRights {
                    privileged: if fabrikam {
                        vec!["Domain Admins".into()]
                    } else {
                        Vec::new()
                    },
                    lines: vec![hybridsync::effects::RightLine {
                        feature: "password hash sync".into(),
                        right: "Replicating Directory Changes All".into(),
                        status: if fabrikam { "missing control access" } else { "granted" }.into(),
                        fix: "dsacls \"DC=fabrikam,DC=example,DC=com\" /G \"FABRIKAM\\admin:CA;Replicating Directory Changes All\"".into(),
                    }],
                }),
            }]
        }
        // Each forest has its own "Pilot" group.
        Effect::FindGroups { forest, query } => vec![Reply::Groups(Ok(
            match forest.as_str() {
                "corp.example.com" => vec![GroupEntry {
                    dn: dn(&format!("CN={query} Users,OU=Staff,DC=corp,DC=example,DC=com")),
                    guid: Some(guid(21)),
                    members: 4,
                }],
                "fabrikam.example.com" => vec![GroupEntry {
                    dn: dn(&format!("CN={query} Users,OU=Labs,DC=fabrikam,DC=example,DC=com")),
                    guid: Some(guid(22)),
                    members: 3,
                }],
                _ => Vec::new(),
            },
        ))],
        // Each forest's schema: employeeID in both, department in corp only, info in fabrikam
        // only.
        Effect::ListExtensionAttributes { forest } => {
            let cand = |class, name: &str| hybridsync::effects::ExtensionCandidate {
                class,
                name: hybridsync::domain::AttributeName::new(name).unwrap(),
                kind: "str",
            };
            use hybridsync::effects::ExtensionClass::{Group, User};
            let list = match forest.as_str() {
                "corp.example.com" => vec![cand(User, "department"), cand(User, "employeeID")],
                "fabrikam.example.com" => vec![cand(User, "employeeID"), cand(Group, "info")],
                _ => Vec::new(),
            };
            vec![Reply::ExtensionAttributes {
                forest: forest.clone(),
                result: Ok(list),
            }]
        }
        other => vec![Reply::NotConnected(other.clone())],
    }
}

/// The lab with the Exchange attributes in the schema of `exchange`'s forests only.
fn exchange_lab(exchange: &'static [&'static str]) -> impl FnMut(&Effect) -> Vec<Reply> + 'static {
    move |e| {
        let mut replies = lab(e);
        for r in &mut replies {
            if let Reply::Forest(Ok(info)) = r {
                info.exchange_schema = exchange.contains(&info.forest.as_str());
            }
        }
        replies
    }
}

struct Wizard {
    state: State,
    runner: FakeRunner,
}

impl Keys for Wizard {
    fn send(&mut self, msg: Message) {
        pump(&mut self.state, &mut self.runner, msg);
    }
}

impl Wizard {
    fn new() -> Self {
        Self::with(lab)
    }

    fn with(script: impl FnMut(&Effect) -> Vec<Reply> + 'static) -> Self {
        Self {
            state: State::new(PathBuf::from(CONFIG), PathBuf::from(STATE_DIR)),
            runner: FakeRunner::new(script),
        }
    }

    fn page(&self) -> PageId {
        self.state.page
    }

    fn screen(&self) -> String {
        render(&self.state)
    }

    /// Welcome → Prerequisites → Customize → Install required components.
    fn reach_install(&mut self) -> &mut Self {
        self.space().enter();
        assert_eq!(self.page(), PageId::Prerequisites);
        self.enter();
        assert_eq!(self.page(), PageId::ExpressSettings);
        self.down().enter();
        assert_eq!(self.page(), PageId::InstallComponents);
        self
    }

    /// Install (as it is) → User sign-in → Connect to Entra ID → Connect your directories.
    fn reach_directories(&mut self) -> &mut Self {
        self.enter();
        assert_eq!(self.page(), PageId::UserSignIn);
        self.enter();
        assert_eq!(self.page(), PageId::ConnectToEntra);
        self.enter();
        assert_eq!(self.page(), PageId::ConnectDirectories);
        self
    }

    /// Fill the form from the forest field on: forest, (DCs, TLS kept), account, user, password.
    fn fill_forest(&mut self, forest: &str, existing: bool, user: &str, pw: &str) -> &mut Self {
        self.typ(forest).tab().tab().tab();
        if existing {
            self.space();
        }
        self.tab().typ(user).tab().typ(pw)
    }
}

fn configure_steps(effects: &[Effect]) -> Vec<&ConfigureStep> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Configure(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn written(effects: &[Effect]) -> Config {
    configure_steps(effects)
        .into_iter()
        .find_map(|s| match s {
            ConfigureStep::WriteConfig { config, .. } => Some(config.as_ref().clone()),
            _ => None,
        })
        .expect("the configuration was written")
}

fn dns(v: &[hybridsync::config::model::ObjectRef]) -> Vec<String> {
    v.iter().map(|o| o.dn.to_string()).collect()
}

/// The Custom path with two forests by keys: corp.example.com with an existing account and
/// Sales cleared, fabrikam.example.com with a created account and Research cleared.
fn two_forest_flow() -> Wizard {
    let mut w = Wizard::new();
    w.reach_install().reach_directories();
    w.fill_forest(
        "corp.example.com",
        true,
        "svc-sync@corp.example.com",
        "s3cret-Corp",
    )
    .ctrl('n');
    // Bound and listed; the page stays for another forest with an empty form.
    assert_eq!(w.page(), PageId::ConnectDirectories);
    assert_eq!(w.state.directories.added.len(), 1);
    assert!(w.state.directories.forest.is_empty());
    // The same forest twice is refused.
    w.fill_forest("CORP.example.com", false, "CORP\\administrator", "P@ss")
        .enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    assert_eq!(w.state.directories.added.len(), 1);
    insta::assert_snapshot!("connect_directories_already_added", w.screen());
    // Another forest added with these credentials, then removed again (Del on its row).
    for _ in 0.."CORP.example.com".len() {
        w.key(KeyCode::Backspace);
    }
    w.typ("fabrikam.example.com").ctrl('n');
    assert_eq!(
        w.state.directories.added.len(),
        2,
        "{:?}",
        w.state.directories.errors
    );
    insta::assert_snapshot!("connect_directories_two_forests", w.screen());
    w.up(); // focus: the second listed directory
    w.key(KeyCode::Delete);
    assert_eq!(w.state.directories.added.len(), 1);
    assert_eq!(w.state.directories.added[0].info.forest, "corp.example.com");
    // Now fabrikam for real: a new connector account, then Enter goes on.
    w.fill_forest(
        "fabrikam.example.com",
        false,
        "FABRIKAM\\administrator",
        "P@ssw0rd!",
    )
    .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    // The suffixes of both forests: fabrikam.com is not a tenant domain.
    let rows = hybridsync::wizard::pages::upn_suffixes::rows(&w.state);
    assert_eq!(
        rows.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        vec!["corp.example.com", "fabrikam.com"]
    );
    w.tab().space().enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    // Row 0 picks the forest; corp first: selected, Sales cleared.
    w.down().down().space(); // "Sync selected"
    w.down().down().space(); // root, Sales cleared
    insta::assert_snapshot!("ou_filtering_two_forests", w.screen());
    w.up().up().up().up().space(); // Forest row: fabrikam
    assert_eq!(w.state.ous.forest, "fabrikam.example.com");
    assert!(
        w.runner.effects.iter().any(|e| matches!(e,
            Effect::ListOus { parent, .. } if parent.to_string() == "DC=fabrikam,DC=example,DC=com")),
        "fabrikam's tree is read when it is first shown"
    );
    w.down().down().space(); // "Sync selected"
    w.down().down().space(); // Research cleared
    w.enter();
    assert_eq!(w.page(), PageId::IdentifyingUsers);
    w.enter().enter().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    w
}

#[test]
fn two_forests_by_keys_write_two_directories_each_with_its_own_scope() {
    let w = two_forest_flow();
    let steps = configure_steps(&w.runner.effects);
    match steps[0] {
        ConfigureStep::StoreSecret { name, secret } => {
            assert_eq!(name, "ad-corp.example.com");
            assert_eq!(secret.expose(), "s3cret-Corp");
        }
        other => panic!("{other:?}"),
    }
    match steps[1] {
        ConfigureStep::CreateConnectorAccount {
            forest,
            admin_username,
            secret_name,
            ..
        } => {
            assert_eq!(forest, "fabrikam.example.com");
            assert_eq!(admin_username, "FABRIKAM\\administrator");
            assert_eq!(secret_name, "ad-fabrikam.example.com");
        }
        other => panic!("{other:?}"),
    }
    let c = written(&w.runner.effects);
    assert_eq!(c.directories.len(), 2);
    let (corp, fab) = (&c.directories[0], &c.directories[1]);
    assert_eq!(corp.forest, "corp.example.com");
    assert_eq!(corp.account.username, "svc-sync@corp.example.com");
    assert!(!corp.account.managed);
    assert_eq!(corp.scope.mode, ScopeMode::Selected);
    assert_eq!(dns(&corp.scope.include), vec!["DC=corp,DC=example,DC=com"]);
    assert_eq!(
        dns(&corp.scope.exclude),
        vec!["OU=Sales,DC=corp,DC=example,DC=com"]
    );
    assert_eq!(fab.forest, "fabrikam.example.com");
    assert_eq!(
        fab.account.username,
        "MSOL_0123456789ab@fabrikam.example.com"
    );
    assert!(fab.account.managed);
    assert_eq!(
        fab.account.secret_ref,
        SecretRef::Store("ad-fabrikam.example.com".into())
    );
    assert_eq!(fab.scope.mode, ScopeMode::Selected);
    assert_eq!(
        dns(&fab.scope.include),
        vec!["DC=fabrikam,DC=example,DC=com"]
    );
    assert_eq!(
        dns(&fab.scope.exclude),
        vec!["OU=Research,DC=fabrikam,DC=example,DC=com"]
    );
    assert_eq!(fab.scope.exclude[0].guid, Some(guid(11)));
    let text = hybridsync::config::save::render_new(&c).unwrap();
    assert!(!text.contains("s3cret") && !text.contains("P@ssw0rd"));
    hybridsync::config::parse(&text).unwrap();
    assert_eq!(c, build_config(&w.state));
}

const TWO_FOREST_ANSWERS: &str = r#"
[install]
accept_license = true
mode = "custom"

[directory]
forest = "corp.example.com"
account = "existing"
username = "svc-sync@corp.example.com"
password_file = "CORP_PW"

[[directories]]
forest = "fabrikam.example.com"
account = "create"
username = "FABRIKAM\\administrator"
password_file = "FAB_PW"
ou_filtering = { mode = "selected", include = ["DC=fabrikam,DC=example,DC=com"], exclude = ["OU=Research,DC=fabrikam,DC=example,DC=com"] }

[upn]
continue_without_verified_domains = true

[ou_filtering]
mode = "selected"
include = ["DC=corp,DC=example,DC=com"]
exclude = ["OU=Sales,DC=corp,DC=example,DC=com"]
"#;

fn answers_with_passwords(dir: &std::path::Path, text: &str) -> String {
    let corp = dir.join("corp");
    let fab = dir.join("fab");
    std::fs::write(&corp, "s3cret-Corp\n").unwrap();
    std::fs::write(&fab, "P@ssw0rd!\n").unwrap();
    text.replace("CORP_PW", &corp.display().to_string())
        .replace("FAB_PW", &fab.display().to_string())
}

type Driven = (
    State,
    Vec<Effect>,
    Result<(), hybridsync::wizard::answers::AnswerError>,
);

fn drive(text: &str) -> Driven {
    drive_with(text, lab)
}

fn drive_with(text: &str, mut script: impl FnMut(&Effect) -> Vec<Reply>) -> Driven {
    let answers = hybridsync::wizard::answers::parse(text).unwrap();
    let mut state = State::new(PathBuf::from(CONFIG), PathBuf::from(STATE_DIR));
    let mut effects = Vec::new();
    let mut exec = |e: Effect| {
        let r = script(&e);
        effects.push(e);
        r
    };
    let r = hybridsync::wizard::answers::drive(&mut state, &answers, &mut exec, &mut |_: &str| {});
    (state, effects, r)
}

#[test]
fn two_forest_answers_give_the_same_config_as_the_keys() {
    let keys = two_forest_flow();
    let dir = tempfile::tempdir().unwrap();
    let (state, effects, r) = drive(&answers_with_passwords(dir.path(), TWO_FOREST_ANSWERS));
    r.unwrap();
    assert_eq!(state.page, PageId::Complete);
    assert_eq!(build_config(&state), build_config(&keys.state));
    assert_eq!(
        configure_steps(&effects),
        configure_steps(&keys.runner.effects)
    );
}

#[test]
fn answer_errors_name_the_key_of_the_forest_and_the_install_option() {
    let dir = tempfile::tempdir().unwrap();
    let base = answers_with_passwords(dir.path(), TWO_FOREST_ANSWERS);
    for (from, to, key) in [
        (
            "forest = \"fabrikam.example.com\"",
            "forest = \"corp.example.com\"",
            "directories[0].forest",
        ),
        (
            "forest = \"fabrikam.example.com\"",
            "forest = \"nowhere.example.com\"",
            "directories[0]",
        ),
        (
            "exclude = [\"OU=Research,DC=fabrikam,DC=example,DC=com\"]",
            "exclude = [\"OU=Nope,DC=fabrikam,DC=example,DC=com\"]",
            "directories[0].ou_filtering.exclude[0]",
        ),
        (
            "mode = \"custom\"",
            "mode = \"custom\"\nstore = \"postgres\"",
            "install.store",
        ),
        (
            "mode = \"custom\"",
            "mode = \"custom\"\nservice_user = \"nobody-here\"",
            "install.service_user",
        ),
        (
            "mode = \"custom\"",
            "mode = \"custom\"\nstate_dir = \"/etc/hostname/state\"",
            "install.state_dir",
        ),
        (
            "mode = \"custom\"",
            "mode = \"custom\"\nstate_dir = \"relative/state\"",
            "install.state_dir",
        ),
        (
            "mode = \"custom\"",
            "mode = \"custom\"\nimport_settings = \"/nonexistent/settings.json\"",
            "install.import_settings",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let (_, effects, r) = drive(&base.replacen(from, to, 1));
        let e = r.expect_err(to);
        assert_eq!(e.key, key, "{e}");
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Configure(ConfigureStep::WriteConfig { .. }))),
            "{to}: nothing is written"
        );
    }
    // The options that are fine land in the configuration.
    let custom = dir.path().join("custom-state");
    let (state, effects, r) = drive(&base.replacen(
        "mode = \"custom\"",
        &format!(
            "mode = \"custom\"\nservice_user = \"svc-sync\"\nstate_dir = \"{}\"",
            custom.display()
        ),
        1,
    ));
    r.unwrap();
    let c = build_config(&state);
    assert_eq!(c.install.service_user, "svc-sync");
    assert_eq!(c.install.state_dir, Some(custom.clone()));
    // The directory is prepared before any secret is stored.
    assert_eq!(
        *configure_steps(&effects)[0],
        ConfigureStep::UseStateDir { path: custom }
    );
}

#[test]
fn install_options_by_keys_check_each_choice_and_land_in_the_config() {
    let mut w = Wizard::new();
    w.reach_install();
    insta::assert_snapshot!("install_components", w.screen());
    // The database: not selectable, and it says why.
    w.down().space();
    assert!(!w.state.install.errors.is_empty());
    insta::assert_snapshot!("install_components_database", w.screen());
    // A custom state directory elsewhere, a relative one, a missing user: each refused.
    w.up().space(); // custom state directory: pre-filled with the wizard's own
    assert_eq!(w.state.install.state_dir.text(), STATE_DIR);
    w.down();
    for _ in 0..STATE_DIR.len() {
        w.key(KeyCode::Backspace);
    }
    w.typ("srv/hybridsync");
    w.down().down().space().down().typ("nobody-here"); // service account
    w.enter();
    assert_eq!(w.page(), PageId::InstallComponents);
    insta::assert_snapshot!("install_components_invalid", w.screen());
    // A path that cannot be created and a missing user: both found by the check.
    for _ in 0.."srv/hybridsync".len() {
        w.key(KeyCode::Backspace);
    }
    w.typ("/etc/hostname/state").enter();
    assert_eq!(w.page(), PageId::InstallComponents);
    insta::assert_snapshot!("install_components_checks_failed", w.screen());
    let errors: Vec<&str> = w
        .state
        .install
        .errors
        .iter()
        .map(|(_, m)| m.as_str())
        .collect();
    assert!(
        errors[0].contains("/etc/hostname is not a directory"),
        "{errors:?}"
    );
    assert!(errors[1].contains("nobody-here"), "{errors:?}");
    // Fixed: a directory that can be created and a user that exists.
    for _ in 0.."/etc/hostname/state".len() {
        w.key(KeyCode::Backspace);
    }
    w.typ(CUSTOM_STATE).down().down().down();
    for _ in 0.."nobody-here".len() {
        w.key(KeyCode::Backspace);
    }
    w.typ("svc-sync").enter();
    assert_eq!(w.page(), PageId::UserSignIn);
    let c = build_config(&w.state);
    assert_eq!(c.install.service_user, "svc-sync");
    assert_eq!(c.install.state_dir, Some(PathBuf::from(CUSTOM_STATE)));
    // Back keeps the choices and the user found.
    w.ctrl('b');
    assert_eq!(w.page(), PageId::InstallComponents);
    assert_eq!(w.state.install.user.text(), "svc-sync");
}

#[test]
fn importing_settings_prefills_every_page_turns_staging_on_and_asks_credentials_again() {
    // The settings of the two-forest server, exported as "View or export" does.
    let source = written(&two_forest_flow().runner.effects);
    assert!(!source.sync.staging_mode);
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("settings.json");
    let bundle = hybridsync::config::export::export(&source, std::time::SystemTime::now(), "old");
    std::fs::write(&export, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{ \"hybridsync_settings\": 1 }").unwrap();

    let mut w = Wizard::new();
    w.reach_install();
    w.down().down().down().space(); // Import synchronization settings
    w.down().typ(&broken.display().to_string()).enter();
    assert_eq!(w.page(), PageId::InstallComponents);
    let (_, m) = &w.state.install.errors[0];
    assert!(m.contains(&broken.display().to_string()), "{m}");
    assert!(m.contains("export"), "{m}");
    for _ in 0..broken.display().to_string().len() {
        w.key(KeyCode::Backspace);
    }
    w.typ(&export.display().to_string()).enter();
    assert_eq!(w.page(), PageId::UserSignIn);
    // Pre-filled: staging on, both forests pending with their settings but no password.
    assert!(w.state.ready.staging);
    assert_eq!(w.state.directories.pending.len(), 2);
    assert_eq!(w.state.directories.forest.text(), "corp.example.com");
    assert_eq!(w.state.directories.user.text(), "svc-sync@corp.example.com");
    assert!(w.state.directories.password.is_empty());
    w.enter().enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    insta::assert_snapshot!("connect_directories_imported", w.screen());
    // Enter without the password is refused; with it, corp binds and fabrikam is next.
    w.enter();
    assert_eq!(w.state.directories.added.len(), 0);
    w.typ("s3cret-Corp").enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    assert_eq!(w.state.directories.added.len(), 1);
    assert_eq!(w.state.directories.forest.text(), "fabrikam.example.com");
    w.tab()
        .tab()
        .tab()
        .tab()
        .typ("FABRIKAM\\administrator")
        .tab()
        .typ("P@ssw0rd!");
    w.enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    w.tab().space().enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    // Each forest's tree starts from its imported selection.
    w.enter().enter().enter().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let c = written(&w.runner.effects);
    assert!(c.sync.staging_mode, "staging is on after an import");
    assert_eq!(c.directories.len(), 2);
    for (new, old) in c.directories.iter().zip(&source.directories) {
        assert_eq!(new.forest, old.forest);
        assert_eq!(new.scope, old.scope, "{}", new.forest);
        assert_eq!(new.account.managed, old.account.managed);
    }
}

/// A rerun over a server configured with corp.example.com only (Sales cleared).
fn corp_only_rerun(dir: &std::path::Path) -> (State, Config) {
    let mut source = written(&two_forest_flow().runner.effects);
    source.directories.truncate(1);
    let path = dir.join("hybridsync.toml");
    std::fs::write(
        &path,
        hybridsync::config::save::render_new(&source).unwrap(),
    )
    .unwrap();
    let loaded = hybridsync::config::load(&path).unwrap().config;
    (
        State::rerun(path, PathBuf::from(STATE_DIR), loaded.clone()),
        loaded,
    )
}

#[test]
fn rerun_customize_adds_a_directory_and_keeps_each_forest_scope() {
    let dir = tempfile::tempdir().unwrap();
    let (state, loaded) = corp_only_rerun(dir.path());
    let mut w = Wizard {
        state,
        runner: FakeRunner::new(lab),
    };
    w.send(Message::Tick);
    assert_eq!(w.page(), PageId::AdditionalTasks);
    w.down().enter();
    assert_eq!(w.page(), PageId::CustomizeSyncOptions);
    w.space(); // Add a directory
    assert!(w.state.customize.add_directory);
    w.enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    // The configured forest is listed and stays; the form is empty for the new one.
    assert_eq!(w.state.directories.added.len(), 1);
    assert!(w.state.directories.forest.is_empty());
    w.up().key(KeyCode::Delete);
    assert_eq!(
        w.state.directories.added.len(),
        1,
        "a configured forest stays"
    );
    w.down();
    w.fill_forest(
        "fabrikam.example.com",
        false,
        "FABRIKAM\\administrator",
        "P@ssw0rd!",
    )
    .enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    // corp's tree comes from its configured scope; fabrikam's is read from the bind.
    assert_eq!(w.state.ous.forest, "corp.example.com");
    w.space(); // Forest row: fabrikam
    assert_eq!(w.state.ous.forest, "fabrikam.example.com");
    w.down().down().space().down().down().space(); // selected, Research cleared
    w.enter();
    assert_eq!(w.page(), PageId::OptionalFeatures);
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let steps = configure_steps(&w.runner.effects);
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(matches!(steps[0],
        ConfigureStep::CreateConnectorAccount { forest, .. } if forest == "fabrikam.example.com"));
    let c = written(&w.runner.effects);
    assert_eq!(c.directories.len(), 2);
    assert_eq!(
        c.directories[0], loaded.directories[0],
        "corp is kept as it was"
    );
    let fab = &c.directories[1];
    assert_eq!(fab.forest, "fabrikam.example.com");
    assert!(fab.account.managed);
    assert_eq!(
        fab.account.username,
        "MSOL_0123456789ab@fabrikam.example.com"
    );
    assert_eq!(
        dns(&fab.scope.exclude),
        vec!["OU=Research,DC=fabrikam,DC=example,DC=com"]
    );
    // The one-shot choices did not move.
    assert_eq!(c.identity, loaded.identity);
    assert_eq!(c.sign_in.upn_attribute, loaded.sign_in.upn_attribute);
}

#[test]
fn express_keeps_one_forest_and_refuses_custom_only_answers() {
    // Two forests on the Custom path, then back to Express: one forest, as Express means.
    let mut w = Wizard::new();
    w.reach_install().reach_directories();
    w.fill_forest("corp.example.com", false, "CORP\\administrator", "P@ss")
        .ctrl('n');
    w.fill_forest(
        "fabrikam.example.com",
        false,
        "FABRIKAM\\administrator",
        "P@ss",
    )
    .ctrl('n');
    assert_eq!(w.state.directories.added.len(), 2);
    for _ in 0..4 {
        w.ctrl('b');
    }
    assert_eq!(w.page(), PageId::ExpressSettings);
    w.up().enter();
    assert_eq!(w.page(), PageId::ConnectToEntra);
    let c = build_config(&w.state);
    assert_eq!(c.directories.len(), 1);
    assert_eq!(c.directories[0].forest, "corp.example.com");
    assert_eq!(
        hybridsync::wizard::pages::connect_directories::forests(&w.state).len(),
        1
    );

    let dir = tempfile::tempdir().unwrap();
    let base = answers_with_passwords(dir.path(), TWO_FOREST_ANSWERS).replacen(
        "mode = \"custom\"",
        "mode = \"express\"",
        1,
    );
    let (_, effects, r) = drive(&base);
    let e = r.unwrap_err();
    assert_eq!(e.key, "directories", "{e}");
    assert!(effects.is_empty(), "nothing ran: {effects:?}");
}

#[test]
fn import_by_answers_prefills_the_pages_and_asks_each_forest_credentials() {
    let source = written(&two_forest_flow().runner.effects);
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("settings.json");
    let bundle = hybridsync::config::export::export(&source, std::time::SystemTime::now(), "old");
    std::fs::write(&export, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    // Only the credentials and the UPN confirmation: the OU selections come from the file.
    let corp = format!(
        r#"
[install]
accept_license = true
mode = "custom"
import_settings = "{}"

[directory]
forest = "corp.example.com"
account = "existing"
username = "svc-sync@corp.example.com"
password_file = "CORP_PW"

[upn]
continue_without_verified_domains = true
"#,
        export.display()
    );
    let fabrikam = r#"
[[directories]]
forest = "fabrikam.example.com"
username = "FABRIKAM\\administrator"
password_file = "FAB_PW"
"#;
    let (state, _, r) = drive(&answers_with_passwords(
        dir.path(),
        &format!("{corp}{fabrikam}"),
    ));
    r.unwrap();
    let c = build_config(&state);
    assert!(c.sync.staging_mode, "staging is on after an import");
    assert_eq!(c.directories.len(), 2);
    for (new, old) in c.directories.iter().zip(&source.directories) {
        assert_eq!(new.forest, old.forest);
        assert_eq!(new.scope, old.scope, "{}", new.forest);
    }
    // An imported forest without credentials in the answers is named.
    let (_, _, r) = drive(&answers_with_passwords(dir.path(), &corp));
    let e = r.unwrap_err();
    assert_eq!(e.key, "directories", "{e}");
    assert!(e.message.contains("fabrikam.example.com"), "{e}");
}

#[test]
fn clearing_the_import_forgets_the_forests_waiting_for_credentials() {
    let source = written(&two_forest_flow().runner.effects);
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("settings.json");
    let bundle = hybridsync::config::export::export(&source, std::time::SystemTime::now(), "old");
    std::fs::write(&export, serde_json::to_string(&bundle).unwrap()).unwrap();
    let mut w = Wizard::new();
    w.reach_install();
    w.down().down().down().space().down();
    w.typ(&export.display().to_string()).enter();
    assert_eq!(w.page(), PageId::UserSignIn);
    assert_eq!(w.state.directories.pending.len(), 2);
    w.ctrl('b');
    w.up().space(); // Import synchronization settings: cleared
    assert!(!w.state.install.import);
    assert!(w.state.directories.pending.is_empty());
    w.enter();
    assert_eq!(w.page(), PageId::UserSignIn);
    assert!(hybridsync::wizard::pages::install_components::imported(&w.state).is_none());
}

#[test]
fn an_existing_account_is_checked_for_its_rights_before_configure() {
    let mut w = Wizard::new();
    w.reach_install().reach_directories();
    w.fill_forest("fabrikam.example.com", true, "FABRIKAM\\admin", "P@ss")
        .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    w.tab().space().enter();
    w.enter().enter().enter().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(w.runner.effects.iter().any(|e| matches!(e,
        Effect::CheckAccountRights { forest, features }
            if forest == "fabrikam.example.com" && features.password_hash_sync)));
    let problems = w.state.ready.problems.join("\n");
    assert!(
        problems.contains("FABRIKAM\\admin is a member of Domain Admins"),
        "{problems}"
    );
    assert!(
        problems.contains("lacks Replicating Directory Changes All"),
        "{problems}"
    );
    assert!(problems.contains("dsacls"), "{problems}");
    insta::assert_snapshot!("ready_to_configure_account_rights", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure, "Configure is refused");
    assert!(configure_steps(&w.runner.effects).is_empty());
    // Back to let hybridsync create the account instead: nothing left to check.
    for _ in 0..6 {
        w.ctrl('b');
    }
    assert_eq!(w.page(), PageId::ConnectDirectories);
    // Tab to the account choice (rows: the listed forest, forest, DCs, TLS, account, …).
    let rows = hybridsync::wizard::pages::connect_directories::fields(&w.state);
    let account = rows
        .iter()
        .position(|f| *f == hybridsync::wizard::pages::connect_directories::Field::AccountMode)
        .unwrap();
    while w.state.directories.focus != account {
        w.tab();
    }
    w.space(); // account: create
    assert_eq!(
        w.state.directories.mode,
        hybridsync::wizard::pages::connect_directories::AccountMode::Create
    );
    w.enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    w.enter().enter().enter().enter().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );
}

#[test]
fn rerun_answers_add_a_directory_like_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, loaded) = corp_only_rerun(dir.path());
    let text = answers_with_passwords(
        dir.path(),
        r#"
task = "customize-sync-options"

[[directories]]
forest = "fabrikam.example.com"
username = "FABRIKAM\\administrator"
password_file = "FAB_PW"
ou_filtering = { mode = "selected", include = ["DC=fabrikam,DC=example,DC=com"], exclude = ["OU=Research,DC=fabrikam,DC=example,DC=com"] }
"#,
    );
    let answers = hybridsync::wizard::answers::parse(&text).unwrap();
    let mut effects = Vec::new();
    let mut exec = |e: Effect| {
        let r = lab(&e);
        effects.push(e);
        r
    };
    hybridsync::wizard::answers::drive(&mut state, &answers, &mut exec, &mut |_: &str| {}).unwrap();
    let c = written(&effects);
    assert_eq!(c.directories.len(), 2);
    assert_eq!(
        c.directories[0], loaded.directories[0],
        "corp is kept as it was"
    );
    let fab = &c.directories[1];
    assert_eq!(
        fab.account.username,
        "MSOL_0123456789ab@fabrikam.example.com"
    );
    assert_eq!(
        dns(&fab.scope.exclude),
        vec!["OU=Research,DC=fabrikam,DC=example,DC=com"]
    );
    assert_eq!(fab.scope.exclude[0].guid, Some(guid(11)));
}

#[test]
fn the_pilot_group_is_searched_in_the_chosen_forest_and_goes_to_its_directory() {
    let mut w = Wizard::new();
    w.reach_install().reach_directories();
    w.fill_forest(
        "corp.example.com",
        true,
        "svc-sync@corp.example.com",
        "s3cret-Corp",
    )
    .ctrl('n');
    w.fill_forest(
        "fabrikam.example.com",
        false,
        "FABRIKAM\\administrator",
        "P@ssw0rd!",
    )
    .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    w.tab().space().enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    w.enter().enter();
    assert_eq!(w.page(), PageId::FilterUsersAndDevices);
    w.space(); // "Synchronize selected"
    w.down(); // the Forest row: corp first
    assert!(
        w.screen().contains("Forest: corp.example.com"),
        "{}",
        w.screen()
    );
    // Search corp, pick its group, then switch forests: the choice is forgotten.
    w.down().typ("Pilot").enter().down().space();
    assert!(w.state.filter.chosen.is_some());
    w.up().up().space();
    assert!(
        w.screen().contains("Forest: fabrikam.example.com"),
        "{}",
        w.screen()
    );
    assert_eq!(w.state.filter.chosen, None);
    w.down().enter(); // search fabrikam with the same text
    assert!(w.runner.effects.iter().any(|e| matches!(e,
        Effect::FindGroups { forest, .. } if forest == "fabrikam.example.com")));
    w.down().space();
    insta::assert_snapshot!("filter_users_and_devices_two_forests", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::OptionalFeatures);
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let c = written(&w.runner.effects);
    assert_eq!(c.directories[0].pilot_group, None);
    let pilot = c.directories[1].pilot_group.as_ref().unwrap();
    assert_eq!(
        pilot.dn.to_string(),
        "CN=Pilot Users,OU=Labs,DC=fabrikam,DC=example,DC=com"
    );
    assert_eq!(pilot.guid, Some(guid(22)));
}

/// Two forests with created accounts, on to Optional features.
fn reach_features(w: &mut Wizard) {
    w.reach_install().reach_directories();
    w.fill_forest("corp.example.com", false, "CORP\\administrator", "P@ss")
        .ctrl('n');
    w.fill_forest(
        "fabrikam.example.com",
        false,
        "FABRIKAM\\administrator",
        "P@ssw0rd!",
    )
    .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    w.tab().space().enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    w.enter().enter().enter();
    assert_eq!(w.page(), PageId::OptionalFeatures);
}

/// The OU rows the Group writeback page shows (the writeback forest's tree).
fn tree_roots(w: &Wizard) -> Vec<String> {
    w.state.ous.roots.iter().map(ToString::to_string).collect()
}

#[test]
fn group_writeback_picks_its_forest_and_an_ou_of_that_forest() {
    let mut w = Wizard::with(exchange_lab(&["corp.example.com", "fabrikam.example.com"]));
    reach_features(&mut w);
    w.down().down().down().down().space().enter(); // Group writeback
    assert_eq!(w.page(), PageId::GroupWriteback);
    // The Forest row first: corp (the first forest with Exchange), its tree below.
    assert!(
        w.screen().contains("Writeback forest: corp.example.com"),
        "{}",
        w.screen()
    );
    assert_eq!(tree_roots(&w), vec!["DC=corp,DC=example,DC=com"]);
    w.down().key(KeyCode::Right).down().down().space(); // corp's Staff
    assert_eq!(
        w.state.group_wb.chosen.as_ref().map(|c| c.dn.to_string()),
        Some("OU=Staff,DC=corp,DC=example,DC=com".into())
    );
    // Another forest: its own tree, and the OU of the other forest is forgotten.
    w.up().up().up().space();
    assert_eq!(tree_roots(&w), vec!["DC=fabrikam,DC=example,DC=com"]);
    assert_eq!(w.state.group_wb.chosen, None);
    w.enter();
    assert_eq!(w.page(), PageId::GroupWriteback, "no OU: refused");
    w.down().key(KeyCode::Right).down().down().space(); // fabrikam's Labs
    insta::assert_snapshot!("group_writeback_two_forests", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    // Each created account gets the group writeback rights only in the writeback forest.
    let rights: Vec<(String, Option<String>)> = configure_steps(&w.runner.effects)
        .into_iter()
        .filter_map(|s| match s {
            ConfigureStep::CreateConnectorAccount {
                forest, features, ..
            } => Some((
                forest.clone(),
                features
                    .group_writeback_ou
                    .as_ref()
                    .map(ToString::to_string),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        rights,
        vec![
            ("corp.example.com".to_string(), None),
            (
                "fabrikam.example.com".to_string(),
                Some("OU=Labs,DC=fabrikam,DC=example,DC=com".to_string())
            ),
        ]
    );
    let c = written(&w.runner.effects);
    let gw = &c.features.group_writeback;
    assert!(gw.enabled);
    assert_eq!(gw.forest.as_deref(), Some("fabrikam.example.com"));
    let ou = gw.target_ou.as_ref().unwrap();
    assert_eq!(ou.dn.to_string(), "OU=Labs,DC=fabrikam,DC=example,DC=com");
    assert_eq!(ou.guid, Some(guid(12)));
    // The OU filtering of either forest did not move.
    for d in &c.directories {
        assert_eq!(d.scope.mode, ScopeMode::All, "{}", d.forest);
    }
    let text = hybridsync::config::save::render_new(&c).unwrap();
    assert_eq!(hybridsync::config::parse(&text).unwrap().config, c);
}

#[test]
fn group_writeback_is_offered_by_the_forest_that_has_exchange_not_the_first() {
    let mut w = Wizard::with(exchange_lab(&["fabrikam.example.com"]));
    reach_features(&mut w);
    w.space(); // Exchange hybrid: fabrikam's schema has Exchange
    assert!(w.state.features.exchange_hybrid);
    w.space();
    w.down().down().down().down().space();
    assert!(w.state.features.group_writeback, "fabrikam has Exchange");
    w.enter();
    assert_eq!(w.page(), PageId::GroupWriteback);
    assert_eq!(tree_roots(&w), vec!["DC=fabrikam,DC=example,DC=com"]);
    // corp is not offered: Space on the Forest row keeps fabrikam.
    w.space();
    assert_eq!(tree_roots(&w), vec!["DC=fabrikam,DC=example,DC=com"]);
    w.down().key(KeyCode::Right).down().space(); // Research
    insta::assert_snapshot!("group_writeback_one_forest_with_exchange", w.screen());
    w.enter().enter();
    assert_eq!(w.page(), PageId::Complete);
    let c = written(&w.runner.effects);
    assert_eq!(
        c.features.group_writeback.forest.as_deref(),
        Some("fabrikam.example.com")
    );
    assert_eq!(
        c.features
            .group_writeback
            .target_ou
            .as_ref()
            .map(|o| o.dn.to_string()),
        Some("OU=Research,DC=fabrikam,DC=example,DC=com".into())
    );
    // Neither forest has Exchange: group writeback cannot be ticked.
    let mut n = Wizard::with(exchange_lab(&[]));
    reach_features(&mut n);
    n.space();
    assert!(!n.state.features.exchange_hybrid);
    n.down().down().down().down().space();
    assert!(!n.state.features.group_writeback);
}

const WRITEBACK: &str = r#"
[features]
group_writeback = true
group_writeback_forest = "fabrikam.example.com"
group_writeback_ou = "OU=Labs,DC=fabrikam,DC=example,DC=com"
"#;

#[test]
fn group_writeback_answers_name_the_forest_and_refuse_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "{}{WRITEBACK}",
        answers_with_passwords(dir.path(), TWO_FOREST_ANSWERS)
    );
    let both = || exchange_lab(&["corp.example.com", "fabrikam.example.com"]);
    let (state, _, r) = drive_with(&base, both());
    r.unwrap();
    let c = build_config(&state);
    let gw = &c.features.group_writeback;
    assert!(gw.enabled);
    assert_eq!(gw.forest.as_deref(), Some("fabrikam.example.com"));
    assert_eq!(
        gw.target_ou.as_ref().map(|o| (o.dn.to_string(), o.guid)),
        Some((
            "OU=Labs,DC=fabrikam,DC=example,DC=com".into(),
            Some(guid(12))
        ))
    );
    // Without the forest key: the first forest with Exchange (fabrikam here, not corp).
    let (state, _, r) = drive_with(
        &base.replace("group_writeback_forest = \"fabrikam.example.com\"\n", ""),
        exchange_lab(&["fabrikam.example.com"]),
    );
    r.unwrap();
    assert_eq!(
        build_config(&state)
            .features
            .group_writeback
            .forest
            .as_deref(),
        Some("fabrikam.example.com")
    );
    // An unknown forest, a forest without Exchange, an OU of the other forest.
    for (from, to, exchange, key, says) in [
        (
            "group_writeback_forest = \"fabrikam.example.com\"",
            "group_writeback_forest = \"nowhere.example.com\"",
            &["corp.example.com", "fabrikam.example.com"][..],
            "features.group_writeback_forest",
            "nowhere.example.com",
        ),
        (
            "group_writeback_forest = \"fabrikam.example.com\"",
            "group_writeback_forest = \"corp.example.com\"",
            &["fabrikam.example.com"][..],
            "features.group_writeback_forest",
            "Exchange",
        ),
        (
            "group_writeback_ou = \"OU=Labs,DC=fabrikam,DC=example,DC=com\"",
            "group_writeback_ou = \"OU=Staff,DC=corp,DC=example,DC=com\"",
            &["corp.example.com", "fabrikam.example.com"][..],
            "features.group_writeback_ou",
            "fabrikam.example.com",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let (_, effects, r) = drive_with(&base.replacen(from, to, 1), exchange_lab(exchange));
        let e = r.expect_err(to);
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains(says), "{e}");
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Configure(ConfigureStep::WriteConfig { .. }))),
            "{to}: nothing is written"
        );
    }
}

#[test]
fn directory_extensions_merge_the_candidates_of_every_forest() {
    let mut w = Wizard::new();
    reach_features(&mut w);
    for _ in 0..6 {
        w.down();
    }
    w.space().enter();
    assert_eq!(w.page(), PageId::DirectoryExtensions);
    let read: Vec<&str> = w
        .runner
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::ListExtensionAttributes { forest } => Some(forest.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(read, vec!["corp.example.com", "fabrikam.example.com"]);
    let rows: Vec<(String, Vec<String>)> =
        hybridsync::wizard::pages::directory_extensions::filtered(&w.state.extensions)
            .iter()
            .map(|c| (c.key(), c.forests.clone()))
            .collect();
    assert_eq!(
        rows,
        vec![
            ("user.department".into(), vec!["corp.example.com".into()]),
            (
                "user.employeeID".into(),
                vec!["corp.example.com".into(), "fabrikam.example.com".into()]
            ),
            ("group.info".into(), vec!["fabrikam.example.com".into()]),
        ]
    );
    w.space().down().down().space(); // department, info
    insta::assert_snapshot!("directory_extensions_two_forests", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    let c = written(&w.runner.effects);
    assert_eq!(
        c.features.directory_extensions.attributes,
        vec!["user.department", "group.info"]
    );
    // The answers: any forest's candidate; an unknown one names every forest read.
    let dir = tempfile::tempdir().unwrap();
    let base = answers_with_passwords(dir.path(), TWO_FOREST_ANSWERS);
    let (state, _, r) = drive(&format!(
        "{base}\n[features]\ndirectory_extensions = [\"group.info\", \"user.department\"]\n"
    ));
    r.unwrap();
    assert_eq!(
        build_config(&state)
            .features
            .directory_extensions
            .attributes,
        vec!["group.info", "user.department"]
    );
    let (_, _, r) = drive(&format!(
        "{base}\n[features]\ndirectory_extensions = [\"user.department\", \"user.nope\"]\n"
    ));
    let e = r.unwrap_err();
    assert_eq!(e.key, "features.directory_extensions[1]", "{e}");
    assert!(
        e.message.contains("corp.example.com") && e.message.contains("fabrikam.example.com"),
        "{e}"
    );
}

#[test]
fn an_account_rights_problem_in_the_answers_names_the_forest_key() {
    let dir = tempfile::tempdir().unwrap();
    // The second forest's existing account lacks rights (the lab's fabrikam account).
    let base = answers_with_passwords(dir.path(), TWO_FOREST_ANSWERS).replacen(
        "account = \"create\"",
        "account = \"existing\"",
        1,
    );
    let (_, effects, r) = drive(&base);
    let e = r.unwrap_err();
    assert_eq!(e.key, "directories[0].username", "{e}");
    assert!(e.message.contains("fabrikam.example.com"), "{e}");
    assert!(e.message.contains("Domain Admins"), "{e}");
    assert!(configure_steps(&effects).is_empty(), "nothing configured");
    // One forest, in [directory].
    let one = answers_with_passwords(
        dir.path(),
        r#"
[install]
accept_license = true
mode = "custom"

[directory]
forest = "fabrikam.example.com"
account = "existing"
username = "FABRIKAM\\admin"
password_file = "FAB_PW"

[upn]
continue_without_verified_domains = true
"#,
    );
    let (_, _, r) = drive(&one);
    let e = r.unwrap_err();
    assert_eq!(e.key, "directory.username", "{e}");
    assert!(
        e.message
            .contains("lacks Replicating Directory Changes All"),
        "{e}"
    );
}

#[test]
fn extension_reads_answered_out_of_order_or_failed_are_kept_per_forest() {
    use hybridsync::wizard::pages::directory_extensions::Load;
    // The schema reads are left unanswered, then answered by hand: fabrikam before corp.
    let mut w = Wizard::with(|e| match e {
        Effect::ListExtensionAttributes { .. } => Vec::new(),
        other => lab(other),
    });
    reach_features(&mut w);
    for _ in 0..6 {
        w.down();
    }
    w.space().enter();
    assert_eq!(w.page(), PageId::DirectoryExtensions);
    assert_eq!(w.state.extensions.load, Load::Loading);
    let reply = |forest: &str| {
        lab(&Effect::ListExtensionAttributes {
            forest: forest.into(),
        })
        .remove(0)
    };
    w.send(Message::Reply(reply("fabrikam.example.com")));
    assert_eq!(
        w.state.extensions.load,
        Load::Loading,
        "corp has not answered"
    );
    w.send(Message::Reply(reply("corp.example.com")));
    let Load::Loaded(rows) = &w.state.extensions.load else {
        panic!("{:?}", w.state.extensions.load);
    };
    let keys: Vec<String> = rows.iter().map(|c| c.key()).collect();
    assert_eq!(
        keys,
        vec!["user.department", "user.employeeID", "group.info"]
    );
    assert_eq!(
        rows[1].forests,
        vec!["corp.example.com", "fabrikam.example.com"],
        "connection order, whatever the reply order"
    );

    // fabrikam's read fails: the failure is shown, and Ctrl+R reads fabrikam only.
    let mut fails = true;
    let mut f = Wizard::with(move |e| match e {
        Effect::ListExtensionAttributes { forest } if forest == "fabrikam.example.com" && fails => {
            fails = false;
            vec![Reply::ExtensionAttributes {
                forest: forest.clone(),
                result: Err(Failure::new(
                    "reading the schema of fabrikam.example.com failed: insufficient access",
                    "give the connector account read access to CN=Schema,CN=Configuration",
                )),
            }]
        }
        other => lab(other),
    });
    reach_features(&mut f);
    for _ in 0..6 {
        f.down();
    }
    f.space().enter();
    assert!(matches!(f.state.extensions.load, Load::Failed(_)));
    assert!(
        f.screen().contains("fabrikam.example.com failed"),
        "{}",
        f.screen()
    );
    let reads = |w: &Wizard| -> Vec<String> {
        w.runner
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::ListExtensionAttributes { forest } => Some(forest.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(reads(&f), vec!["corp.example.com", "fabrikam.example.com"]);
    f.ctrl('r');
    assert_eq!(
        reads(&f),
        vec![
            "corp.example.com",
            "fabrikam.example.com",
            "fabrikam.example.com"
        ]
    );
    assert!(matches!(&f.state.extensions.load, Load::Loaded(r) if r.len() == 3));
}

#[test]
fn a_rerun_keeps_the_configured_writeback_forest_and_its_ou() {
    // The two-forest server with group writeback into fabrikam's Labs.
    let mut source = written(&two_forest_flow().runner.effects);
    let gw = &mut source.features.group_writeback;
    gw.enabled = true;
    gw.forest = Some("fabrikam.example.com".into());
    gw.target_ou = Some(hybridsync::config::model::ObjectRef {
        dn: dn("OU=Labs,DC=fabrikam,DC=example,DC=com"),
        guid: Some(guid(12)),
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hybridsync.toml");
    std::fs::write(
        &path,
        hybridsync::config::save::render_new(&source).unwrap(),
    )
    .unwrap();
    let loaded = hybridsync::config::load(&path).unwrap().config;
    let mut w = Wizard {
        state: State::rerun(path, PathBuf::from(STATE_DIR), loaded.clone()),
        runner: FakeRunner::new(lab),
    };
    w.send(Message::Tick);
    w.down().enter();
    assert_eq!(w.page(), PageId::CustomizeSyncOptions);
    while w.page() != PageId::GroupWriteback {
        let before = w.page();
        w.enter();
        assert_ne!(w.page(), before, "{}", w.screen());
    }
    assert!(
        w.screen()
            .contains("Writeback forest: fabrikam.example.com"),
        "{}",
        w.screen()
    );
    assert_eq!(tree_roots(&w), vec!["DC=fabrikam,DC=example,DC=com"]);
    assert_eq!(
        w.state.group_wb.chosen.as_ref().map(|c| c.dn.to_string()),
        Some("OU=Labs,DC=fabrikam,DC=example,DC=com".into())
    );
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let c = written(&w.runner.effects);
    assert_eq!(c.features.group_writeback, loaded.features.group_writeback);
    assert_eq!(
        c.directories, loaded.directories,
        "each forest's scope kept"
    );
}

#[test]
fn an_imported_pilot_group_of_the_second_forest_stays_with_its_forest() {
    let mut source = written(&two_forest_flow().runner.effects);
    let pilot = hybridsync::config::model::ObjectRef {
        dn: dn("CN=Pilot Users,OU=Labs,DC=fabrikam,DC=example,DC=com"),
        guid: Some(guid(22)),
    };
    source.directories[1].pilot_group = Some(pilot.clone());
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("settings.json");
    let bundle = hybridsync::config::export::export(&source, std::time::SystemTime::now(), "old");
    std::fs::write(&export, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    let mut w = Wizard::new();
    w.reach_install();
    w.down().down().down().space().down();
    w.typ(&export.display().to_string()).enter();
    assert_eq!(w.page(), PageId::UserSignIn);
    w.enter().enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    w.enter(); // refused without the password: the focus goes to it
    w.typ("s3cret-Corp").enter();
    w.tab()
        .tab()
        .tab()
        .tab()
        .typ("FABRIKAM\\administrator")
        .tab()
        .typ("P@ssw0rd!")
        .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    w.tab().space().enter();
    w.enter().enter();
    assert_eq!(w.page(), PageId::FilterUsersAndDevices);
    assert!(
        w.screen().contains("Forest: fabrikam.example.com"),
        "{}",
        w.screen()
    );
    w.enter().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    let c = written(&w.runner.effects);
    assert_eq!(c.directories[0].pilot_group, None);
    assert_eq!(c.directories[1].pilot_group, Some(pilot));
}
