//! The wizard's app and attribute filtering, device options and source anchor pages without a
//! terminal: scripted key flows against a fake effects runner (the configuration produced and
//! the effects requested), the same answers through `--answers` (and their errors, which name
//! the key), the rerun tasks over a written configuration, and render snapshots of every page and
//! its error states at 80x24.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};

use hybridsync::config::Config;
use hybridsync::config::model::CloudApp;
use hybridsync::credentials::SecretRef;
use hybridsync::domain::{Dn, ObjectGuid};
use hybridsync::effects::{
    CheckResult, CheckStatus, ConfigureStep, Effect, FakeRunner, ForestDomain, ForestInfo, OuEntry,
    Reply, Runner, StepOutput, TenantDomain, TenantInfo,
};
use hybridsync::wizard::answers;
use hybridsync::wizard::app::{Message, PageId, State, build_config, update};
use hybridsync::wizard::keys::press;
use hybridsync::wizard::theme::Theme;
use hybridsync::wizard::ui::{Styles, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

const CONFIG: &str = "/etc/hybridsync/hybridsync.toml";
const STATE_DIR: &str = "/var/lib/hybridsync";
const TEMPLATE: &str = include_str!("../templates/hybridsync.toml");

fn dn(s: &str) -> Dn {
    Dn::parse(s).unwrap()
}

fn guid(n: u8) -> ObjectGuid {
    ObjectGuid::from_bytes(&[n; 16]).unwrap()
}

fn tenant() -> TenantInfo {
    TenantInfo {
        tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        initial_domain: "contoso.onmicrosoft.com".into(),
        admin: "admin@contoso.onmicrosoft.com".into(),
        domains: vec![
            TenantDomain {
                name: "contoso.onmicrosoft.com".into(),
                verified: true,
            },
            TenantDomain {
                name: "corp.example.com".into(),
                verified: true,
            },
        ],
    }
}

fn forest() -> ForestInfo {
    ForestInfo {
        forest: "corp.example.com".into(),
        domains: vec![ForestDomain {
            name: "corp.example.com".into(),
            naming_context: dn("DC=corp,DC=example,DC=com"),
        }],
        upn_suffixes: vec!["corp.example.com".into()],
        exchange_schema: false,
    }
}

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

    fn send(&mut self, msg: Message) {
        for e in update(&mut self.state, msg) {
            self.runner.run(e);
        }
        while let Some(r) = self.runner.next_reply() {
            for e in update(&mut self.state, Message::Reply(r)) {
                self.runner.run(e);
            }
        }
    }

    fn key(&mut self, code: KeyCode) -> &mut Self {
        self.send(Message::Key(press(code)));
        self
    }

    fn enter(&mut self) -> &mut Self {
        self.key(KeyCode::Enter)
    }

    fn tab(&mut self) -> &mut Self {
        self.key(KeyCode::Tab)
    }

    fn down(&mut self) -> &mut Self {
        self.key(KeyCode::Down)
    }

    fn downs(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.down();
        }
        self
    }

    fn space(&mut self) -> &mut Self {
        self.key(KeyCode::Char(' '))
    }

    fn typ(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
        self
    }

    fn page(&self) -> PageId {
        self.state.page
    }

    fn screen(&self) -> String {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let styles = Styles::from_theme(&Theme::default());
        t.draw(|f| draw(f, &self.state, &styles)).unwrap();
        let shown = self.path().display().to_string();
        t.backend().to_string().replace(&shown, CONFIG)
    }

    /// The Custom path up to `page`, pressing Enter on every page before it.
    fn custom_to(script: impl FnMut(&Effect) -> Vec<Reply> + 'static, page: PageId) -> Self {
        let mut w = Wizard::new(script);
        w.space().enter(); // Welcome: agree
        w.enter(); // Prerequisites
        w.down().enter(); // Customize
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
