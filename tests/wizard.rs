//! The wizard without a terminal: scripted key flows through the Express and Custom paths against
//! a fake effects runner (asserting the effects requested and the configuration produced), and a
//! render snapshot of every page and its error states at 80x24 (TestBackend + insta; the `.snap`
//! files are committed under `tests/snapshots/`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

#[path = "support/wizard_driver.rs"]
mod wizard_driver;

use std::path::PathBuf;
use wizard_driver::{Keys, dn, forest, guid, pump, render, tenant};

use hybridsync::config::model::{ScopeMode, SignInMethod, TlsMode, UserMatching};
use hybridsync::credentials::SecretRef;
use hybridsync::domain::AttributeName;
use hybridsync::effects::{
    CheckResult, CheckStatus, ConfigureStep, Effect, ExtensionCandidate, ExtensionClass, Failure,
    FakeRunner, ForestInfo, GroupEntry, OuEntry, Reply, StepOutput, TenantDomain,
};
use hybridsync::wizard::app::{InstallPath, Message, PageId, Quit, State, build_config};
use hybridsync::wizard::theme::Theme;
use hybridsync::wizard::ui::{Styles, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

const CONFIG: &str = "/etc/hybridsync/hybridsync.toml";
const CLIENT_ID: &str = "3f1b2a4c-5d6e-4f70-8192-a3b4c5d6e7f8";

fn ou(s: &str, n: u8, has_children: bool) -> OuEntry {
    OuEntry {
        dn: dn(s),
        guid: Some(guid(n)),
        has_children,
    }
}

/// The forest's directory extension candidates (more than the picker shows at once).
fn candidates() -> Vec<ExtensionCandidate> {
    let cand = |class, name: &str, kind| ExtensionCandidate {
        class,
        name: AttributeName::new(name).unwrap(),
        kind,
    };
    let mut v = vec![
        cand(ExtensionClass::User, "department", "str"),
        cand(ExtensionClass::User, "employeeID", "str"),
        cand(ExtensionClass::User, "employeeNumber", "str"),
        cand(ExtensionClass::User, "employeeType", "str"),
        cand(ExtensionClass::User, "extensionAttribute1", "str"),
        cand(ExtensionClass::User, "extensionAttribute2", "str"),
        cand(ExtensionClass::User, "info", "str"),
        cand(ExtensionClass::User, "msDS-cloudExtensionAttribute1", "str"),
        cand(ExtensionClass::User, "preferredLanguage", "str"),
        cand(ExtensionClass::User, "shoeSize", "num"),
        cand(ExtensionClass::Group, "info", "str"),
        cand(ExtensionClass::Group, "isPublic", "bool"),
    ];
    v.sort();
    v
}

/// The lab: every effect succeeds.
fn lab(e: &Effect) -> Vec<Reply> {
    match e {
        Effect::CheckPrerequisites { .. } => vec![Reply::Prerequisites(vec![
            CheckResult {
                name: "Configuration directory is writable".into(),
                status: CheckStatus::Pass,
                detail: "/etc/hybridsync".into(),
                fix: String::new(),
            },
            CheckResult {
                name: "State directory is writable".into(),
                status: CheckStatus::Pass,
                detail: "/var/lib/hybridsync".into(),
                fix: String::new(),
            },
        ])],
        Effect::SignInDeviceCode => vec![
            Reply::DeviceCode {
                verification_uri: "https://microsoft.com/devicelogin".into(),
                user_code: "FQK7-ZP2M".into(),
            },
            Reply::SignedIn(tenant()),
        ],
        Effect::RefreshTenantDomains => vec![Reply::TenantDomains(Ok(tenant().domains))],
        Effect::TestAdBind { .. } => vec![Reply::Forest(Ok(forest()))],
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
        Effect::FindGroups { .. } => vec![Reply::Groups(Ok(vec![
            GroupEntry {
                dn: dn("CN=Pilot Users,OU=Staff,DC=corp,DC=example,DC=com"),
                guid: Some(guid(9)),
                members: 12,
            },
            GroupEntry {
                dn: dn("CN=Pilot Admins,OU=Staff,DC=corp,DC=example,DC=com"),
                guid: Some(guid(10)),
                members: 3,
            },
        ]))],
        Effect::Configure(step) => vec![Reply::Step(Ok(match step {
            ConfigureStep::CreateConnectorAccount { secret_name, .. } => {
                StepOutput::ConnectorAccount {
                    username: "MSOL_0123456789ab@corp.example.com".into(),
                    secret_ref: SecretRef::Store(secret_name.clone()),
                }
            }
            ConfigureStep::StoreSecret { .. } | ConfigureStep::UseStateDir { .. } => {
                StepOutput::Done
            }
            ConfigureStep::RegisterApplication => StepOutput::Application {
                client_id: CLIENT_ID.into(),
                certificate_ref: SecretRef::Store("entra-app-certificate".into()),
            },
            ConfigureStep::WriteConfig { path, .. } => StepOutput::Written(path.clone()),
            ConfigureStep::StartFirstCycle => {
                StepOutput::Cycle("First cycle: 42 objects imported, 42 exported".into())
            }
            // Device writeback (tests/wizard_features.rs).
            ConfigureStep::PrepareDeviceWriteback { .. } => StepOutput::Done,
            ConfigureStep::StampConsistencyGuids { .. } => StepOutput::Stamped(0),
        }))],
        Effect::ListExtensionAttributes { forest } => vec![Reply::ExtensionAttributes {
            forest: forest.clone(),
            result: Ok(candidates()),
        }],
        Effect::Cancel(_) => vec![],
        Effect::CheckAccountRights { forest, .. } => vec![Reply::AccountRights {
            forest: forest.clone(),
            result: Ok(hybridsync::effects::AccountRights::default()),
        }],
        Effect::CheckInstallOptions {
            state_dir,
            service_user,
            import,
        } => vec![Reply::InstallOptions {
            state_dir: state_dir
                .as_ref()
                .map(|d| hybridsync::effects::check_state_dir(d)),
            service_user: service_user.as_ref().map(|u| match u.as_str() {
                "svc-sync" => Ok("uid 998, home /var/lib/svc-sync".to_string()),
                other => Err(Failure::new(
                    format!("there is no local user \"{other}\" in /etc/passwd"),
                    "create it first",
                )),
            }),
            import: import.as_ref().map(|p| {
                std::fs::read_to_string(p)
                    .map_err(|e| Failure::new(format!("cannot read {}: {e}", p.display()), "x"))
                    .and_then(|json| hybridsync::effects::parse_export(p, &json))
                    .map(Box::new)
            }),
        }],
        // Rerun-only effects (tests/wizard_rerun.rs).
        other @ (Effect::CountPendingExports { .. }
        | Effect::ExportConfiguration { .. }
        | Effect::RunPreflight { .. }
        // Rerun forest tasks (tests/wizard_features.rs).
        | Effect::FindConsistencyGuids { .. }
        | Effect::ConfigureScp { .. }) => vec![Reply::NotConnected(other.clone())],
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
    fn new(script: impl FnMut(&Effect) -> Vec<Reply> + 'static) -> Self {
        Self {
            state: State::new(PathBuf::from(CONFIG), PathBuf::from("/var/lib/hybridsync")),
            runner: FakeRunner::new(script),
        }
    }

    fn page(&self) -> PageId {
        self.state.page
    }

    fn screen(&self) -> String {
        render(&self.state)
    }

    /// Welcome → Prerequisites → Express Settings.
    fn reach_express_settings(&mut self) -> &mut Self {
        self.space().enter(); // agree, continue
        assert_eq!(self.page(), PageId::Prerequisites);
        self.enter();
        assert_eq!(self.page(), PageId::ExpressSettings);
        self
    }

    /// ... → Customize → Install required components (Custom only).
    fn reach_install_components(&mut self) -> &mut Self {
        self.reach_express_settings();
        self.down().enter();
        assert_eq!(self.page(), PageId::InstallComponents);
        self
    }

    /// ... → Customize → Install required components (nothing ticked) → User sign-in.
    fn reach_user_sign_in(&mut self) -> &mut Self {
        self.reach_install_components();
        self.enter();
        assert_eq!(self.page(), PageId::UserSignIn);
        self
    }

    /// ... → signed in on Connect to Entra ID → Connect your directories.
    fn reach_directories(&mut self, custom: bool) -> &mut Self {
        if custom {
            self.reach_user_sign_in();
        } else {
            self.reach_express_settings();
        }
        self.enter();
        assert_eq!(self.page(), PageId::ConnectToEntra);
        self.enter();
        assert_eq!(self.page(), PageId::ConnectDirectories);
        self
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

// ---------------------------------------------------------------- flows

#[test]
fn express_path_creates_the_account_and_writes_a_valid_config() {
    let mut w = Wizard::new(lab);
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\administrator")
        .tab()
        .typ("P@ssw0rd!")
        .enter();
    // Every suffix is verified: Express skips the UPN page.
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );
    w.enter();
    assert_eq!(w.page(), PageId::Complete);

    let effects = &w.runner.effects;
    assert!(matches!(effects[0], Effect::CheckPrerequisites { .. }));
    assert_eq!(effects[1], Effect::SignInDeviceCode);
    match &effects[2] {
        Effect::TestAdBind {
            forest,
            username,
            password,
            tls,
            domain_controllers,
        } => {
            assert_eq!(forest, "corp.example.com");
            assert_eq!(username, "CORP\\administrator");
            assert_eq!(password.expose(), "P@ssw0rd!");
            assert_eq!(*tls, TlsMode::Ldaps);
            assert!(domain_controllers.is_empty());
        }
        other => panic!("expected a bind, got {other:?}"),
    }
    let steps = configure_steps(effects);
    assert_eq!(steps.len(), 4, "{steps:?}");
    match steps[0] {
        ConfigureStep::CreateConnectorAccount {
            forest,
            admin_username,
            admin_password,
            secret_name,
            features,
        } => {
            // Express: password hash sync and mS-DS-ConsistencyGuid as the anchor.
            assert!(features.password_hash_sync && features.consistency_guid_anchor);
            assert_eq!(forest, "corp.example.com");
            assert_eq!(admin_username, "CORP\\administrator");
            assert_eq!(admin_password.expose(), "P@ssw0rd!");
            assert_eq!(secret_name, "ad-corp.example.com");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(*steps[1], ConfigureStep::RegisterApplication);
    let ConfigureStep::WriteConfig { config, path } = steps[2] else {
        panic!("{:?}", steps[2]);
    };
    assert_eq!(*steps[3], ConfigureStep::StartFirstCycle);
    assert_eq!(path, &PathBuf::from(CONFIG));

    // The written configuration: what Express means, and nothing of the admin's credentials.
    assert_eq!(
        config.install.mode,
        hybridsync::config::model::InstallMode::Express
    );
    assert_eq!(
        config.tenant.tenant_id,
        "72f988bf-86f1-41af-91ab-2d7cd011db47"
    );
    assert_eq!(config.tenant.application.client_id, CLIENT_ID);
    assert_eq!(
        config.tenant.application.certificate_ref,
        Some(SecretRef::Store("entra-app-certificate".into()))
    );
    assert_eq!(config.directories.len(), 1);
    let d = &config.directories[0];
    assert_eq!(d.forest, "corp.example.com");
    assert_eq!(d.account.username, "MSOL_0123456789ab@corp.example.com");
    assert!(d.account.managed);
    assert_eq!(
        d.account.secret_ref,
        SecretRef::Store("ad-corp.example.com".into())
    );
    assert_eq!(d.scope.mode, ScopeMode::All);
    assert!(d.pilot_group.is_none());
    assert_eq!(
        config.identity.source_anchor.as_str(),
        "mS-DS-ConsistencyGuid"
    );
    assert!(config.sync.scheduler_enabled);
    assert!(!config.sync.staging_mode);
    let text = hybridsync::config::save::render_new(config).unwrap();
    assert!(!text.contains("P@ssw0rd!"));
    assert!(!text.contains("administrator"));
    // The config the wizard writes loads without errors.
    hybridsync::config::parse(&text).unwrap();
    assert_eq!(*config.as_ref(), build_config(&w.state));
}

/// The Custom path through every page by keys (shared with the unattended comparison).
fn custom_flow() -> Wizard {
    let mut w = Wizard::new(lab);
    w.reach_user_sign_in();
    assert_eq!(w.state.path, InstallPath::Custom);
    // Pass-through authentication with Seamless single sign-on (the checkbox after the methods).
    w.down().space();
    for _ in 0..4 {
        w.down();
    }
    w.space().enter();
    assert_eq!(w.page(), PageId::ConnectToEntra);
    w.enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    // forest, DCs, TLS (StartTLS), account mode (existing), user, password
    w.typ("corp.example.com")
        .tab()
        .typ("dc1.corp.example.com, dc2.corp.example.com:389")
        .tab()
        .space()
        .tab()
        .space()
        .tab()
        .typ("svc-sync@corp.example.com")
        .tab()
        .typ("s3cret-Sync")
        .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    // UPN attribute: mail
    w.space().enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    // The tree loaded the domain's first level lazily.
    assert!(w.runner.effects.iter().any(|e| matches!(e,
        Effect::ListOus { parent, .. } if parent.to_string() == "DC=corp,DC=example,DC=com")));
    // Select "Sync selected", open Sales, clear EMEA, clear CN=Users.
    w.down().space(); // cursor 1: selected
    w.down(); // domain root
    w.down(); // Sales
    w.key(KeyCode::Right); // loads Sales' children
    w.down().space(); // EMEA cleared
    w.down().space().down().space().down().space(); // Americas, Staff, Users cleared
    assert_eq!(
        hybridsync::wizard::pages::ou_filtering::check(
            &w.state.ous,
            &dn("OU=Sales,DC=corp,DC=example,DC=com")
        ),
        hybridsync::wizard::ui::Check::Partial
    );
    w.enter();
    assert_eq!(w.page(), PageId::IdentifyingUsers);
    // Source anchor: objectGUID
    w.tab().space().enter();
    assert_eq!(w.page(), PageId::FilterUsersAndDevices);
    // Pilot group
    w.space().tab().typ("Pilot").ctrl('f');
    w.down().space().enter();
    assert_eq!(w.page(), PageId::OptionalFeatures);
    // Device writeback and directory extensions.
    for _ in 0..5 {
        w.down();
    }
    w.space().down().space().enter();
    assert_eq!(
        w.page(),
        PageId::DirectoryExtensions,
        "{:?}",
        w.state.features.errors
    );
    // The picker read the forest's schema; two attributes chosen through the filter.
    assert!(w.runner.effects.iter().any(|e| matches!(e,
        Effect::ListExtensionAttributes { forest } if forest == "corp.example.com")));
    w.typ("EMPLOYEEID").space();
    for _ in 0.."EMPLOYEEID".len() {
        w.key(KeyCode::Backspace);
    }
    w.typ("group.in").space().enter();
    // Device writeback: the connected forest; the admin prepares it by hand.
    assert_eq!(w.page(), PageId::DeviceWritebackForest);
    w.enter();
    assert_eq!(w.page(), PageId::DeviceContainer);
    w.down().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    // Staging on, no first cycle.
    w.space().tab().space();
    assert!(w.state.ready.problems.is_empty());
    w.enter();
    assert_eq!(w.page(), PageId::Complete);
    w
}

#[test]
fn custom_path_every_page_maps_to_the_config() {
    let w = custom_flow();

    let steps = configure_steps(&w.runner.effects);
    assert_eq!(steps.len(), 3, "{steps:?}");
    match steps[0] {
        ConfigureStep::StoreSecret { name, secret } => {
            assert_eq!(name, "ad-corp.example.com");
            assert_eq!(secret.expose(), "s3cret-Sync");
        }
        other => panic!("{other:?}"),
    }
    let ConfigureStep::WriteConfig { config, .. } = steps[2] else {
        panic!()
    };
    let c = config.as_ref();
    assert_eq!(
        c.install.mode,
        hybridsync::config::model::InstallMode::Custom
    );
    assert_eq!(c.sign_in.upn_attribute.as_str(), "mail");
    assert_eq!(c.sign_in.method, SignInMethod::PassThrough);
    assert!(c.sign_in.single_sign_on);
    assert_eq!(c.features.password_hash_sync.enabled, None);
    assert_eq!(c.identity.source_anchor.as_str(), "objectGUID");
    assert_eq!(c.identity.user_matching, UserMatching::Once);
    let d = &c.directories[0];
    assert_eq!(
        d.domain_controllers,
        vec!["dc1.corp.example.com", "dc2.corp.example.com:389"]
    );
    assert_eq!(d.tls.mode, TlsMode::Starttls);
    assert_eq!(d.account.username, "svc-sync@corp.example.com");
    assert!(!d.account.managed);
    assert_eq!(d.scope.mode, ScopeMode::Selected);
    let dns = |v: &[hybridsync::config::model::ObjectRef]| {
        v.iter().map(|o| o.dn.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(dns(&d.scope.include), vec!["DC=corp,DC=example,DC=com"]);
    let mut excluded = dns(&d.scope.exclude);
    excluded.sort();
    assert_eq!(
        excluded,
        vec![
            "CN=Users,DC=corp,DC=example,DC=com",
            "OU=Americas,OU=Sales,DC=corp,DC=example,DC=com",
            "OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com",
            "OU=Staff,DC=corp,DC=example,DC=com",
        ]
    );
    assert!(d.scope.exclude.iter().all(|o| o.guid.is_some()));
    let pilot = d.pilot_group.as_ref().unwrap();
    assert_eq!(
        pilot.dn.to_string(),
        "CN=Pilot Users,OU=Staff,DC=corp,DC=example,DC=com"
    );
    assert_eq!(pilot.guid, Some(guid(9)));
    assert!(c.features.device_writeback.enabled);
    assert!(c.features.directory_extensions.enabled);
    assert_eq!(
        c.features.directory_extensions.attributes,
        vec!["user.employeeID", "group.info"]
    );
    assert!(c.sync.staging_mode);
    assert!(!c.sync.scheduler_enabled);
    let text = hybridsync::config::save::render_new(c).unwrap();
    assert!(!text.contains("s3cret-Sync"));
    hybridsync::config::parse(&text).unwrap();
}

#[test]
fn back_keeps_answers_and_esc_asks_before_quitting() {
    let mut w = Wizard::new(lab);
    w.reach_directories(false);
    w.typ("corp.example.com");
    w.ctrl('b');
    assert_eq!(w.page(), PageId::ConnectToEntra);
    w.ctrl('b');
    assert_eq!(w.page(), PageId::ExpressSettings);
    w.enter().enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    assert_eq!(w.state.directories.forest.text(), "corp.example.com");
    // Signed in once: going back and forth does not sign in again.
    let sign_ins = w
        .runner
        .effects
        .iter()
        .filter(|e| **e == Effect::SignInDeviceCode)
        .count();
    assert_eq!(sign_ins, 1);

    w.key(KeyCode::Esc);
    assert_eq!(w.state.quit, Quit::Asking);
    w.key(KeyCode::Char('n'));
    assert_eq!(w.state.quit, Quit::No);
    assert_eq!(w.state.directories.forest.text(), "corp.example.com");
    w.key(KeyCode::Esc).key(KeyCode::Char('y'));
    assert_eq!(w.state.quit, Quit::Done);
    assert!(
        configure_steps(&w.runner.effects).is_empty(),
        "nothing written"
    );
}

#[test]
fn ctrl_c_leaves_at_once_and_cancels_a_waiting_sign_in() {
    let mut w = Wizard::new(|e| match e {
        Effect::SignInDeviceCode => vec![Reply::DeviceCode {
            verification_uri: "https://microsoft.com/devicelogin".into(),
            user_code: "FQK7-ZP2M".into(),
        }],
        other => lab(other),
    });
    w.reach_express_settings().enter();
    w.ctrl('c');
    assert_eq!(w.state.quit, Quit::Done);
    assert_eq!(
        w.runner.effects.last(),
        Some(&Effect::Cancel(hybridsync::effects::EffectKind::SignIn))
    );
}

#[test]
fn configure_stops_at_the_first_failure_and_retries_from_there() {
    let mut fail_once = true;
    let mut w = Wizard::new(move |e| match e {
        Effect::Configure(ConfigureStep::RegisterApplication) if fail_once => {
            fail_once = false;
            vec![Reply::Step(Err(Failure::new(
                "the signed-in account may not register applications",
                "sign in as a Hybrid Identity Administrator or Global Administrator",
            )))]
        }
        other => lab(other),
    });
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter();
    w.enter();
    assert_eq!(w.page(), PageId::Configure);
    let before = configure_steps(&w.runner.effects).len();
    assert_eq!(before, 2, "stopped after the failed step");
    insta::assert_snapshot!("configure_failed", w.screen());
    w.ctrl('r');
    assert_eq!(w.page(), PageId::Complete);
    let steps = configure_steps(&w.runner.effects);
    assert!(matches!(
        steps[0],
        ConfigureStep::CreateConnectorAccount { .. }
    ));
    assert_eq!(*steps[1], ConfigureStep::RegisterApplication);
    assert_eq!(*steps[2], ConfigureStep::RegisterApplication);
    assert_eq!(
        steps
            .iter()
            .filter(|s| matches!(s, ConfigureStep::CreateConnectorAccount { .. }))
            .count(),
        1,
        "the account is not created twice"
    );
}

#[test]
fn not_connected_effects_fail_honestly() {
    let mut w = Wizard::new(|e| match e {
        Effect::CheckPrerequisites { .. } => lab(e),
        other => vec![Reply::NotConnected(other.clone())],
    });
    w.reach_express_settings().enter();
    assert_eq!(w.page(), PageId::ConnectToEntra);
    w.enter();
    assert_eq!(
        w.page(),
        PageId::ConnectToEntra,
        "cannot continue without a tenant"
    );
    insta::assert_snapshot!("connect_to_entra_not_connected", w.screen());
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshots_welcome() {
    let mut w = Wizard::new(lab);
    insta::assert_snapshot!("welcome", w.screen());
    w.enter();
    insta::assert_snapshot!("welcome_must_agree", w.screen());
}

#[test]
fn snapshots_prerequisites() {
    let mut w = Wizard::new(|_| vec![]);
    w.space().enter();
    insta::assert_snapshot!("prerequisites_running", w.screen());
    let mut w = Wizard::new(lab);
    w.space().enter();
    insta::assert_snapshot!("prerequisites_passed", w.screen());
    let mut w = Wizard::new(|e| match e {
        Effect::CheckPrerequisites { .. } => vec![Reply::Prerequisites(vec![
            CheckResult {
                name: "Configuration directory is writable".into(),
                status: CheckStatus::Fail,
                detail: "/etc/hybridsync: Permission denied (os error 13)".into(),
                fix: "run the wizard as root, or point --config at a directory you own".into(),
            },
            CheckResult {
                name: "Directory and tenant reachability".into(),
                status: CheckStatus::Warn,
                detail: "not checked".into(),
                fix: "run 'hybridsync preflight'".into(),
            },
        ])],
        _ => vec![],
    });
    w.space().enter().enter();
    assert_eq!(w.page(), PageId::Prerequisites, "a failed check blocks");
    insta::assert_snapshot!("prerequisites_failed", w.screen());
}

#[test]
fn snapshots_express_settings() {
    let mut w = Wizard::new(lab);
    w.reach_express_settings();
    insta::assert_snapshot!("express_settings", w.screen());
    w.down();
    insta::assert_snapshot!("express_settings_customize", w.screen());
}

#[test]
fn snapshots_connect_to_entra() {
    let mut w = Wizard::new(|e| match e {
        Effect::SignInDeviceCode => vec![Reply::DeviceCode {
            verification_uri: "https://microsoft.com/devicelogin".into(),
            user_code: "FQK7-ZP2M".into(),
        }],
        other => lab(other),
    });
    w.reach_express_settings().enter();
    insta::assert_snapshot!("connect_to_entra_device_code", w.screen());
    let mut w = Wizard::new(lab);
    w.reach_express_settings().enter();
    insta::assert_snapshot!("connect_to_entra_signed_in", w.screen());
    let mut w = Wizard::new(|e| match e {
        Effect::SignInDeviceCode => vec![Reply::SignInFailed(Failure::new(
            "the sign-in code expired before it was used",
            "press Ctrl+R and enter the new code within 15 minutes",
        ))],
        other => lab(other),
    });
    w.reach_express_settings().enter();
    insta::assert_snapshot!("connect_to_entra_failed", w.screen());
}

#[test]
fn snapshots_user_sign_in() {
    let mut w = Wizard::new(lab);
    w.reach_user_sign_in();
    insta::assert_snapshot!("user_sign_in", w.screen());
    // Do not configure: selectable on the first run; single sign-on greyed with the reason.
    for _ in 0..4 {
        w.down();
    }
    w.space();
    assert_eq!(w.state.user_sign_in.method, SignInMethod::DoNotConfigure);
    w.down().space(); // the single sign-on box refuses
    assert!(!w.state.user_sign_in.single_sign_on);
    insta::assert_snapshot!("user_sign_in_do_not_configure", w.screen());
    // Single sign-on on with PHS, then AD FS clears it and warns about the outside parts.
    w.down().space(); // wraps to password hash sync
    w.key(KeyCode::Up).space(); // wraps to the single sign-on box
    assert!(w.state.user_sign_in.single_sign_on);
    w.key(KeyCode::Up).key(KeyCode::Up).key(KeyCode::Up).space();
    assert_eq!(w.state.user_sign_in.method, SignInMethod::FederationAdfs);
    assert!(!w.state.user_sign_in.single_sign_on);
    insta::assert_snapshot!("user_sign_in_federation", w.screen());
    // Back and forward again keeps the choice.
    w.ctrl('b');
    assert_eq!(w.page(), PageId::InstallComponents);
    w.ctrl('b');
    assert_eq!(w.page(), PageId::ExpressSettings);
    w.enter().enter();
    assert_eq!(w.page(), PageId::UserSignIn);
    assert_eq!(w.state.user_sign_in.method, SignInMethod::FederationAdfs);
}

#[test]
fn user_sign_in_reaches_the_config_and_express_skips_it() {
    // Do not configure, by keys: the configuration says so, and Optional features shows
    // password hash synchronization off.
    let mut w = Wizard::new(lab);
    w.reach_user_sign_in();
    for _ in 0..4 {
        w.down();
    }
    w.space();
    let c = build_config(&w.state);
    assert_eq!(c.sign_in.method, SignInMethod::DoNotConfigure);
    assert!(!c.sign_in.single_sign_on);
    let mut w = to_custom_page(PageId::OptionalFeatures);
    assert!(w.screen().contains("On: it is the sign-in method"));
    w.state.user_sign_in.method = SignInMethod::PassThrough;
    assert!(w.screen().contains("Off: another sign-in method"));
    // Express: the page is not in the sequence and the default method stays.
    let mut e = Wizard::new(lab);
    e.reach_express_settings().enter();
    assert_eq!(e.page(), PageId::ConnectToEntra);
    assert!(!hybridsync::wizard::app::sequence(&e.state).contains(&PageId::UserSignIn));
    assert_eq!(
        build_config(&e.state).sign_in.method,
        SignInMethod::PasswordHashSync
    );
}

#[test]
fn snapshots_connect_directories() {
    let mut w = Wizard::new(lab);
    w.reach_directories(false);
    insta::assert_snapshot!("connect_directories_express", w.screen());
    w.typ("not a domain").tab().typ("administrator").enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    insta::assert_snapshot!("connect_directories_invalid", w.screen());

    let mut w = Wizard::new(|e| match e {
        Effect::TestAdBind { .. } => vec![Reply::Forest(Err(Failure::new(
            "invalid credentials (LDAP result 49, data 52e)",
            "check the account name and password; the account must not be locked out",
        )))],
        other => lab(other),
    });
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\administrator")
        .tab()
        .typ("wrong")
        .enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    insta::assert_snapshot!("connect_directories_bind_failed", w.screen());
    assert!(!w.screen().contains("wrong"), "passwords are masked");

    let mut w = Wizard::new(lab);
    w.reach_directories(true);
    insta::assert_snapshot!("connect_directories_custom", w.screen());
}

fn unverified(e: &Effect) -> Vec<Reply> {
    match e {
        Effect::TestAdBind { .. } => {
            let mut f = forest();
            f.upn_suffixes = vec![
                "corp.example.com".into(),
                "example.org".into(),
                "corp.local".into(),
            ];
            vec![Reply::Forest(Ok(f))]
        }
        Effect::SignInDeviceCode => {
            let mut t = tenant();
            t.domains.push(TenantDomain {
                name: "example.org".into(),
                verified: false,
            });
            vec![Reply::SignedIn(t)]
        }
        other => lab(other),
    }
}

#[test]
fn snapshots_upn_suffixes_and_express_shows_it_only_when_needed() {
    let mut w = Wizard::new(unverified);
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    insta::assert_snapshot!("upn_suffixes", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::UpnSuffixes);
    insta::assert_snapshot!("upn_suffixes_must_continue", w.screen());
    w.space().enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    assert!(
        build_config(&w.state)
            .sign_in
            .continue_without_verified_domains
    );
}

fn to_custom_page(page: PageId) -> Wizard {
    let mut w = Wizard::new(lab);
    w.reach_directories(true);
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

#[test]
fn snapshots_ou_filtering() {
    let mut w = to_custom_page(PageId::OuFiltering);
    insta::assert_snapshot!("ou_filtering_all", w.screen());
    w.down().space().down().down().key(KeyCode::Right);
    w.down().space();
    insta::assert_snapshot!("ou_filtering_partial", w.screen());
    // A partly ticked domain ticks everything, the next Space clears everything; Next then says
    // why it cannot go on.
    w.key(KeyCode::Up).key(KeyCode::Up).space();
    assert_eq!(
        hybridsync::wizard::pages::ou_filtering::check(
            &w.state.ous,
            &dn("DC=corp,DC=example,DC=com")
        ),
        hybridsync::wizard::ui::Check::On
    );
    w.space();
    let s = &w.state.ous;
    assert_eq!(
        hybridsync::wizard::pages::ou_filtering::check(s, &dn("DC=corp,DC=example,DC=com")),
        hybridsync::wizard::ui::Check::Off
    );
    w.enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    insta::assert_snapshot!("ou_filtering_nothing_selected", w.screen());
}

#[test]
fn ou_filtering_lazy_load_failure_is_shown_on_the_node() {
    let mut w = Wizard::new(|e| match e {
        Effect::ListOus { parent, .. } if parent.to_string().starts_with("OU=Sales") => {
            vec![Reply::Ous {
                parent: parent.clone(),
                children: Err(Failure::new("timeout", "check the DC")),
            }]
        }
        other => lab(other),
    });
    w.reach_directories(true);
    w.typ("corp.example.com")
        .tab()
        .tab()
        .tab()
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter();
    w.enter();
    assert_eq!(w.page(), PageId::OuFiltering);
    w.down().down().down().key(KeyCode::Right);
    insta::assert_snapshot!("ou_filtering_load_failed", w.screen());
}

#[test]
fn snapshots_identifying_users() {
    let mut w = to_custom_page(PageId::IdentifyingUsers);
    insta::assert_snapshot!("identifying_users", w.screen());
    w.tab().space().space().tab().typ("mail").enter();
    assert_eq!(w.page(), PageId::IdentifyingUsers);
    insta::assert_snapshot!("identifying_users_forbidden_anchor", w.screen());
}

#[test]
fn snapshots_filter_users_and_devices() {
    let mut w = to_custom_page(PageId::FilterUsersAndDevices);
    insta::assert_snapshot!("filter_users_and_devices", w.screen());
    w.space().enter();
    assert_eq!(w.page(), PageId::FilterUsersAndDevices);
    insta::assert_snapshot!("filter_users_and_devices_must_pick", w.screen());
    w.tab().typ("Pilot").ctrl('f').down().space();
    insta::assert_snapshot!("filter_users_and_devices_results", w.screen());
}

#[test]
fn snapshots_optional_features() {
    let mut w = to_custom_page(PageId::OptionalFeatures);
    insta::assert_snapshot!("optional_features", w.screen());
    for _ in 0..4 {
        w.down();
    }
    // Group writeback is greyed (no Exchange schema): Space does nothing.
    w.space();
    assert!(!w.state.features.group_writeback);
    // Without it the path has no group writeback page.
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
}

/// The lab with Exchange attributes in the forest's schema (group writeback possible).
fn exchange_lab(e: &Effect) -> Vec<Reply> {
    match e {
        Effect::TestAdBind { .. } => vec![Reply::Forest(Ok(ForestInfo {
            exchange_schema: true,
            ..forest()
        }))],
        other => lab(other),
    }
}

/// The Custom path with `script` up to Optional features.
fn to_features(script: fn(&Effect) -> Vec<Reply>) -> Wizard {
    let mut w = Wizard::new(script);
    w.reach_directories(true)
        .typ("corp.example.com")
        .tab()
        .tab()
        .tab()
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter();
    while w.page() != PageId::OptionalFeatures {
        let before = w.page();
        w.enter();
        assert_ne!(before, w.page(), "stuck on {before:?}");
    }
    w
}

#[test]
fn group_writeback_ou_is_picked_in_the_tree_by_keys_and_by_answers() {
    let mut w = to_features(exchange_lab);
    for _ in 0..4 {
        w.down();
    }
    w.space().enter();
    assert_eq!(w.page(), PageId::GroupWriteback);
    insta::assert_snapshot!("group_writeback", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::GroupWriteback, "no OU chosen");
    insta::assert_snapshot!("group_writeback_nothing_chosen", w.screen());
    // Open Sales (read lazily, once: the tree is the one OU filtering read), choose EMEA.
    w.down().key(KeyCode::Right);
    let reads = |w: &Wizard, dn: &str| {
        w.runner
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::ListOus { parent, .. } if parent.to_string() == dn))
            .count()
    };
    assert_eq!(reads(&w, "OU=Sales,DC=corp,DC=example,DC=com"), 1);
    assert_eq!(reads(&w, "DC=corp,DC=example,DC=com"), 1);
    w.down().space();
    insta::assert_snapshot!("group_writeback_chosen", w.screen());
    w.enter();
    assert_eq!(w.page(), PageId::ReadyToConfigure);
    let c = build_config(&w.state);
    assert!(c.features.group_writeback.enabled);
    let ou = c.features.group_writeback.target_ou.clone().unwrap();
    assert_eq!(ou.dn, dn("OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com"));
    assert_eq!(ou.guid, Some(guid(4)));
    assert!(
        w.state.ready.problems.is_empty(),
        "{:?}",
        w.state.ready.problems
    );

    // The same answers unattended give the same configuration.
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let base = format!(
        r#"
[install]
accept_license = true
mode = "custom"
[directory]
forest = "corp.example.com"
account = "create"
username = "CORP\\admin"
password_file = "{}"
[features]
group_writeback = true
"#,
        pw.display()
    );
    let run = |extra: &str| {
        let answers = hybridsync::wizard::answers::parse(&format!("{base}{extra}")).unwrap();
        let mut state = State::new(PathBuf::from(CONFIG), PathBuf::from("/var/lib/hybridsync"));
        let mut exec = |e: Effect| exchange_lab(&e);
        let r =
            hybridsync::wizard::answers::drive(&mut state, &answers, &mut exec, &mut |_: &str| {});
        (r, state)
    };
    let (r, state) = run("group_writeback_ou = \"OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com\"\n");
    r.unwrap();
    assert_eq!(
        build_config(&state).features.group_writeback,
        c.features.group_writeback
    );
    for extra in [
        "",
        "group_writeback_ou = \"OU=Nowhere,OU=Sales,DC=corp,DC=example,DC=com\"\n",
        "group_writeback_ou = \"not a dn\"\n",
    ] {
        let (r, _) = run(extra);
        let e = r.expect_err(extra);
        assert_eq!(e.key, "features.group_writeback_ou", "{e}");
    }
}

#[test]
fn group_writeback_tree_failure_is_shown_on_the_node() {
    fn failing(e: &Effect) -> Vec<Reply> {
        match e {
            Effect::ListOus { parent, .. } if parent.to_string().starts_with("OU=Sales") => {
                vec![Reply::Ous {
                    parent: parent.clone(),
                    children: Err(Failure::new("LDAP timeout", "check the DC")),
                }]
            }
            other => exchange_lab(other),
        }
    }
    let mut w = to_features(failing);
    for _ in 0..4 {
        w.down();
    }
    w.space().enter();
    w.down().key(KeyCode::Right);
    insta::assert_snapshot!("group_writeback_load_failed", w.screen());
}

#[test]
fn snapshots_directory_extensions() {
    let mut w = to_custom_page(PageId::OptionalFeatures);
    for _ in 0..6 {
        w.down();
    }
    w.space().enter();
    assert_eq!(w.page(), PageId::DirectoryExtensions);
    insta::assert_snapshot!("directory_extensions", w.screen());
    // Scrolling: the cursor on the last row shows the rows above it.
    for _ in 0..20 {
        w.down();
    }
    w.space();
    insta::assert_snapshot!("directory_extensions_scrolled", w.screen());
    assert_eq!(w.state.extensions.selected, vec!["group.isPublic"]);
    w.space(); // cleared again
    w.enter();
    assert_eq!(w.page(), PageId::DirectoryExtensions, "nothing chosen");
    insta::assert_snapshot!("directory_extensions_nothing_chosen", w.screen());
    w.typ("info");
    insta::assert_snapshot!("directory_extensions_filtered", w.screen());
    w.typ("zzz");
    insta::assert_snapshot!("directory_extensions_no_match", w.screen());
    // The loading state, then a failed read with its fix and the retry.
    w.state.extensions.load = hybridsync::wizard::pages::directory_extensions::Load::Loading;
    w.state.extensions.filter = Default::default();
    w.state.extensions.error = None;
    insta::assert_snapshot!("directory_extensions_loading", w.screen());
    let mut f = Wizard::new(|e| match e {
        Effect::ListExtensionAttributes { forest } => vec![Reply::ExtensionAttributes {
            forest: forest.clone(),
            result: Err(Failure::new(
                "reading the schema of corp.example.com failed: insufficient access",
                "give the connector account read access to CN=Schema,CN=Configuration",
            )),
        }],
        other => lab(other),
    });
    f.reach_directories(true)
        .typ("corp.example.com")
        .tab()
        .tab()
        .tab()
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter();
    while f.page() != PageId::OptionalFeatures {
        f.enter();
    }
    for _ in 0..6 {
        f.down();
    }
    f.space().enter();
    insta::assert_snapshot!("directory_extensions_failed", f.screen());
    let reads = |f: &Wizard| {
        f.runner
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::ListExtensionAttributes { .. }))
            .count()
    };
    assert_eq!(reads(&f), 1);
    f.ctrl('r');
    assert_eq!(reads(&f), 2, "Ctrl+R reads the schema again");
    // An empty forest says so.
    let mut e = Wizard::new(|e| match e {
        Effect::ListExtensionAttributes { forest } => vec![Reply::ExtensionAttributes {
            forest: forest.clone(),
            result: Ok(vec![]),
        }],
        other => lab(other),
    });
    e.state = w.state.clone();
    e.state.extensions.load = hybridsync::wizard::pages::directory_extensions::Load::NotLoaded;
    e.state.extensions.forests.clear();
    e.state.extensions.filter = Default::default();
    e.state.extensions.error = None;
    e.state.page = PageId::OptionalFeatures;
    e.enter();
    assert_eq!(e.page(), PageId::DirectoryExtensions);
    insta::assert_snapshot!("directory_extensions_empty_forest", e.screen());
}

#[test]
fn snapshots_ready_configure_complete() {
    let w = to_custom_page(PageId::ReadyToConfigure);
    insta::assert_snapshot!("ready_to_configure", w.screen());
    let mut w = Wizard::new(|e| match e {
        Effect::Configure(ConfigureStep::RegisterApplication) => vec![],
        other => lab(other),
    });
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter()
        .enter();
    insta::assert_snapshot!("configure_running", w.screen());
    w.key(KeyCode::Esc);
    insta::assert_snapshot!("configure_quit_dialog", w.screen());
    let mut w = Wizard::new(lab);
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter()
        .enter();
    assert_eq!(w.page(), PageId::Complete);
    insta::assert_snapshot!("complete", w.screen());
}

#[test]
fn every_page_draws_at_any_size_without_panicking() {
    let mut w = to_custom_page(PageId::OuFiltering);
    w.down().space().down().down().key(KeyCode::Right);
    let sizes = [(80, 24), (120, 40), (40, 12), (20, 5), (1, 1)];
    loop {
        for (cols, rows) in sizes {
            let mut t = Terminal::new(TestBackend::new(cols, rows)).unwrap();
            let styles = Styles::from_theme(&Theme::default());
            t.draw(|f| draw(f, &w.state, &styles)).unwrap();
        }
        if w.page() == PageId::Complete {
            break;
        }
        let before = w.page();
        w.enter();
        assert_ne!(before, w.page(), "stuck on {before:?}");
    }
}

#[test]
fn every_builtin_theme_draws() {
    let w = to_custom_page(PageId::OptionalFeatures);
    for name in ["default", "high-contrast", "light", "monochrome"] {
        let styles = Styles::from_theme(&Theme::load(name).unwrap());
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| draw(f, &w.state, &styles)).unwrap();
        assert!(t.backend().to_string().contains("Optional features"));
    }
}

#[test]
fn a_bind_answer_after_going_back_does_not_move_the_wizard() {
    let mut w = Wizard::new(|e| match e {
        Effect::TestAdBind { .. } => vec![],
        other => lab(other),
    });
    w.reach_directories(false);
    w.typ("corp.example.com")
        .tab()
        .typ("CORP\\admin")
        .tab()
        .typ("pw")
        .enter();
    w.ctrl('b');
    assert_eq!(w.page(), PageId::ConnectToEntra);
    w.send(Message::Reply(Reply::Forest(Ok(forest()))));
    assert_eq!(w.page(), PageId::ConnectToEntra);
    w.enter();
    assert_eq!(w.page(), PageId::ConnectDirectories);
    w.enter();
    assert_eq!(
        w.page(),
        PageId::ReadyToConfigure,
        "the bind result was kept"
    );
}

#[test]
fn wide_screens_list_the_pages_like_entra_connect() {
    let w = to_custom_page(PageId::IdentifyingUsers);
    let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let styles = Styles::from_theme(&Theme::default());
    t.draw(|f| draw(f, &w.state, &styles)).unwrap();
    insta::assert_snapshot!("wide_identifying_users", t.backend().to_string());
}

// ---------------------------------------------------------------- unattended

/// The answers that say what [`custom_flow`] types.
const CUSTOM_ANSWERS: &str = r#"
[install]
accept_license = true
mode = "custom"
[user_sign_in]
method = "pass-through"
single_sign_on = true
[directory]
forest = "corp.example.com"
domain_controllers = ["dc1.corp.example.com", "dc2.corp.example.com:389"]
tls = "starttls"
account = "existing"
username = "svc-sync@corp.example.com"
password_file = "PASSWORD_FILE"
[upn]
attribute = "mail"
[ou_filtering]
mode = "selected"
include = ["DC=corp,DC=example,DC=com"]
exclude = [
  "OU=EMEA,OU=Sales,DC=corp,DC=example,DC=com",
  "OU=Americas,OU=Sales,DC=corp,DC=example,DC=com",
  "OU=Staff,DC=corp,DC=example,DC=com",
  "CN=Users,DC=corp,DC=example,DC=com",
]
[identity]
source_anchor = "objectGUID"
[filtering]
pilot_group = "CN=Pilot Users,OU=Staff,DC=corp,DC=example,DC=com"
[features]
device_writeback = true
directory_extensions = ["user.employeeID", "group.info"]
[ready]
start_sync = false
staging = true
"#;

#[test]
fn unattended_answers_give_the_same_config_and_effects_as_the_keys() {
    let keys = custom_flow();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret-Sync\n").unwrap();
    let answers = hybridsync::wizard::answers::parse(
        &CUSTOM_ANSWERS.replace("PASSWORD_FILE", &pw.display().to_string()),
    )
    .unwrap();
    let mut state = State::new(PathBuf::from(CONFIG), PathBuf::from("/var/lib/hybridsync"));
    let mut effects = Vec::new();
    let mut exec = |e: Effect| {
        let r = lab(&e);
        effects.push(e);
        r
    };
    let mut lines = Vec::new();
    let mut say = |l: &str| lines.push(l.to_string());
    hybridsync::wizard::answers::drive(&mut state, &answers, &mut exec, &mut say).unwrap();
    assert_eq!(state.page, PageId::Complete);
    assert_eq!(build_config(&state), build_config(&keys.state));
    // The same Configure steps with the same configuration.
    let steps = configure_steps(&effects);
    assert_eq!(steps, configure_steps(&keys.runner.effects));
    for page in [
        "Connect your directories",
        "Domain and OU filtering",
        "Configuring",
    ] {
        assert!(lines.iter().any(|l| l == page), "{page}: {lines:?}");
    }
    assert!(
        lines.iter().all(|l| !l.contains("s3cret")),
        "no secret in the progress: {lines:?}"
    );
}

#[test]
fn unattended_first_run_errors_name_the_answer_key() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret-Sync\n").unwrap();
    let base = CUSTOM_ANSWERS.replace("PASSWORD_FILE", &pw.display().to_string());
    for (from, to, key) in [
        (
            "accept_license = true",
            "accept_license = false",
            "install.accept_license",
        ),
        (
            "forest = \"corp.example.com\"",
            "forest = \"not a forest\"",
            "directory.forest",
        ),
        (
            "username = \"svc-sync@corp.example.com\"",
            "username = \"svc-sync\"",
            "directory.username",
        ),
        (
            "  \"CN=Users,DC=corp,DC=example,DC=com\",",
            "  \"CN=Users,DC=corp,DC=example,DC=com\", \"OU=X\",",
            "ou_filtering.exclude[4]",
        ),
        (
            "source_anchor = \"objectGUID\"",
            "source_anchor = \"mail\"",
            "identity.source_anchor",
        ),
        (
            "pilot_group = \"CN=Pilot Users,OU=Staff,DC=corp,DC=example,DC=com\"",
            "pilot_group = \"CN=Nobody,OU=Staff,DC=corp,DC=example,DC=com\"",
            "filtering.pilot_group",
        ),
        (
            "directory_extensions = [\"user.employeeID\", \"group.info\"]",
            "directory_extensions = [\"employeeID\"]",
            "features.directory_extensions[0]",
        ),
        (
            "directory_extensions = [\"user.employeeID\", \"group.info\"]",
            "directory_extensions = [\"user.employeeID\", \"user.memberOf\"]",
            "features.directory_extensions[1]",
        ),
        (
            "method = \"pass-through\"",
            "method = \"federation-adfs\"",
            "user_sign_in.single_sign_on",
        ),
        (
            &format!("password_file = \"{}\"", pw.display()),
            "password_env = \"HYBRIDSYNC_TEST_UNSET_VARIABLE\"",
            "directory.password_env",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let answers = hybridsync::wizard::answers::parse(&base.replace(from, to)).unwrap();
        let mut state = State::new(PathBuf::from(CONFIG), PathBuf::from("/var/lib/hybridsync"));
        let mut wrote = false;
        let mut exec = |e: Effect| {
            wrote |= matches!(e, Effect::Configure(ConfigureStep::WriteConfig { .. }));
            lab(&e)
        };
        let e =
            hybridsync::wizard::answers::drive(&mut state, &answers, &mut exec, &mut |_: &str| {})
                .expect_err(to);
        assert_eq!(e.key, key, "{e}");
        assert!(!wrote, "{to}: nothing is written");
    }
}

#[test]
fn the_answer_templates_drive_the_wizard_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "P@ssw0rd!\n").unwrap();
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
        // The environment variable is swapped for a file: tests do not change the environment.
        let text = text.replace(
            "password_env = \"HYBRIDSYNC_AD_PASSWORD\"",
            &format!("password_file = \"{}\"", pw.display()),
        );
        let answers = hybridsync::wizard::answers::parse(&text).unwrap();
        let mut state = State::new(PathBuf::from(CONFIG), PathBuf::from("/var/lib/hybridsync"));
        let mut exec = |e: Effect| lab(&e);
        hybridsync::wizard::answers::drive(&mut state, &answers, &mut exec, &mut |_: &str| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(state.page, PageId::Complete, "{name}");
        let c = build_config(&state);
        hybridsync::config::parse(&hybridsync::config::save::render_new(&c).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(c.directories[0].forest, "corp.example.com", "{name}");
    }
}
