//! The wizard's app and attribute filtering, device options and source anchor pages without a
//! terminal: scripted key flows against a fake effects runner (the configuration produced and
//! the effects requested), the same answers through `--answers` (and their errors, which name
//! the key), the rerun tasks over a written configuration, and render snapshots of every page and
//! its error states at 80x24.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/wizard_driver.rs"]
mod wizard_driver;

use std::path::{Path, PathBuf};
use wizard_driver::{Keys, dn, forest, guid, pump, render, tenant};

use hybridsync::config::Config;
use hybridsync::config::model::CloudApp;
use hybridsync::credentials::SecretRef;
use hybridsync::effects::{
    CheckResult, CheckStatus, ConfigureStep, Effect, FakeRunner, OuEntry, Reply, StepOutput,
};
use hybridsync::wizard::answers;
use hybridsync::wizard::app::{Message, PageId, State, build_config};
use ratatui::crossterm::event::KeyCode;

const CONFIG: &str = "/etc/hybridsync/hybridsync.toml";
const STATE_DIR: &str = "/var/lib/hybridsync";
const TEMPLATE: &str = include_str!("../templates/hybridsync.toml");

/// The lab: every effect succeeds; WriteConfig really writes the file as the real runner does
/// (comments kept) when the file exists.
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
        Effect::TestAdBind { .. } => vec![Reply::Forest(Ok(forest()))],
        Effect::ListOus { parent, .. } => vec![Reply::Ous {
            parent: parent.clone(),
            children: Ok(if parent.to_string() == "DC=corp,DC=example,DC=com" {
                vec![OuEntry {
                    dn: dn("OU=Staff,DC=corp,DC=example,DC=com"),
                    guid: Some(guid(2)),
                    has_children: false,
                }]
            } else {
                vec![]
            }),
        }],
        Effect::Configure(step) => vec![Reply::Step(Ok(match step {
            ConfigureStep::CreateConnectorAccount { secret_name, .. } => {
                StepOutput::ConnectorAccount {
                    username: "MSOL_0123456789ab@corp.example.com".into(),
                    secret_ref: SecretRef::Store(secret_name.clone()),
                }
            }
            ConfigureStep::RegisterApplication => StepOutput::Application {
                client_id: "3f1b2a4c-5d6e-4f70-8192-a3b4c5d6e7f8".into(),
                certificate_ref: SecretRef::Store("entra-app-certificate".into()),
            },
            ConfigureStep::WriteConfig { config, path } => {
                if let Ok(existing) = std::fs::read_to_string(path) {
                    let text =
                        hybridsync::config::save::update_document(&existing, config).unwrap();
                    std::fs::write(path, text).unwrap();
                }
                StepOutput::Written(path.clone())
            }
            ConfigureStep::StartFirstCycle => StepOutput::Cycle("First cycle".into()),
            _ => StepOutput::Done,
        }))],
        Effect::Cancel(_) => vec![],
        other => vec![Reply::NotConnected(other.clone())],
    }
}

struct Wizard {
    state: State,
    runner: FakeRunner,
    _dir: Option<tempfile::TempDir>,
}

impl Keys for Wizard {
    fn send(&mut self, msg: Message) {
        pump(&mut self.state, &mut self.runner, msg);
    }
}

impl Wizard {
    fn new(script: impl FnMut(&Effect) -> Vec<Reply> + 'static) -> Self {
        Self {
            state: State::new(PathBuf::from(CONFIG), PathBuf::from(STATE_DIR)),
            runner: FakeRunner::new(script),
            _dir: None,
        }
    }

    /// A rerun over `text`, written to a temporary file.
    fn over(text: &str, script: impl FnMut(&Effect) -> Vec<Reply> + 'static) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hybridsync.toml");
        std::fs::write(&path, text).unwrap();
        let loaded = hybridsync::config::load(&path).unwrap().config;
        let mut w = Self {
            state: State::rerun(path, PathBuf::from(STATE_DIR), loaded),
            runner: FakeRunner::new(script),
            _dir: Some(dir),
        };
        w.send(Message::Tick);
        w
    }

    fn path(&self) -> &Path {
        &self.state.config_path
    }

    fn page(&self) -> PageId {
        self.state.page
    }

    fn screen(&self) -> String {
        let screen = render(&self.state);
        let shown = self.path().display().to_string();
        screen.replace(&shown, CONFIG)
    }

    /// The Custom path up to `page`, pressing Enter on every page before it.
    fn custom_to(script: impl FnMut(&Effect) -> Vec<Reply> + 'static, page: PageId) -> Self {
        let mut w = Wizard::new(script);
        w.space().enter(); // Welcome: agree
        w.enter(); // Prerequisites
        w.down().enter(); // Customize
        w.enter(); // Install required components
        w.enter(); // User sign-in
        w.enter(); // Connect to Entra ID (signed in)
        assert_eq!(w.page(), PageId::ConnectDirectories);
        w.typ("corp.example.com")
            .tab()
            .tab()
            .tab()
            .tab()
            .typ("CORP\\admin")
            .tab()
            .typ("pw")
            .enter();
        while w.page() != page {
            let before = w.page();
            w.enter();
            assert_ne!(before, w.page(), "stuck on {before:?}");
        }
        w
    }

    /// Move the Microsoft Entra attributes cursor to `class.attr`.
    fn highlight(&mut self, class: &str, attr: &str) -> &mut Self {
        let i = self
            .state
            .app_filter
            .attributes
            .iter()
            .position(|(c, a)| c == class && a == attr)
            .unwrap_or_else(|| panic!("{class}.{attr} is not listed"));
        while self.state.app_filter.cursor > i {
            self.key(KeyCode::Up);
        }
        while self.state.app_filter.cursor < i {
            self.down();
        }
        self
    }
}

/// Row of app and attribute filtering on Optional features (the last one).
const APP_FILTERING_ROW: usize = 7;

fn first_run_answers(extra: &str) -> (Result<(), answers::AnswerError>, State) {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let text = format!(
        r#"
[install]
accept_license = true
mode = "custom"
[directory]
forest = "corp.example.com"
account = "create"
username = "CORP\\admin"
password_file = "{}"
{extra}"#,
        pw.display()
    );
    let a = answers::parse(&text).unwrap();
    let mut state = State::new(PathBuf::from(CONFIG), PathBuf::from(STATE_DIR));
    let mut exec = |e: Effect| lab(&e);
    let r = answers::drive(&mut state, &a, &mut exec, &mut |_: &str| {});
    (r, state)
}

// ------------------------------------------------------- app and attribute filtering

#[test]
fn app_and_attribute_filtering_pages_by_keys_snapshots_and_config() {
    let mut w = Wizard::custom_to(lab, PageId::OptionalFeatures);
    w.downs(APP_FILTERING_ROW).space();
    insta::assert_snapshot!("optional_features_app_filtering", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::AppFiltering);
    insta::assert_snapshot!("app_filtering", w.screen());
    // Clear every service: Next is refused with the reason.
    for _ in 0..8 {
        w.space().down();
    }
    w.enter();
    assert_eq!(w.page(), PageId::AppFiltering);
    insta::assert_snapshot!("app_filtering_nothing_chosen", w.screen());
    // Exchange Online only (row 2).
    w.down().space();
    assert_eq!(w.state.app_filter.apps, vec![CloudApp::ExchangeOnline]);
    w.enter();
    assert_eq!(w.page(), PageId::AttributeFiltering);
    assert!(
        w.state.app_filter.attributes.len() > 100,
        "every attribute the rules read: {}",
        w.state.app_filter.attributes.len()
    );
    // Never listed: what hybridsync always needs.
    for never in [
        "objectGUID",
        "userPrincipalName",
        "sAMAccountName",
        "member",
    ] {
        assert!(
            !w.state
                .app_filter
                .attributes
                .iter()
                .any(|(_, a)| a.eq_ignore_ascii_case(never)),
            "{never}"
        );
    }
    insta::assert_snapshot!("attribute_filtering", w.screen());
    // SharePoint's wWWHomePage is greyed: Space does nothing.
    w.highlight("user", "wWWHomePage").space();
    assert!(w.state.app_filter.cleared.is_empty());
    insta::assert_snapshot!("attribute_filtering_left_out", w.screen());
    // Clear user.title and an attribute Exchange needs: the warning names it.
    w.highlight("user", "title").space();
    w.highlight("user", "msExchHideFromAddressLists").space();
    insta::assert_snapshot!("attribute_filtering_breaks", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );
    let c = build_config(&w.state);
    let f = &c.features.app_and_attribute_filtering;
    assert!(f.enabled);
    assert_eq!(f.apps, vec![CloudApp::ExchangeOnline]);
    assert_eq!(
        f.excluded_attributes,
        vec!["user.msExchHideFromAddressLists", "user.title"]
    );
    // What the cycle drops: the two cleared, and SharePoint's and Lync's own attributes.
    let dropped = hybridsync::config::apps::effective_excluded(f);
    let has = |class: &str, attr: &str| {
        dropped
            .iter()
            .any(|(c, a)| c == class && a.eq_ignore_case(attr))
    };
    assert!(has("user", "title") && has("user", "wWWHomePage") && has("contact", "ipPhone"));
    assert!(!has("user", "msExchMailboxGuid"), "Exchange is chosen");

    // Both pages keep their defaults when passed through: every service, nothing cleared.
    let mut back = Wizard::custom_to(lab, PageId::OptionalFeatures);
    back.downs(APP_FILTERING_ROW)
        .space()
        .enter()
        .enter()
        .enter();
    assert_eq!(back.page(), PageId::ReadyToConfigure);
    assert_eq!(
        build_config(&back.state)
            .features
            .app_and_attribute_filtering
            .apps
            .len(),
        8,
        "all services by default"
    );

    // The same answers unattended give the same configuration.
    let (r, state) = first_run_answers(
        r#"[features]
apps = ["exchange-online"]
excluded_attributes = ["user.title", "user.msExchHideFromAddressLists"]
"#,
    );
    r.unwrap();
    assert_eq!(
        build_config(&state).features.app_and_attribute_filtering,
        *f
    );
}

#[test]
fn app_and_attribute_filtering_answer_errors_name_the_key() {
    for (extra, key, says) in [
        (
            "[features]\napps = [\"exchange-online\", \"yammer\"]\n",
            "features.apps[1]",
            "yammer",
        ),
        ("[features]\napps = []\n", "features.apps", "at least one"),
        (
            "[features]\nexcluded_attributes = [\"user.shoeSize\"]\n",
            "features.excluded_attributes[0]",
            "user.shoeSize",
        ),
        (
            "[features]\nexcluded_attributes = [\"user.title\", \"group.objectGUID\"]\n",
            "features.excluded_attributes[1]",
            "always synchronized",
        ),
    ] {
        let (r, _) = first_run_answers(extra);
        let e = r.expect_err(extra);
        assert_eq!(e.key, key, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
}

#[test]
fn rerun_customize_changes_app_and_attribute_filtering_and_keeps_comments() {
    let text = TEMPLATE.replace(
        "# Sync only the attributes of the cloud services you use.\nenabled = false",
        "# Sync only the attributes of the cloud services you use.\nenabled = true",
    );
    let text = text
        .replace("apps = []", "apps = [\"exchange-online\", \"intune\"]")
        .replace(
            "excluded_attributes = []",
            "excluded_attributes = [\"user.title\"]",
        );
    assert_ne!(text, TEMPLATE, "the template has the keys this test edits");
    let mut w = Wizard::over(&text, lab);
    w.downs(1).enter(); // Customize synchronization options
    w.enter(); // its intro
    w.enter(); // Domain and OU filtering
    assert_eq!(w.page(), PageId::OptionalFeatures);
    assert!(w.state.features.app_filtering, "pre-filled");
    w.enter();
    assert_eq!(w.page(), PageId::AppFiltering);
    assert_eq!(
        w.state.app_filter.apps,
        vec![CloudApp::ExchangeOnline, CloudApp::Intune]
    );
    // Add SharePoint Online (row 3).
    w.downs(2).space().enter();
    assert_eq!(w.page(), PageId::AttributeFiltering);
    assert!(hybridsync::wizard::pages::attribute_filtering::is_cleared(
        &w.state,
        "user.title"
    ));
    // Tick title again, clear department.
    w.highlight("user", "title").space();
    w.highlight("user", "department").space();
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let written = std::fs::read_to_string(w.path()).unwrap();
    let c: Config = hybridsync::config::parse(&written).unwrap().config;
    let f = &c.features.app_and_attribute_filtering;
    assert_eq!(
        f.apps,
        vec![
            CloudApp::ExchangeOnline,
            CloudApp::SharepointOnline,
            CloudApp::Intune
        ]
    );
    assert_eq!(f.excluded_attributes, vec!["user.department"]);
    let comments = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(comments(&written), comments(&text), "every comment kept");
}

// ------------------------------------------------------------------- source anchor

use hybridsync::effects::{
    Failure, ForestLogin, ForestSearch, GuidsInUse, LoginSecret, ScpWritten,
};
use hybridsync::wizard::pages::additional_tasks::{Task, menu};

fn object_guid_anchor() -> String {
    let t = TEMPLATE.replace(
        "source_anchor = \"mS-DS-ConsistencyGuid\"",
        "source_anchor = \"objectGUID\"",
    );
    assert_ne!(t, TEMPLATE);
    t
}

/// The rerun lab answering the consistency-guid check with `found`.
fn anchor_lab(found: Result<GuidsInUse, Failure>) -> impl FnMut(&Effect) -> Vec<Reply> {
    move |e| match e {
        Effect::FindConsistencyGuids { .. } => vec![Reply::ConsistencyGuids(found.clone())],
        other => lab(other),
    }
}

fn in_use() -> GuidsInUse {
    GuidsInUse {
        total: 7,
        sample: (1..=5)
            .map(|i| dn(&format!("CN=User {i},OU=Staff,DC=corp,DC=example,DC=com")))
            .collect(),
    }
}

impl Wizard {
    /// Open `task` from the Additional tasks menu.
    fn open(&mut self, task: Task) -> &mut Self {
        assert_eq!(self.page(), PageId::AdditionalTasks);
        let i = menu(&self.state)
            .iter()
            .position(|t| *t == task)
            .unwrap_or_else(|| panic!("{task:?} is not offered"));
        while self.state.tasks.cursor > 0 {
            self.key(KeyCode::Up);
        }
        self.downs(i).enter()
    }

    fn written(&self) -> Config {
        hybridsync::config::load(self.path()).unwrap().config
    }
}

#[test]
fn source_anchor_is_offered_only_for_object_guid_and_switches_after_a_clean_check() {
    let plain = Wizard::over(TEMPLATE, lab);
    assert!(!menu(&plain.state).contains(&Task::ConfigureSourceAnchor));

    let text = object_guid_anchor();
    let mut w = Wizard::over(&text, anchor_lab(Ok(GuidsInUse::default())));
    assert!(menu(&w.state).contains(&Task::ConfigureSourceAnchor));
    w.open(Task::ConfigureSourceAnchor);
    assert_eq!(w.page(), PageId::ConfigureSourceAnchor);
    // The check binds as the connector account (stored password) under the forest's scope.
    assert_eq!(
        w.runner.effects,
        vec![Effect::FindConsistencyGuids {
            searches: vec![ForestSearch {
                login: ForestLogin {
                    forest: "corp.example.com".into(),
                    domain_controllers: vec![],
                    tls: hybridsync::config::model::TlsMode::Ldaps,
                    username: "MSOL_0123456789ab@corp.example.com".into(),
                    password: LoginSecret::Stored(SecretRef::Store(
                        "ad-connector-corp.example.com".into()
                    )),
                },
                bases: vec![dn("DC=corp,DC=example,DC=com")],
                exclude: vec![],
            }]
        }]
    );
    insta::assert_snapshot!("source_anchor_clear", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert_eq!(
        hybridsync::wizard::pages::ready_to_configure::changes(&w.state),
        vec!["~ identity.source_anchor: 'objectGUID' -> 'mS-DS-ConsistencyGuid'".to_string()]
    );
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let written = std::fs::read_to_string(w.path()).unwrap();
    assert_eq!(
        written, TEMPLATE,
        "only the anchor changed, every comment kept"
    );
}

#[test]
fn source_anchor_values_in_use_block_until_the_explicit_override() {
    let mut w = Wizard::over(&object_guid_anchor(), anchor_lab(Ok(in_use())));
    w.open(Task::ConfigureSourceAnchor);
    insta::assert_snapshot!("source_anchor_in_use", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ConfigureSourceAnchor, "blocked");
    insta::assert_snapshot!("source_anchor_refused", w.screen());
    w.space().enter();
    assert_eq!(
        w.page(),
        PageId::ReadyToConfigure,
        "the override lets it through"
    );
    w.enter();
    assert_eq!(
        w.written().identity.source_anchor.as_str(),
        "mS-DS-ConsistencyGuid"
    );

    // A check that cannot run blocks too, with its fix; Ctrl+R runs it again.
    let mut f = Wizard::over(
        &object_guid_anchor(),
        anchor_lab(Err(Failure::new(
            "cannot read the password of MSOL_0123456789ab@corp.example.com: not found",
            "check the credential store",
        ))),
    );
    f.open(Task::ConfigureSourceAnchor);
    insta::assert_snapshot!("source_anchor_failed", f.screen());
    f.enter();
    assert_eq!(f.page(), PageId::ConfigureSourceAnchor);
    f.send(Message::Key(hybridsync::wizard::keys::ctrl('r')));
    assert_eq!(
        f.runner
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::FindConsistencyGuids { .. }))
            .count(),
        2
    );
}

/// Run `answers` over the configuration `text` with `script`.
fn rerun_answers(
    text: &str,
    answers_text: &str,
    mut script: impl FnMut(&Effect) -> Vec<Reply>,
) -> (Result<(), answers::AnswerError>, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hybridsync.toml");
    std::fs::write(&path, text).unwrap();
    let loaded = hybridsync::config::load(&path).unwrap().config;
    let mut state = State::rerun(path.clone(), PathBuf::from(STATE_DIR), loaded);
    let a = answers::parse(answers_text).unwrap();
    let mut exec = |e: Effect| script(&e);
    let r = answers::drive(&mut state, &a, &mut exec, &mut |_: &str| {});
    (r, path, dir)
}

#[test]
fn source_anchor_answers_and_their_errors() {
    let task = "task = \"configure-source-anchor\"\n";
    let (r, path, _d) = rerun_answers(
        &object_guid_anchor(),
        task,
        anchor_lab(Ok(GuidsInUse::default())),
    );
    r.unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), TEMPLATE);

    let (r, _, _d) = rerun_answers(&object_guid_anchor(), task, anchor_lab(Ok(in_use())));
    let e = r.unwrap_err();
    assert_eq!(e.key, "source_anchor.skip_ldap_search", "{e}");
    assert!(
        e.message.contains("7 users") && e.message.contains("CN=User 1"),
        "{e}"
    );

    let (r, path, _d) = rerun_answers(
        &object_guid_anchor(),
        &format!("{task}[source_anchor]\nskip_ldap_search = true\n"),
        anchor_lab(Ok(in_use())),
    );
    r.unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), TEMPLATE);

    // Not offered over a consistency-guid anchor.
    let (r, _, _d) = rerun_answers(TEMPLATE, task, lab);
    let e = r.unwrap_err();
    assert_eq!(e.key, "task", "{e}");
    assert!(e.message.contains("objectGUID"), "{e}");
}

// ------------------------------------------------------------------ device options

fn scp_lab(e: &Effect) -> Vec<Reply> {
    match e {
        Effect::ConfigureScp {
            tenant_id, domain, ..
        } => {
            let mut keywords = vec![
                format!("azureADId:{tenant_id}"),
                format!("azureADName:{domain}"),
            ];
            keywords.sort();
            vec![Reply::Scp(Ok(ScpWritten {
                dn: dn(
                    "CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services,CN=Configuration,DC=corp,DC=example,DC=com",
                ),
                keywords,
                created: true,
            }))]
        }
        other => lab(other),
    }
}

const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn with_tenant(text: &str) -> String {
    text.replace(
        "tenant_id = \"00000000-0000-0000-0000-000000000000\"",
        &format!("tenant_id = \"{TENANT_ID}\""),
    )
}

#[test]
fn hybrid_join_writes_the_scp_with_the_admins_credentials_and_changes_no_config() {
    let text = with_tenant(TEMPLATE);
    let mut w = Wizard::over(&text, scp_lab);
    w.open(Task::ConfigureDeviceOptions);
    assert_eq!(w.page(), PageId::DeviceOptions);
    insta::assert_snapshot!("device_options", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::HybridJoin);
    assert_eq!(w.state.hybrid_join.tenant.text(), TENANT_ID, "pre-filled");
    // No admin yet: nothing is written.
    w.enter();
    assert!(
        !w.runner
            .effects
            .iter()
            .any(|e| matches!(e, Effect::ConfigureScp { .. }))
    );
    insta::assert_snapshot!("hybrid_join_invalid", w.screen());
    w.typ("CORP\\admin").tab().typ("Adm1n!").enter();
    let scp: Vec<&Effect> = w
        .runner
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::ConfigureScp { .. }))
        .collect();
    let [
        Effect::ConfigureScp {
            login,
            tenant_id,
            domain,
        },
    ] = scp.as_slice()
    else {
        panic!("{scp:?}")
    };
    assert_eq!(tenant_id, TENANT_ID);
    assert_eq!(domain, "corp.example.com");
    assert_eq!(login.forest, "corp.example.com");
    assert_eq!(login.username, "CORP\\admin");
    let LoginSecret::Given(pw) = &login.password else {
        panic!()
    };
    assert_eq!(pw.expose(), "Adm1n!");
    assert!(!format!("{login:?}").contains("Adm1n!"), "never in Debug");
    insta::assert_snapshot!("hybrid_join_written", w.screen());
    assert_eq!(w.page(), PageId::HybridJoin);
    assert_eq!(
        std::fs::read_to_string(w.path()).unwrap(),
        text,
        "the configuration is not touched"
    );

    // A refused write shows its fix.
    let mut f = Wizard::over(&text, |e: &Effect| match e {
        Effect::ConfigureScp { .. } => vec![Reply::Scp(Err(Failure::new(
            "cannot write the service connection point: insufficient access (50)",
            "sign in with an Enterprise Admin of the forest",
        )))],
        other => lab(other),
    });
    f.open(Task::ConfigureDeviceOptions).enter();
    f.tab().tab().typ("CORP\\someone").tab().typ("pw").enter();
    insta::assert_snapshot!("hybrid_join_failed", f.screen());
}

#[test]
fn device_writeback_from_the_rerun_prepares_the_forest_and_grants_the_account() {
    let mut w = Wizard::over(TEMPLATE, lab);
    w.open(Task::ConfigureDeviceOptions);
    w.down().enter();
    assert_eq!(w.page(), PageId::DeviceWritebackForest);
    insta::assert_snapshot!("device_writeback_forest", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::DeviceContainer);
    w.enter();
    assert_eq!(w.page(), PageId::DeviceContainer, "create needs an admin");
    insta::assert_snapshot!("device_container_invalid", w.screen());
    w.typ("CORP\\admin").tab().typ("Adm1n!").enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let steps: Vec<&ConfigureStep> = w
        .runner
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Configure(s) => Some(s),
            _ => None,
        })
        .collect();
    let [
        ConfigureStep::PrepareDeviceWriteback { login, grant },
        ConfigureStep::WriteConfig { .. },
    ] = steps.as_slice()
    else {
        panic!("{steps:?}")
    };
    assert_eq!(login.username, "CORP\\admin");
    let (account, features) = grant.clone().unwrap();
    assert_eq!(account, "MSOL_0123456789ab@corp.example.com");
    assert!(features.device_writeback);
    let c = w.written();
    assert!(c.features.device_writeback.enabled);
    assert_eq!(
        c.features.device_writeback.forest.as_deref(),
        Some("corp.example.com")
    );

    // Disable: offered now that it is on; the configuration alone changes.
    let text = std::fs::read_to_string(w.path()).unwrap();
    let mut off = Wizard::over(&text, lab);
    off.open(Task::ConfigureDeviceOptions);
    insta::assert_snapshot!("device_options_enabled", off.screen());
    off.downs(2).enter();
    assert_eq!(off.page(), PageId::ReadyToConfigure);
    off.enter();
    assert_eq!(off.page(), PageId::Complete);
    assert!(!off.written().features.device_writeback.enabled);
    assert!(
        !off.runner.effects.iter().any(|e| matches!(
            e,
            Effect::Configure(ConfigureStep::PrepareDeviceWriteback { .. })
        )),
        "disabling touches no forest"
    );
}

#[test]
fn device_writeback_on_the_custom_path_creates_the_containers_before_the_account() {
    let mut w = Wizard::custom_to(lab, PageId::OptionalFeatures);
    w.downs(5).space().enter();
    assert_eq!(w.page(), PageId::DeviceWritebackForest);
    w.enter();
    assert_eq!(w.page(), PageId::DeviceContainer);
    insta::assert_snapshot!("device_container", w.screen());
    // Manual: the exact steps for this forest.
    w.down();
    insta::assert_snapshot!("device_container_manual", w.screen());
    w.up_to_create();
    w.tab().typ("CORP\\ea").tab().typ("Ea-pw").enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    let steps: Vec<&ConfigureStep> = w
        .runner
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Configure(s) => Some(s),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            steps.first(),
            Some(ConfigureStep::PrepareDeviceWriteback { grant: None, login }) if login.username == "CORP\\ea"
        ),
        "{steps:?}"
    );
    assert!(matches!(
        steps.get(1),
        Some(ConfigureStep::CreateConnectorAccount { features, .. }) if features.device_writeback
    ));
    let c = build_config(&w.state);
    assert!(c.features.device_writeback.enabled);
}

impl Wizard {
    /// On the device container page: back to "create".
    fn up_to_create(&mut self) -> &mut Self {
        if self.state.device.container
            == hybridsync::wizard::pages::device_writeback::Container::Manual
        {
            self.key(KeyCode::Up);
        }
        self
    }
}

#[test]
fn device_options_answers_and_their_errors() {
    let text = with_tenant(TEMPLATE);
    let pw_dir = tempfile::tempdir().unwrap();
    let pw = pw_dir.path().join("ea");
    std::fs::write(&pw, "Adm1n!\n").unwrap();
    let hybrid = format!(
        "task = \"configure-device-options\"\n[device_options]\naction = \"hybrid-join\"\ndomain = \"corp.example.com\"\nadmin_username = \"CORP\\\\admin\"\nadmin_password_file = \"{}\"\n",
        pw.display()
    );
    let (r, path, _d) = rerun_answers(&text, &hybrid, scp_lab);
    r.unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), text);

    for (answers_text, key) in [
        (
            hybrid.replace(
                "action = \"hybrid-join\"",
                "action = \"disable-device-writeback\"",
            ),
            "device_options.action",
        ),
        (
            hybrid.replace("domain = \"corp.example.com\"", "domain = \"not a domain\""),
            "device_options.domain",
        ),
        (
            hybrid.replace("admin_username = \"CORP\\\\admin\"\n", ""),
            "device_options.admin_username",
        ),
        (
            format!("{hybrid}tenant_id = \"contoso\"\n")
                .replace("[device_options]\n", "[device_options]\n"),
            "device_options.tenant_id",
        ),
    ] {
        let (r, _, _d) = rerun_answers(&text, &answers_text, scp_lab);
        let e = r.expect_err(&answers_text);
        assert_eq!(e.key, key, "{e}");
    }

    // Device writeback from answers: the same steps as the keys.
    let wb = format!(
        "task = \"configure-device-options\"\n[device_options]\naction = \"device-writeback\"\n[device_writeback]\nadmin_username = \"CORP\\\\admin\"\nadmin_password_file = \"{}\"\n",
        pw.display()
    );
    let mut seen = Vec::new();
    let (r, path, _d) = rerun_answers(TEMPLATE, &wb, |e: &Effect| {
        seen.push(e.clone());
        lab(e)
    });
    r.unwrap();
    assert!(
        hybridsync::config::load(&path)
            .unwrap()
            .config
            .features
            .device_writeback
            .enabled
    );
    assert!(seen.iter().any(|e| matches!(
        e,
        Effect::Configure(ConfigureStep::PrepareDeviceWriteback { grant: Some(_), .. })
    )));
    let (r, _, _d) = rerun_answers(
        TEMPLATE,
        &wb.replace(
            "[device_writeback]\n",
            "[device_writeback]\ncontainer = \"later\"\n",
        ),
        lab,
    );
    assert_eq!(r.unwrap_err().key, "device_writeback.container");
}

#[test]
fn an_account_set_up_by_hand_keeps_its_rights_when_device_writeback_is_configured() {
    let text = TEMPLATE.replace("managed = true", "managed = false");
    assert_ne!(text, TEMPLATE);
    let mut w = Wizard::over(&text, lab);
    w.open(Task::ConfigureDeviceOptions);
    w.down().enter().enter();
    assert_eq!(w.page(), PageId::DeviceContainer);
    w.tab()
        .typ("CORP\\admin")
        .tab()
        .typ("Adm1n!")
        .enter()
        .enter();
    assert_eq!(w.page(), PageId::Complete);
    assert!(
        w.runner.effects.iter().any(|e| matches!(
            e,
            Effect::Configure(ConfigureStep::PrepareDeviceWriteback { grant: None, .. })
        )),
        "{:?}",
        w.runner.effects
    );
}

/// The template with a second forest.
fn two_forests() -> String {
    format!(
        "{}\n[[directories]]\nforest = \"fabrikam.example\"\ndomain_controllers = [\"dc1.fabrikam.example\"]\n[directories.account]\nusername = \"MSOL_ba9876543210@fabrikam.example\"\nsecret_ref = \"store:ad-connector-fabrikam.example\"\n",
        with_tenant(TEMPLATE)
    )
}

#[test]
fn hybrid_join_writes_one_scp_per_forest_chosen_on_the_page_or_in_the_answers() {
    let mut w = Wizard::over(&two_forests(), scp_lab);
    w.open(Task::ConfigureDeviceOptions).enter();
    assert_eq!(w.page(), PageId::HybridJoin);
    w.key(KeyCode::BackTab).space();
    insta::assert_snapshot!("hybrid_join_two_forests", w.screen());
    w.tab()
        .tab()
        .tab()
        .typ("FABRIKAM\\ea")
        .tab()
        .typ("pw")
        .enter();
    let forests: Vec<(String, Vec<String>)> = w
        .runner
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::ConfigureScp { login, .. } => {
                Some((login.forest.clone(), login.domain_controllers.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        forests,
        vec![(
            "fabrikam.example".to_string(),
            vec!["dc1.fabrikam.example".to_string()]
        )]
    );

    let pw_dir = tempfile::tempdir().unwrap();
    let pw = pw_dir.path().join("ea");
    std::fs::write(&pw, "pw\n").unwrap();
    let answers_text = |forest: &str| {
        format!(
            "task = \"configure-device-options\"\n[device_options]\naction = \"hybrid-join\"\nforest = \"{forest}\"\ndomain = \"fabrikam.example\"\nadmin_username = \"FABRIKAM\\\\ea\"\nadmin_password_file = \"{}\"\n",
            pw.display()
        )
    };
    let mut seen = Vec::new();
    let (r, _, _d) = rerun_answers(
        &two_forests(),
        &answers_text("FABRIKAM.example"),
        |e: &Effect| {
            seen.push(e.clone());
            scp_lab(e)
        },
    );
    r.unwrap();
    assert!(seen.iter().any(
        |e| matches!(e, Effect::ConfigureScp { login, .. } if login.forest == "fabrikam.example")
    ));
    let (r, _, _d) = rerun_answers(&two_forests(), &answers_text("nowhere.example"), scp_lab);
    assert_eq!(r.unwrap_err().key, "device_options.forest");
}

#[test]
fn a_refused_device_container_step_stops_configure_with_its_fix() {
    let mut w = Wizard::over(TEMPLATE, |e: &Effect| match e {
        Effect::Configure(ConfigureStep::PrepareDeviceWriteback { .. }) => {
            vec![Reply::Step(Err(Failure::new(
                "cannot create the device writeback containers: insufficient access (50)",
                "sign in with an Enterprise Admin of the forest, then retry",
            )))]
        }
        other => lab(other),
    });
    w.open(Task::ConfigureDeviceOptions);
    w.down().enter().enter();
    w.tab().typ("CORP\\someone").tab().typ("pw").enter().enter();
    assert_eq!(w.page(), PageId::Configure);
    insta::assert_snapshot!("device_container_step_failed", w.screen());
    assert!(
        !w.runner
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Configure(ConfigureStep::WriteConfig { .. }))),
        "nothing written after the failure"
    );
    assert_eq!(std::fs::read_to_string(w.path()).unwrap(), TEMPLATE);
}

#[test]
fn the_switch_can_write_object_guids_into_the_consistency_guid_with_an_admin() {
    let mut w = Wizard::over(&object_guid_anchor(), anchor_lab(Ok(GuidsInUse::default())));
    w.open(Task::ConfigureSourceAnchor);
    w.space().enter();
    assert_eq!(
        w.page(),
        PageId::ConfigureSourceAnchor,
        "the admin is missing"
    );
    insta::assert_snapshot!("source_anchor_stamp_invalid", w.screen());
    w.typ("CORP\\da").tab().typ("Da-pw").enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    let steps: Vec<&ConfigureStep> = w
        .runner
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Configure(s) => Some(s),
            _ => None,
        })
        .collect();
    let [
        ConfigureStep::StampConsistencyGuids { searches, features },
        ConfigureStep::WriteConfig { config, .. },
    ] = steps.as_slice()
    else {
        panic!("{steps:?}")
    };
    assert!(features.consistency_guid_anchor, "the right to write it");
    assert_eq!(searches.len(), 1);
    let (search, account) = &searches[0];
    assert_eq!(search.login.username, "CORP\\da");
    let LoginSecret::Given(pw) = &search.login.password else {
        panic!()
    };
    assert_eq!(pw.expose(), "Da-pw");
    assert_eq!(search.bases, vec![dn("DC=corp,DC=example,DC=com")]);
    assert_eq!(
        account.as_deref(),
        Some("MSOL_0123456789ab@corp.example.com")
    );
    assert_eq!(
        config.identity.source_anchor.as_str(),
        "mS-DS-ConsistencyGuid"
    );

    // The same from answers; a missing admin is named.
    let pw_dir = tempfile::tempdir().unwrap();
    let pw = pw_dir.path().join("da");
    std::fs::write(&pw, "Da-pw\n").unwrap();
    let text = format!(
        "task = \"configure-source-anchor\"\n[source_anchor]\nwrite_from_object_guid = true\nadmin_username = \"CORP\\\\da\"\nadmin_password_file = \"{}\"\n",
        pw.display()
    );
    let mut seen = Vec::new();
    let (r, _, _d) = rerun_answers(&object_guid_anchor(), &text, |e: &Effect| {
        seen.push(e.clone());
        anchor_lab(Ok(GuidsInUse::default()))(e)
    });
    r.unwrap();
    assert!(seen.iter().any(|e| matches!(
        e,
        Effect::Configure(ConfigureStep::StampConsistencyGuids { .. })
    )));
    let (r, _, _d) = rerun_answers(
        &object_guid_anchor(),
        &text.replace("admin_username = \"CORP\\\\da\"\n", ""),
        anchor_lab(Ok(GuidsInUse::default())),
    );
    assert_eq!(r.unwrap_err().key, "source_anchor.admin_username");
}
