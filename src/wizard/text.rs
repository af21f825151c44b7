//! Every user-facing string of the wizard, grouped by page, so wording can be reviewed (and one
//! day translated) in one place.
//!
//! Invariants: pages and the renderer take their words from here, never from literals; labels
//! match what an Entra Connect admin knows where the feature is the same; an error says what is
//! wrong and what to do; no string ever contains a secret (formatting helpers take no secrets).

/// The product name in the title bar.
pub const APP: &str = "hybridsync";
/// "step k of n".
pub fn step(k: usize, n: usize) -> String {
    format!("step {k} of {n}")
}
/// The quit dialog.
pub const QUIT_TITLE: &str = "Quit the wizard?";
/// The quit dialog's body.
pub const QUIT_BODY: &str =
    "Nothing has been written: the configuration is only written on the Configure page.";
/// The quit dialog while configuration runs.
pub const QUIT_RUNNING: &str = "Configuration is running. Quitting cancels the current step; the steps already done stay done.";
/// Shown when a required field is empty.
pub const REQUIRED: &str = "Required.";
/// Prefix of the fix under a failure.
pub const FIX: &str = "Fix: ";
/// The quit dialog's keys.
pub const QUIT_KEYS: [(&str, &str); 2] = [("y", "quit"), ("n", "stay")];

/// Page titles, as Entra Connect names the steps.
pub mod title {
    /// Welcome.
    pub const WELCOME: &str = "Welcome to hybridsync";
    /// Prerequisites.
    pub const PREREQUISITES: &str = "Prerequisite checks";
    /// Express Settings.
    pub const EXPRESS: &str = "Express Settings";
    /// Connect to Entra ID.
    pub const ENTRA: &str = "Connect to Microsoft Entra ID";
    /// Connect your directories.
    pub const DIRECTORIES: &str = "Connect your directories";
    /// Entra sign-in configuration.
    pub const UPN: &str = "Microsoft Entra sign-in configuration";
    /// OU filtering.
    pub const OUS: &str = "Domain and OU filtering";
    /// Identifying users.
    pub const IDENTITY: &str = "Uniquely identifying your users";
    /// Filter users and devices.
    pub const FILTER: &str = "Filter users and devices";
    /// Optional features.
    pub const FEATURES: &str = "Optional features";
    /// Ready to configure.
    pub const READY: &str = "Ready to configure";
    /// Configuring.
    pub const CONFIGURE: &str = "Configuring";
    /// Complete.
    pub const COMPLETE: &str = "Configuration complete";
}

/// Short page names for the page list beside wide screens (as Entra Connect's left-hand list).
pub mod nav {
    /// Welcome.
    pub const WELCOME: &str = "Welcome";
    /// Prerequisites.
    pub const PREREQUISITES: &str = "Prerequisites";
    /// Express Settings.
    pub const EXPRESS: &str = "Express Settings";
    /// Connect to Entra ID.
    pub const ENTRA: &str = "Connect to Entra ID";
    /// Connect your directories.
    pub const DIRECTORIES: &str = "Connect directories";
    /// Entra sign-in.
    pub const UPN: &str = "Entra sign-in";
    /// OU filtering.
    pub const OUS: &str = "Domain/OU filtering";
    /// Identifying users.
    pub const IDENTITY: &str = "Identifying users";
    /// Filtering.
    pub const FILTER: &str = "Filtering";
    /// Optional features.
    pub const FEATURES: &str = "Optional features";
    /// Ready to configure.
    pub const READY: &str = "Configure";
    /// Configuring.
    pub const CONFIGURE: &str = "Configuring";
    /// Complete.
    pub const COMPLETE: &str = "Complete";
}

/// Welcome.
pub mod welcome {
    /// Introduction.
    pub const INTRO: &str = "hybridsync connects your on-premises Active Directory (or Samba AD) to Microsoft Entra ID: it reads users, groups, contacts and devices over LDAP and keeps them in step in the cloud over Microsoft Graph.";
    /// License.
    pub const LICENSE: &str = "hybridsync is free software under the Apache License 2.0. It sends no telemetry: it talks only to your domain controllers and to your tenant.";
    /// The checkbox.
    pub const AGREE: &str = "I agree to the license terms and privacy notice";
    /// Error when not ticked.
    pub const MUST_AGREE: &str =
        "Tick the box (Space) to agree to the license terms before you continue.";
}

/// Prerequisites.
pub mod prerequisites {
    /// Introduction.
    pub const INTRO: &str = "hybridsync checks this machine before it asks for any credentials. Failures say what to fix; rerun the checks with Ctrl+R.";
    /// While running.
    pub const RUNNING: &str = "Checking prerequisites";
    /// All passed.
    pub const ALL_PASSED: &str = "All prerequisites are met.";
    /// Some failed.
    pub const BLOCKED: &str = "Fix the failed checks, then rerun them with Ctrl+R.";
    /// Warnings only.
    pub const WARNINGS: &str = "You can continue; review the warnings.";
    /// Could not run.
    pub const COULD_NOT_RUN: &str = "The checks could not run";
}

/// Express Settings.
pub mod express {
    /// Introduction.
    pub const INTRO: &str = "Express settings suit one forest with fewer than 100,000 objects. They need a Microsoft Entra Hybrid Identity Administrator and an AD Enterprise Admin, and they:";
    /// What express does.
    pub const DOES: [&str; 4] = [
        "create the AD DS connector account and the sync application for you",
        "synchronize all users, groups, contacts and devices of all domains and OUs",
        "use mS-DS-ConsistencyGuid as the source anchor",
        "start a synchronization cycle every 30 minutes",
    ];
    /// Express option.
    pub const USE_EXPRESS: &str = "Use express settings";
    /// Custom option.
    pub const CUSTOMIZE: &str = "Customize";
    /// Custom explanation.
    pub const CUSTOMIZE_HELP: &str =
        "Choose OUs, the source anchor, a pilot group and optional features.";
}

/// Connect to Entra ID.
pub mod entra {
    /// Introduction.
    pub const INTRO: &str = "Sign in as a Hybrid Identity Administrator (or Global Administrator) of the tenant. hybridsync uses this sign-in once, to register its own sync application with a certificate; your credentials are never stored.";
    /// Waiting for the code.
    pub const STARTING: &str = "Starting sign-in";
    /// Device code instructions.
    pub const OPEN: &str = "On any device, open";
    /// Device code instructions.
    pub const ENTER_CODE: &str = "and enter the code";
    /// Waiting for the admin.
    pub const WAITING: &str = "Waiting for you to finish signing in";
    /// The demo's local tenant has no browser sign-in page.
    pub const LOCAL_TENANT_APPROVES: &str = "(The local tenant has no sign-in page: it approves this code itself in a moment, as its administrator.)";
    /// Signed in.
    pub fn signed_in(admin: &str, tenant: &str) -> String {
        format!("Signed in as {admin} to {tenant}.")
    }
    /// The tenant's ID.
    pub fn tenant_id(id: &str) -> String {
        format!("Tenant ID {id}")
    }
    /// Failure.
    pub const FAILED: &str = "Sign-in failed";
    /// Retry hint.
    pub const RETRY: &str = "Press Ctrl+R to start a new sign-in.";
    /// Cancelled.
    pub const CANCELLED: &str = "Sign-in cancelled. Press Ctrl+R to start again.";
    /// Next not allowed yet.
    pub const NOT_YET: &str = "Finish signing in before you continue.";
}

/// Connect your directories.
pub mod directories {
    /// Introduction.
    pub const INTRO: &str = "Enter the forest and an account. hybridsync binds to a domain controller to check them before you continue.";
    /// Forest field.
    pub const FOREST: &str = "Forest";
    /// DCs field.
    pub const DCS: &str = "Domain controllers (optional, comma separated; empty: DNS discovery)";
    /// TLS choice.
    pub const TLS: &str = "Connection";
    /// TLS labels.
    pub const TLS_LDAPS: &str = "LDAPS (636)";
    /// StartTLS.
    pub const TLS_STARTTLS: &str = "StartTLS (389)";
    /// Plain.
    pub const TLS_PLAIN: &str = "Plain LDAP (389): passwords cross the network in clear";
    /// Account choice (Custom).
    pub const CREATE: &str = "Create new AD account (Enterprise Admin credentials, used once)";
    /// Account choice (Custom).
    pub const EXISTING: &str = "Use existing AD account";
    /// Express account label.
    pub const ADMIN_USER: &str = "Enterprise Admin (DOMAIN\\user or user@domain)";
    /// Existing account label.
    pub const USER: &str = "Account (DOMAIN\\user or user@domain)";
    /// Password label.
    pub const PASSWORD: &str = "Password";
    /// LDIF forest (the demo): introduction.
    pub const LDIF_INTRO: &str =
        "This forest is read from an LDIF file (the demo's sample directory) instead of over LDAP.";
    /// LDIF forest: which.
    pub fn ldif_forest(forest: &str, file: &str) -> String {
        format!("Forest {forest}, from {file}")
    }
    /// LDIF forest: why no credentials.
    pub const LDIF_NO_ACCOUNT: &str = "There is no domain controller, so nothing is asked here and no AD DS connector account is created. Against a real forest this page asks for Enterprise Admin credentials, which hybridsync uses once to create the MSOL_… connector account.";
    /// LDIF forest: next.
    pub const LDIF_NEXT: &str = "Press Enter to read the forest from the file.";
    /// Express note.
    pub const EXPRESS_NOTE: &str = "hybridsync creates the AD DS connector account (MSOL_…) with these credentials on the Configure page and never stores them.";
    /// Bad forest.
    pub const BAD_FOREST: &str =
        "Not a DNS domain name. Give the forest root domain, e.g. corp.example.com.";
    /// Bad account.
    pub const BAD_USER: &str = "Write the account as DOMAIN\\user or user@domain.";
    /// Bad DC.
    pub const BAD_DC: &str =
        "Write host names such as dc1.corp.example.com or dc1.corp.example.com:636.";
    /// Binding.
    pub const BINDING: &str = "Connecting to the directory";
    /// Bind failed.
    pub const FAILED: &str = "Could not connect";
    /// Connected.
    pub fn connected(forest: &str, domains: usize) -> String {
        format!("Connected to {forest} ({domains} domain(s)).")
    }
}

/// UPN suffixes.
pub mod upn {
    /// Introduction.
    pub const INTRO: &str = "Users sign in to Entra ID with their UPN. Each UPN suffix of the forest should be a verified domain of the tenant.";
    /// Column.
    pub const SUFFIX: &str = "Active Directory UPN suffix";
    /// Column.
    pub const STATE: &str = "Microsoft Entra domain";
    /// State.
    pub const VERIFIED: &str = "Verified";
    /// State.
    pub const NOT_VERIFIED: &str = "Not verified";
    /// State.
    pub const NOT_ADDED: &str = "Not added";
    /// The UPN attribute (Custom).
    pub const ATTRIBUTE: &str = "USER PRINCIPAL NAME attribute";
    /// Choice.
    pub const ATTR_UPN: &str = "userPrincipalName (recommended)";
    /// Choice.
    pub const ATTR_MAIL: &str = "mail (alternate login ID)";
    /// The checkbox.
    pub const CONTINUE: &str = "Continue without matching all UPN suffixes to verified domains";
    /// The warning.
    pub const WARNING: &str = "Users will not be able to sign-in to Microsoft Entra ID with on-premises credentials if the UPN suffix does not match a verified domain name. Their UPN becomes <user>@<tenant>.onmicrosoft.com.";
    /// Error.
    pub const MUST_CONTINUE: &str = "Some suffixes are not verified: verify them in the tenant and refresh (Ctrl+R), or tick the box to continue without them.";
    /// Refreshing.
    pub const REFRESHING: &str = "Reading the tenant's domains";
}

/// OU filtering.
pub mod ous {
    /// All.
    pub const ALL: &str = "Sync all domains and OUs";
    /// Selected.
    pub const SELECTED: &str = "Sync selected domains and OUs";
    /// New OUs note.
    pub const NEW_OUS: &str = "New OUs created under a ticked container are synchronized automatically. OUs are remembered by objectGUID, so renaming one keeps it in scope.";
    /// Loading.
    pub const LOADING: &str = "loading…";
    /// Empty selection.
    pub const NOTHING: &str = "Nothing is selected. Tick at least one domain or OU, or sync all.";
    /// No forest.
    pub const NO_FOREST: &str = "Connect a directory first.";
}

/// Uniquely identifying your users.
pub mod identity {
    /// Section.
    pub const MATCHING: &str = "Users are represented";
    /// Option.
    pub const ONCE: &str = "only once across all on-premises directories";
    /// Option.
    pub const MAIL: &str = "in several forests: match on the mail attribute";
    /// Section.
    pub const ANCHOR: &str = "Source anchor (links each AD object to its cloud object)";
    /// Option.
    pub const CONSISTENCY: &str = "Let hybridsync manage the source anchor (mS-DS-ConsistencyGuid)";
    /// Consequence.
    pub const CONSISTENCY_WHY: &str = "objectGUID is copied into mS-DS-ConsistencyGuid, so a user moved to another forest keeps its cloud account. The connector account gets write access to that attribute.";
    /// Option.
    pub const OBJECTGUID: &str = "objectGUID";
    /// Consequence.
    pub const OBJECTGUID_WHY: &str = "Never changes, needs no write access; but a user moved to another forest gets a new cloud account. Required when migrating from DirSync.";
    /// Option.
    pub const CUSTOM: &str = "Choose a specific attribute";
    /// Consequence.
    pub const CUSTOM_WHY: &str = "Must be unique, never change, and hold fewer than 60 characters. userPrincipalName, mail and targetAddress are not allowed.";
    /// Field.
    pub const ATTRIBUTE: &str = "Attribute";
    /// Permanent.
    pub const PERMANENT: &str = "The source anchor cannot be changed after the first export.";
    /// Refused attribute.
    pub const FORBIDDEN: &str = "userPrincipalName, mail and targetAddress can change, so they cannot be the source anchor.";
    /// Bad attribute.
    pub const BAD_ATTRIBUTE: &str =
        "Not an attribute name (letters, digits and hyphens, starting with a letter).";
}

/// Filter users and devices.
pub mod filter {
    /// All.
    pub const ALL: &str = "Synchronize all users and devices";
    /// Selected.
    pub const SELECTED: &str = "Synchronize selected (pilot group)";
    /// Warning.
    pub const PILOT: &str = "For pilots only: only direct members (users, groups, contacts, computers) of the group sync, nested members do not. Keep the group's OU selected.";
    /// Search field.
    pub const SEARCH: &str = "Group name (Ctrl+F searches)";
    /// Searching.
    pub const SEARCHING: &str = "Searching";
    /// No hits.
    pub const NONE_FOUND: &str = "No group found. Check the name and search again.";
    /// No group.
    pub const PICK: &str = "Search for a group and select it with Space.";
    /// Members.
    pub fn members(n: usize) -> String {
        format!("{n} direct members")
    }
    /// Chosen.
    pub fn chosen(dn: &str) -> String {
        format!("Pilot group: {dn}")
    }
}

/// Optional features.
pub mod features {
    /// Introduction.
    pub const INTRO: &str = "Choose the features to turn on. What each needs is shown under it.";
    /// Requires Exchange.
    pub const NO_EXCHANGE: &str = "Not available: the forest's schema has no Exchange attributes.";
    /// Field.
    pub const GROUP_OU: &str = "OU for written-back groups (DN)";
    /// Field.
    pub const EXTENSIONS: &str = "Attributes (user.<name> or group.<name>, comma separated)";
    /// Bad OU.
    pub const BAD_OU: &str = "Give the OU as a DN, e.g. OU=Cloud Groups,DC=corp,DC=example,DC=com.";
    /// Bad list.
    pub const BAD_EXTENSIONS: &str =
        "List at least one attribute, each as user.<name> or group.<name>.";
    /// Feature names and what each needs.
    pub const EXCHANGE_HYBRID: (&str, &str) = (
        "Exchange hybrid deployment",
        "Writes Exchange Online attributes back to AD. Needs Exchange in the AD schema.",
    );
    /// Public folders.
    pub const PUBLIC_FOLDERS: (&str, &str) = (
        "Exchange Mail Public Folders",
        "Synchronizes mail-enabled public folders. Needs Exchange in the AD schema.",
    );
    /// PHS.
    pub const PHS: (&str, &str) = (
        "Password hash synchronization",
        "On: it is the sign-in method. Microsoft Graph cannot receive hashes, so synced users get no cloud password until a target that accepts hashes is configured.",
    );
    /// Password writeback.
    pub const PASSWORD_WRITEBACK: (&str, &str) = (
        "Password writeback",
        "Not available: it needs Microsoft's Service Bus relay, which only Microsoft's own agent can use.",
    );
    /// Group writeback.
    pub const GROUP_WRITEBACK: (&str, &str) = (
        "Group writeback",
        "Writes cloud groups into an AD OU. Needs Entra ID P1 and Exchange in the AD schema.",
    );
    /// Device writeback.
    pub const DEVICE_WRITEBACK: (&str, &str) = (
        "Device writeback",
        "Writes registered devices to AD. Needs Entra ID P1 and a Windows Server 2012 R2 (or later) schema.",
    );
    /// Directory extensions.
    pub const EXTENSIONS_FEATURE: (&str, &str) = (
        "Directory extension attribute sync",
        "Synchronizes extra AD attributes as extension_<appId>_<name>: at most 100, values up to 250 characters.",
    );
}

/// Ready to configure.
pub mod ready {
    /// Introduction.
    pub const INTRO: &str = "hybridsync is ready to configure. Press Enter to:";
    /// Start sync.
    pub const START: &str = "Start the synchronization process when configuration completes";
    /// Start sync off.
    pub const START_OFF: &str =
        "The scheduler stays off until you turn it on (hybridsync service, or rerun the wizard).";
    /// Staging.
    pub const STAGING: &str = "Enable staging mode: import and sync, but export nothing";
    /// Staging explanation.
    pub const STAGING_HELP: &str = "Use staging for a standby server or to review pending exports first (hybridsync sync pending-exports).";
    /// Config file.
    pub fn write(path: &str) -> String {
        format!("write the configuration to {path}")
    }
    /// Action.
    pub fn create_account(forest: &str) -> String {
        format!("create the AD DS connector account in {forest}")
    }
    /// Action.
    pub const STORE_SECRET: &str = "store the connector account's password";
    /// Action.
    pub const REGISTER: &str = "register the sync application in Entra ID";
    /// Action.
    pub const FIRST_CYCLE: &str = "start the first synchronization cycle";
    /// Problems.
    pub const PROBLEMS: &str = "Go back and correct these answers:";
}

/// Configuring.
pub mod configure {
    /// Introduction.
    pub const INTRO: &str = "hybridsync is configuring. Esc cancels the step that is running.";
    /// Failed.
    pub const FAILED: &str = "Stopped: this step failed.";
    /// Step labels.
    pub const CREATE_ACCOUNT: &str = "Create the AD DS connector account and grant its rights";
    /// Step label.
    pub const STORE_SECRET: &str = "Store the connector account's password";
    /// Step label.
    pub const REGISTER: &str = "Register the sync application and store its certificate";
    /// Step label.
    pub const WRITE: &str = "Write the configuration file";
    /// Step label.
    pub const FIRST_CYCLE: &str = "Start the first synchronization cycle";
    /// Summary line.
    pub fn account(name: &str) -> String {
        format!("AD DS connector account: {name}")
    }
    /// Summary line.
    pub fn application(id: &str) -> String {
        format!("Sync application: {id}")
    }
    /// Retry.
    pub const RETRY: &str =
        "Press Ctrl+R to retry from this step, or Esc to quit (the steps already done stay done).";
    /// Cancelled.
    pub const CANCELLED: &str = "Cancelled. Press Ctrl+R to run this step again.";
}

/// Complete.
pub mod complete {
    /// Done.
    pub const DONE: &str = "hybridsync is configured.";
    /// Config file.
    pub fn written(path: &str) -> String {
        format!("Configuration: {path}")
    }
    /// Anchor.
    pub fn anchor(attr: &str) -> String {
        format!("Source anchor: {attr}")
    }
    /// Staging.
    pub const STAGING: &str =
        "Staging mode is on: nothing is exported until you run 'hybridsync staging off'.";
    /// Scheduler on.
    pub const SCHEDULER_ON: &str =
        "The scheduler runs a cycle every 30 minutes ('hybridsync service').";
    /// Scheduler off.
    pub const SCHEDULER_OFF: &str =
        "The scheduler is off: run 'hybridsync sync run' or rerun the wizard to start it.";
    /// Exit.
    pub const EXIT: &str = "Press Enter to exit.";
    /// The first cycle: its run and how it ended.
    pub fn first_cycle(run: i64, status: &str, seconds: f64) -> String {
        format!("First cycle (run {run}): {status} in {seconds:.1} s")
    }
    /// The first cycle: one connector's import.
    pub fn imported(connector: &str, added: u64, rejected: u64) -> String {
        format!("  {connector}: {added} objects imported, {rejected} rejected")
    }
    /// The first cycle: one connector's export.
    pub fn exported(connector: &str, adds: u64, updates: u64, deletes: u64, failed: u64) -> String {
        format!(
            "  {connector}: {adds} added, {updates} updated, {deletes} deleted, {failed} failed"
        )
    }
    /// The first cycle: export held (staging, guard).
    pub fn held(connector: &str, why: &str) -> String {
        format!("  {connector}: nothing exported: {why}")
    }
    /// The first cycle: per-object errors.
    pub fn errors(n: u64) -> String {
        format!("  {n} objects could not be synchronized ('hybridsync sync history' lists them)")
    }
    /// Where the state is.
    pub fn state(dir: &str) -> String {
        format!("State (store, run history, encrypted credentials): {dir}")
    }
    /// Where this run's log lines went.
    pub fn log(path: &str) -> String {
        format!("Log of this wizard run: {path}")
    }
    /// Where history and logs are read.
    pub fn history(config: &str) -> String {
        format!("Run history and errors: hybridsync --config {config} sync history")
    }
}
