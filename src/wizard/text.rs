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
    /// Directory extensions.
    pub const EXTENSIONS: &str = "Directory extensions";
    /// Group writeback.
    pub const GROUP_WRITEBACK: &str = "Group writeback";
    /// Ready to configure.
    pub const READY: &str = "Ready to configure";
    /// Configuring.
    pub const CONFIGURE: &str = "Configuring";
    /// Complete.
    pub const COMPLETE: &str = "Configuration complete";
    /// Rerun menu.
    pub const TASKS: &str = "Additional tasks";
    /// View configuration.
    pub const VIEW: &str = "View or export current configuration";
    /// Customize.
    pub const CUSTOMIZE: &str = "Customize synchronization options";
    /// Refresh schema.
    pub const SCHEMA: &str = "Refresh directory schema";
    /// Staging.
    pub const STAGING: &str = "Configure staging mode";
    /// Sign-in.
    pub const USER_SIGN_IN: &str = "Change user sign-in";
    /// Troubleshoot.
    pub const TROUBLESHOOT: &str = "Troubleshoot";
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
    /// Directory extensions.
    pub const EXTENSIONS: &str = "Extensions";
    /// Group writeback.
    pub const GROUP_WRITEBACK: &str = "Group writeback";
    /// Ready to configure.
    pub const READY: &str = "Configure";
    /// Configuring.
    pub const CONFIGURE: &str = "Configuring";
    /// Complete.
    pub const COMPLETE: &str = "Complete";
    /// Rerun menu.
    pub const TASKS: &str = "Additional tasks";
    /// View configuration.
    pub const VIEW: &str = "View configuration";
    /// Customize.
    pub const CUSTOMIZE: &str = "Customize sync";
    /// Refresh schema.
    pub const SCHEMA: &str = "Refresh schema";
    /// Staging.
    pub const STAGING: &str = "Staging mode";
    /// Sign-in.
    pub const USER_SIGN_IN: &str = "User sign-in";
    /// Troubleshoot.
    pub const TROUBLESHOOT: &str = "Troubleshoot";
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
    // --- several forests ---
    /// The list's title.
    pub const LISTED: &str = "Directories";
    /// How to add or remove.
    pub const ADD_ANOTHER: &str = "Ctrl+N adds the forest below and keeps this page for another; Del removes a listed one; Enter with an empty form goes on.";
    /// The same forest twice.
    pub const ALREADY_ADDED: &str =
        "This forest is already in the list. Remove it first (Del on its row) to connect it again.";
    /// A configured or imported forest.
    pub const CONFIGURED_STAYS: &str = "A configured or imported forest stays in the list (as in Entra Connect); a forest added on this run can be removed.";
    /// Create.
    pub const LISTED_CREATE: &str = "a new connector account is created on Configure";
    /// Existing.
    pub fn listed_existing(user: &str) -> String {
        format!("existing account {user}")
    }
    /// Configured.
    pub fn listed_configured(user: &str) -> String {
        format!("configured, account {user}")
    }
    /// Imported, waiting.
    pub fn pending(forest: &str) -> String {
        format!("{forest}: imported, give its credentials below")
    }
    /// Rights being read.
    pub fn rights_checking(user: &str, forest: &str) -> String {
        format!("Checking the rights of {user} in {forest}…")
    }
    /// A privileged account.
    pub fn privileged(user: &str, groups: &str) -> String {
        format!(
            "{user} is a member of {groups}: using an Enterprise or Domain administrator account as the AD DS connector account is not allowed. Go back to Connect your directories and let hybridsync create the account, or name a normal user with the rights needed."
        )
    }
    /// A right missing.
    pub fn right_missing(
        user: &str,
        right: &str,
        feature: &str,
        status: &str,
        fix: &str,
    ) -> String {
        format!("{user} lacks {right} ({feature}: {status}). Fix: {fix}")
    }
    /// Answers: the connector account of `forest` cannot be used as it is.
    pub fn rights_refused(forest: &str, problems: &str) -> String {
        format!("the connector account of {forest} cannot be used as it is: {problems}")
    }
    // --- end several forests ---
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
    // --- several forests ---
    /// The Forest row.
    pub const FOREST: &str = "Forest:";
    /// Which of how many.
    pub fn forest_of(k: usize, n: usize) -> String {
        format!("({k} of {n}; Space: next forest)")
    }
    // --- end several forests ---
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
    /// The forest row (several forests).
    pub fn forest(name: &str) -> String {
        format!("Forest: {name}   (Space: next forest)")
    }
}

/// Group writeback (the target OU picker).
pub mod group_writeback {
    /// What the page is for.
    pub const INTRO: &str = "Choose the OU that receives the groups written back from Microsoft Entra ID (→ opens a container).";
    /// Nothing chosen yet.
    pub const PICK: &str = "Space chooses the highlighted OU.";
    /// Scope reminder.
    pub const SCOPE: &str =
        "Keep this OU inside the synchronized OUs, or the written-back groups are not seen again.";
    /// Next refused.
    pub const NOTHING: &str = "Choose an OU first, or go back and clear Group writeback.";
    /// The chosen OU.
    pub fn chosen(dn: &str) -> String {
        format!("Groups are written to: {dn}")
    }
    /// The writeback forest row (several forests).
    pub fn forest(name: &str) -> String {
        format!("Writeback forest: {name}   (Space: next forest)")
    }
    /// Forests that cannot receive groups (several forests).
    pub fn no_exchange(names: &str) -> String {
        format!("Not offered (no Exchange attributes in the schema): {names}")
    }
    /// Answers: not a connected forest.
    pub fn unknown_forest(name: &str, offered: &str) -> String {
        format!("\"{name}\" is not a connected forest — write one of: {offered}")
    }
    /// Answers: a forest without the Exchange schema.
    pub fn forest_without_exchange(name: &str, offered: &str) -> String {
        format!(
            "{name} has no Exchange attributes in its schema, so it cannot receive groups — write one of: {offered}"
        )
    }
}

/// Directory extensions (the attribute picker).
pub mod extensions {
    /// What the page is for.
    pub const INTRO: &str = "Choose the attributes to synchronize as directory extensions (single-valued text, number or boolean attributes of users and groups in the forest's schema).";
    /// Filter field.
    pub const FILTER: &str = "Filter";
    /// Loading.
    pub const LOADING: &str = "Reading the directory schema";
    /// Nothing in the forest.
    pub const NONE_IN_FOREST: &str =
        "The forest has no attribute that can become a directory extension.";
    /// The filter hides everything.
    pub const NO_MATCH: &str = "No attribute matches the filter.";
    /// Retry.
    pub const RETRY: &str = "Ctrl+R reads the schema again.";
    /// Nothing chosen.
    pub const NOTHING: &str = "Choose at least one attribute (Space), or go back and clear Directory extension attribute sync.";
    /// More rows than shown.
    pub fn more(above: usize, below: usize) -> String {
        format!("  … {above} above, {below} below (↑↓ to scroll)")
    }
    /// The selection.
    pub fn selected(n: usize, keys: &str) -> String {
        format!("Selected ({n}/100): {keys}")
    }
    /// Too many.
    pub const TOO_MANY: &str = "At most 100 directory extensions: clear some first.";
    /// Not a candidate (answers file).
    pub fn unknown(key: &str, forest: &str) -> String {
        format!(
            "\"{key}\" is not a candidate in {forest}: write user.<attribute> or group.<attribute> with a single-valued text, number or boolean attribute of its schema"
        )
    }
}

/// Optional features.
pub mod features {
    /// Introduction.
    pub const INTRO: &str = "Choose the features to turn on. What each needs is shown under it.";
    /// Requires Exchange.
    pub const NO_EXCHANGE: &str = "Not available: the forest's schema has no Exchange attributes.";
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
    /// PHS when another sign-in method was chosen.
    pub const PHS_OFF: &str = "Off: another sign-in method was chosen on User sign-in, and Microsoft Graph cannot receive hashes as a backup.";
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
    /// Rerun introduction.
    pub fn rerun_intro(path: &str) -> String {
        format!("Press Enter to write these changes to {path} (your comments are kept):")
    }
    /// Nothing changes.
    pub const NO_CHANGES: &str = "no changes: the file is written as it is";
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
    // --- install options ---
    /// Custom state directory step (followed by the path).
    pub const USE_STATE_DIR: &str = "Prepare the state directory";
    // --- end install options ---
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

/// The footer mark on a server in staging mode.
pub const STAGING_MARK: &str = "STAGING MODE";

/// Additional tasks (the rerun menu).
pub mod tasks {
    /// Introduction.
    pub fn intro(path: &str) -> String {
        format!("hybridsync is configured ({path}). Choose a task:")
    }
    /// Staging warning.
    pub const IN_STAGING: &str =
        "This server is in staging mode: it imports and synchronizes, but exports nothing.";
    /// Scheduler note.
    pub const SUSPENDED: &str =
        "The scheduler starts no cycle while the wizard is open; it resumes when you leave.";
    /// Task.
    pub const VIEW: &str = "View or export current configuration";
    /// Help.
    pub const VIEW_HELP: &str = "A read-only summary of every option; Export writes the settings bundle (as 'hybridsync config export').";
    /// Task.
    pub const CUSTOMIZE: &str = "Customize synchronization options";
    /// Help.
    pub const CUSTOMIZE_HELP: &str =
        "Change domain and OU filtering and the optional features, or remove the pilot group.";
    /// Task.
    pub const SCHEMA: &str = "Refresh directory schema";
    /// Help.
    pub const SCHEMA_HELP: &str =
        "Re-read the forest's schema and check it has what your features need.";
    /// Task.
    pub const STAGING: &str = "Configure staging mode";
    /// Help.
    pub const STAGING_HELP: &str =
        "Turn staging mode on or off; shows the exports waiting before you leave staging.";
    /// Task.
    pub const SIGN_IN: &str = "Change user sign-in";
    /// Help.
    pub const SIGN_IN_HELP: &str =
        "Switch between password hash sync, pass-through and federation; Seamless SSO.";
    /// Task.
    pub const TROUBLESHOOT: &str = "Troubleshoot";
    /// Help.
    pub const TROUBLESHOOT_HELP: &str = "Run the preflight checks and the readiness report for one object: why does it not synchronize?";
}

/// View or export current configuration.
pub mod view_config {
    /// Introduction.
    pub fn intro(path: &str) -> String {
        format!("{path} (read-only; Ctrl+E exports the settings)")
    }
    /// Export running.
    pub const EXPORTING: &str = "Exporting…";
    /// Exported.
    pub fn exported(path: &str) -> String {
        format!("✓ Exported to {path}")
    }
    /// On.
    pub const ON: &str = "on";
    /// Off.
    pub const OFF: &str = "off";
    /// None.
    pub const NONE: &str = "none";
    /// Heading.
    pub const TENANT: &str = "Microsoft Entra ID";
    /// Key.
    pub const TENANT_ID: &str = "Tenant";
    /// Key.
    pub const CLOUD: &str = "Cloud";
    /// Key.
    pub const AUTH: &str = "Authentication";
    /// Application auth.
    pub fn app_auth(client_id: &str) -> String {
        format!("application (client ID {client_id})")
    }
    /// Key.
    pub const CERTIFICATE: &str = "Certificate";
    /// Key.
    pub const CLIENT_SECRET: &str = "Client secret";
    /// Heading.
    pub fn directory(forest: &str) -> String {
        format!("Directory {forest}")
    }
    /// Key.
    pub const DCS: &str = "Domain controllers";
    /// Value.
    pub const DNS_DISCOVERY: &str = "found by DNS (SRV records)";
    /// Key.
    pub const TLS: &str = "Transport";
    /// Key.
    pub const ACCOUNT: &str = "Connector account";
    /// Key.
    pub const SCOPE: &str = "Domain and OU filtering";
    /// Value.
    pub const ALL_OUS: &str = "all domains and OUs";
    /// Value.
    pub const SELECTED_OUS: &str = "selected domains and OUs";
    /// Key.
    pub const INCLUDE: &str = "  included";
    /// Key.
    pub const EXCLUDE: &str = "  excluded";
    /// Key.
    pub const PILOT: &str = "Pilot group";
    /// Heading.
    pub const SIGN_IN: &str = "Sign-in and identity";
    /// Key.
    pub const METHOD: &str = "User sign-in";
    /// Key.
    pub const SSO: &str = "Seamless single sign-on";
    /// Key.
    pub const UPN_ATTRIBUTE: &str = "UPN attribute";
    /// Key.
    pub const SOURCE_ANCHOR: &str = "Source anchor";
    /// Heading.
    pub const FEATURES: &str = "Optional features";
    /// Key.
    pub const EXCHANGE: &str = "Exchange hybrid";
    /// Key.
    pub const PUBLIC_FOLDERS: &str = "Mail public folders";
    /// Key.
    pub const PHS: &str = "Password hash sync";
    /// Key.
    pub const PW_WRITEBACK: &str = "Password writeback";
    /// Key.
    pub const GROUP_WRITEBACK: &str = "Group writeback";
    /// Key.
    pub const DEVICE_WRITEBACK: &str = "Device writeback";
    /// Key.
    pub const EXTENSIONS: &str = "Directory extensions";
    /// Key (under a writeback feature).
    pub const WRITEBACK_FOREST: &str = "  forest";
    /// Value: the forest left to its default.
    pub fn first_directory(forest: &str) -> String {
        format!("{forest} (the first directory)")
    }
    /// Key (under group writeback).
    pub const TARGET_OU: &str = "  target OU";
    /// Key.
    pub const APP_FILTERING: &str = "App/attribute filtering";
    /// Key (under app and attribute filtering).
    pub const APPS: &str = "  apps";
    /// Key (under app and attribute filtering).
    pub const EXCLUDED_ATTRIBUTES: &str = "  excluded attributes";
    /// Heading.
    pub const SYNC: &str = "Synchronization";
    /// Key.
    pub const STAGING: &str = "Staging mode";
    /// Key.
    pub const SCHEDULER: &str = "Scheduler";
    /// Key.
    pub const INTERVAL: &str = "Interval";
    /// Key.
    pub const DELETE_GUARD: &str = "Delete guard (objects)";
}

/// Configure staging mode.
pub mod staging {
    /// Current state.
    pub const NOW_ON: &str = "This server is in staging mode now.";
    /// Current state.
    pub const NOW_OFF: &str = "This server is not in staging mode now: it exports.";
    /// The checkbox.
    pub const CHECKBOX: &str = "Enable staging mode";
    /// Consequence.
    pub const ENTERING: &str = "Entering staging mode: import and synchronization go on, but nothing is exported to Entra ID or AD, and password hash sync and password writeback stop. Use it for a standby server, or put this server into staging before you make another one active.";
    /// Consequence.
    pub const LEAVING: &str = "Leaving staging mode: the next cycle exports everything pending, and password hash sync resumes where it left off. Make sure no other server is active for this tenant: two active servers are not supported.";
    /// Consequence.
    pub const STAYS_ON: &str = "Staging mode stays on.";
    /// Consequence.
    pub const STAYS_OFF: &str = "Staging mode stays off.";
    /// Counting.
    pub const COUNTING: &str = "Counting pending exports";
    /// No database.
    pub const NO_DATABASE: &str =
        "No synchronization has run yet on this server: nothing is pending.";
    /// The count.
    pub fn pending(adds: u64, updates: u64, deletes: u64) -> String {
        format!("Pending exports: {adds} add, {updates} update, {deletes} delete.")
    }
    /// Review.
    pub const REVIEW: &str = "Review them first with 'hybridsync sync pending-exports'; they are exported by the first cycle after you leave staging.";
}

/// Customize synchronization options.
pub mod customize {
    use crate::config::model::UserMatching;

    /// Introduction.
    pub const INTRO: &str = "Next come Domain and OU filtering and Optional features, filled in from your configuration. Change what you need; everything else stays as it is, comments included.";
    /// Heading.
    pub const FIXED: &str = "Fixed at installation (shown, not changeable here):";
    /// Anchor.
    pub fn anchor(a: &str) -> String {
        format!("Source anchor: {a}")
    }
    /// Why.
    pub const ANCHOR_WHY: &str = "Every cloud object is matched to its AD object by this value; changing it would orphan or duplicate them.";
    /// UPN.
    pub fn upn(a: &str) -> String {
        format!("UPN attribute: {a}")
    }
    /// Why.
    pub const UPN_WHY: &str = "It is every user's sign-in name in Entra ID; changing it would rename all of them at once.";
    /// Matching.
    pub fn matching(m: UserMatching) -> String {
        let how = match m {
            UserMatching::Once => "users are represented once across all forests",
            UserMatching::Mail => "joined on the mail attribute",
            UserMatching::ObjectsidMsexchmasteraccountsid => {
                "joined on objectSID and msExchangeMasterAccountSID"
            }
            UserMatching::SamaccountnameMailnickname => "joined on sAMAccountName and mailNickname",
            UserMatching::Attribute => "joined on a chosen attribute",
        };
        format!("Identifying users: {how}")
    }
    /// Why.
    pub const MATCHING_WHY: &str =
        "Changing how users are joined across forests would split or merge existing users.";
    /// Pilot.
    pub fn pilot(dn: &str) -> String {
        format!("Only members of the pilot group are synchronized: {dn}")
    }
    /// The checkbox.
    pub const REMOVE_PILOT: &str =
        "Remove the pilot group filter (synchronize all users and devices)";
    /// Why.
    pub const PILOT_WHY: &str = "A pilot group can be removed on a rerun but not added back or changed: it is meant for pilots, not production.";
    /// No pilot.
    pub const NO_PILOT: &str = "No pilot group: all users and devices in scope are synchronized (a pilot group can only be set at installation).";
    // --- several forests ---
    /// The configured forests.
    pub fn forests(names: &str) -> String {
        format!("Directories: {names}")
    }
    /// Add a directory.
    pub const ADD_DIRECTORY: &str = "Add a directory (another forest)";
    /// What it does.
    pub const ADD_DIRECTORY_HELP: &str = "Connect your directories joins this task; the new forest's account is created or stored on Configure. Every forest keeps its own OU filtering.";
    // --- end several forests ---
}

/// Change user sign-in.
pub mod user_sign_in {
    /// Current.
    pub fn current(m: &str) -> String {
        format!("Users sign in now with: {m}")
    }
    /// Method.
    pub const PHS: &str = "Password hash synchronization";
    /// Method.
    pub const PTA: &str = "Pass-through authentication";
    /// Method.
    pub const ADFS: &str = "Federation with AD FS";
    /// Method.
    pub const PING: &str = "Federation with PingFederate";
    /// Method.
    pub const NONE: &str = "Do not configure";
    /// First run: what the page is for.
    pub const INTRO: &str = "How your users sign in to Microsoft Entra ID. This can be changed later with the \"Change user sign-in\" task.";
    /// First run: "Do not configure" chosen.
    pub const NONE_FIRST_RUN: &str = "hybridsync synchronizes identities only; sign-in is set up outside it (a third-party identity provider).";
    /// Why.
    pub const NONE_WHY: &str =
        "Not available on a rerun: switch to another method instead (as in Entra Connect).";
    /// SSO.
    pub const SSO: &str = "Enable Seamless single sign-on";
    /// SSO not here.
    pub const SSO_NOT_HERE: &str =
        "Seamless single sign-on works with password hash sync or pass-through only.";
    /// External parts.
    pub const EXTERNAL: &str = "This method also needs parts outside hybridsync (the pass-through agent, or the federation servers); hybridsync records the choice and synchronizes accordingly.";
}

/// Refresh directory schema.
pub mod schema {
    /// Introduction.
    pub const INTRO: &str = "hybridsync keeps no copy of the schema and generates no rules from it: it reads the schema from a domain controller when it connects. This task reads it now and checks it has what your features need (after an Exchange schema update, for example).";
    /// Running.
    pub const READING: &str = "Reading the directory schema";
    /// No forest.
    pub const NO_FOREST: &str =
        "The report has no forest checks: check the configuration with 'hybridsync config check'.";
    /// Again.
    pub const AGAIN: &str = "Ctrl+R reads it again; Ctrl+B goes back to the tasks.";
}

/// Troubleshoot.
pub mod troubleshoot {
    /// Introduction.
    pub const INTRO: &str = "Why does an object not synchronize? Enter its DN: the preflight checks and the readiness report run, and everything they say about it is shown.";
    /// Field.
    pub const OBJECT: &str = "Object DN";
    /// Bad DN.
    pub const BAD_DN: &str =
        "Not a DN: write it like CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com.";
    /// Running.
    pub const RUNNING: &str = "Running the preflight and the readiness report";
    /// Heading.
    pub fn about(dn: &str) -> String {
        format!("About {dn}:")
    }
    /// Nothing.
    pub const NOTHING_FOUND: &str = "The readiness report has no problem with this object and does not list it as filtered. If it still does not synchronize, check that it exists and look at 'hybridsync sync history'.";
    /// Checks.
    pub const CHECKS_PASS: &str = "✓ Every preflight check passed.";
    /// Checks.
    pub const CHECKS_BAD: &str = "Checks that failed or warned:";
}

// --- install options ---
/// Install required components (Custom path, C1).
pub mod install {
    /// Page title.
    pub const TITLE: &str = "Install required components";
    /// Page list name.
    pub const NAV: &str = "Install options";
    /// Introduction.
    pub const INTRO: &str = "Optional. With nothing ticked, hybridsync keeps its state in the default state directory, uses a SQLite database there and runs as its dedicated system user.";
    /// Custom state directory.
    pub const STATE_DIR: &str = "Use a custom state directory";
    /// Its path.
    pub const STATE_DIR_PATH: &str = "State directory (database, credentials, logs)";
    /// Not absolute.
    pub const STATE_DIR_RELATIVE: &str = "Give an absolute path, e.g. /srv/hybridsync.";
    /// Inside the configuration directory.
    pub fn state_dir_in_config(config_dir: &str) -> String {
        format!(
            "Not inside the configuration directory {config_dir}: keep state (database, secrets) apart from the settings, e.g. /srv/hybridsync."
        )
    }
    /// What a custom state directory means.
    pub const STATE_DIR_HELP: &str = "Created (0700) on Configure; the credentials are stored there and the configuration names it, so the service finds it.";
    /// Existing database.
    pub const DATABASE: &str = "Use an existing PostgreSQL database";
    /// Why not.
    pub const DATABASE_WHY: &str = "Not available yet: this version's sync engine has only the SQLite store (the file hybridsync.db in the state directory).";
    /// Service account.
    pub const SERVICE: &str = "Use an existing local user as the service account";
    /// The default.
    pub const SERVICE_DEFAULT: &str =
        "Default: the dedicated system user hybridsync, created when the service is installed.";
    /// The user field.
    pub const SERVICE_USER: &str = "Local user (from the system's user database)";
    /// Bad user name.
    pub const BAD_USER: &str =
        "Not a user name: lower-case letters, digits, '_' and '-', starting with a letter or '_'.";
    /// Fixed after install.
    pub const SERVICE_FIXED: &str = "The service account can't be changed after installation (uninstall and reinstall to change it).";
    /// Found.
    pub fn user_found(name: &str, what: &str) -> String {
        format!("✓ {name} ({what})")
    }
    /// Import.
    pub const IMPORT: &str = "Import synchronization settings";
    /// Its file.
    pub const IMPORT_PATH: &str =
        "Settings export (JSON from \"View or export current configuration\")";
    /// What import does.
    pub const IMPORT_HELP: &str = "Every later page is pre-filled from the file; staging mode is on by default; the Entra ID sign-in and each forest's credentials must be given again.";
    /// Imported.
    pub fn imported(file: &str, forests: usize) -> String {
        format!("✓ Settings read from {file} ({forests} forest(s)).")
    }
    /// Checking.
    pub const CHECKING: &str = "Checking the install options";
    /// A check failed.
    pub const FAILED: &str = "✗ ";
}
// --- end install options ---
// ---- wizfeatures: app and attribute filtering, device options, source anchor (begin) ----

/// Optional features: the app and attribute filtering checkbox.
pub mod app_filtering_feature {
    /// Label and what it needs.
    pub const FEATURE: (&str, &str) = (
        "Microsoft Entra app and attribute filtering",
        "Choose the cloud services you use and the attributes to synchronize, on two pages that follow.",
    );
}

/// App and attribute filtering, page 1: the cloud services.
pub mod app_filtering {
    use crate::config::model::CloudApp;
    /// Title.
    pub const TITLE: &str = "Microsoft Entra app filtering";
    /// Page list name.
    pub const NAV: &str = "App filtering";
    /// Introduction.
    pub const INTRO: &str = "Choose the cloud services you use. Attributes that only the services you leave out use are not synchronized.";
    /// Nothing chosen.
    pub const NOTHING: &str = "Choose at least one service, or go back and clear app and attribute filtering on Optional features.";
    /// After the list.
    pub const LATER: &str =
        "You can change this later with the Customize synchronization options task.";
    /// A service's name as Entra Connect lists it.
    pub fn label(app: CloudApp) -> &'static str {
        match app {
            CloudApp::Office365Proplus => "Office 365 ProPlus (Microsoft 365 Apps)",
            CloudApp::ExchangeOnline => "Exchange Online",
            CloudApp::SharepointOnline => "SharePoint Online",
            CloudApp::LyncOnline => "Lync Online (Skype for Business, Teams)",
            CloudApp::AzureRms => "Azure RMS",
            CloudApp::Intune => "Intune",
            CloudApp::DynamicsCrm => "Dynamics CRM",
            CloudApp::ThirdPartyApplications => "3rd party application",
        }
    }
    /// What leaving a service out drops.
    pub fn drops(n: usize) -> String {
        if n == 0 {
            "Uses only attributes every service needs.".to_string()
        } else {
            format!("Uses {n} attributes of its own.")
        }
    }
}

/// App and attribute filtering, page 2: the attributes.
pub mod attribute_filtering {
    /// Title.
    pub const TITLE: &str = "Microsoft Entra attributes";
    /// Page list name.
    pub const NAV: &str = "Attributes";
    /// Introduction.
    pub const INTRO: &str = "Clear the attributes you do not want in Microsoft Entra ID (every object type). Attributes hybridsync always needs are not listed.";
    /// The warning.
    pub const WARNING: &str =
        "! Removing attributes can break features that use them (address book, mail flow, Teams).";
    /// An attribute only unchosen services use.
    pub fn only_unchosen(apps: &str) -> String {
        format!("not synchronized: only used by {apps}")
    }
    /// An attribute a chosen service needs.
    pub fn needed(apps: &str) -> String {
        format!("needed by {apps}")
    }
    /// A cleared attribute a chosen service needs.
    pub fn breaks(apps: &str) -> String {
        format!("! cleared, but {apps} needs it")
    }
    /// Summary.
    pub fn summary(cleared: usize, by_apps: usize) -> String {
        format!("{cleared} cleared by you, {by_apps} left out by the services chosen.")
    }
    /// Answers: not on the list.
    pub fn unknown(key: &str) -> String {
        format!(
            "\"{key}\" is not an attribute the rules synchronize — write type.attribute (user, group or contact), as listed on the Microsoft Entra attributes page"
        )
    }
    /// Answers: mandatory.
    pub fn mandatory(key: &str) -> String {
        format!(
            "\"{key}\" is always synchronized: hybridsync needs it to identify, join or scope objects"
        )
    }
    /// Answers: an unknown service.
    pub fn unknown_app(text: &str) -> String {
        format!(
            "\"{text}\" is not a cloud service — write one of office365-proplus, exchange-online, sharepoint-online, lync-online, azure-rms, intune, dynamics-crm, third-party-applications"
        )
    }
}

/// Rerun: Configure source anchor.
pub mod source_anchor {
    /// Title.
    pub const TITLE: &str = "Configure source anchor";
    /// Page list name.
    pub const NAV: &str = "Source anchor";
    /// Task help.
    pub const HELP: &str = "Switch the source anchor from objectGUID to mS-DS-ConsistencyGuid (checks that no user has it set).";
    /// Introduction.
    pub const INTRO: &str = "The source anchor is objectGUID. Switching to mS-DS-ConsistencyGuid lets a user keep their Microsoft Entra ID identity when moved to another forest.";
    /// What happens to existing users.
    pub const KEEPS: &str = "Users already synchronized keep their immutableId: while their mS-DS-ConsistencyGuid is empty the anchor is objectGUID's bytes, the same value as today.";
    /// Checking.
    pub const CHECKING: &str =
        "Looking for users in scope whose mS-DS-ConsistencyGuid is already set";
    /// Clear.
    pub const CLEAR: &str = "✓ No user in scope has mS-DS-ConsistencyGuid set: the switch is safe.";
    /// In use.
    pub fn in_use(total: usize) -> String {
        format!(
            "✗ {total} users in scope already have mS-DS-ConsistencyGuid set. Another tool may own the attribute; switching would change their anchor. For example:"
        )
    }
    /// More than the sample.
    pub fn more(n: usize) -> String {
        format!("  … and {n} more")
    }
    /// The override (Entra Connect's /SkipLdapSearch).
    pub const SKIP: &str = "Switch anyway, without this check (as Entra Connect's /SkipLdapSearch)";
    /// Override note.
    pub const SKIP_NOTE: &str =
        "Only when you know the values are objectGUIDs written by a previous sync server.";
    /// Refused.
    pub const REFUSED: &str =
        "The check must pass, or tick the override above, to continue. Ctrl+R checks again.";
    /// Failed check.
    pub const FAILED: &str = "✗ The check could not run:";
    /// Rights.
    pub const RIGHTS: &str = "Can't be undone from the wizard. The connector account needs the right to write mS-DS-ConsistencyGuid on users.";
    /// The writeback option.
    pub const STAMP: &str = "Write each user's objectGUID into its mS-DS-ConsistencyGuid now";
    /// Its note.
    pub const STAMP_NOTE: &str = "As Entra Connect writes the anchor back; the connector account gets the right too. Needs a Domain or Enterprise Admin (used once on the Configure page, never stored).";
    /// Field.
    pub const ADMIN: &str = "Domain or Enterprise Admin (DOMAIN\\user or user@domain)";
    /// Field.
    pub const PASSWORD: &str = "Password";
    /// The Configure step.
    pub const STAMP_STEP: &str = "Write objectGUID into mS-DS-ConsistencyGuid and grant the right";
    /// After the step.
    pub fn stamped(n: usize) -> String {
        format!("mS-DS-ConsistencyGuid written from objectGUID on {n} users.")
    }
    /// Answers: the check found values.
    pub fn answer_in_use(total: usize, sample: &str) -> String {
        format!(
            "{total} users in scope already have mS-DS-ConsistencyGuid set (for example {sample}) — clear the values, or set skip_ldap_search = true if they are objectGUIDs written by a previous sync server"
        )
    }
}

/// Device writeback pages (Custom path and the rerun's device options).
pub mod device_writeback {
    /// Title: the forest page.
    pub const FOREST_TITLE: &str = "Writeback forest";
    /// Page list name.
    pub const FOREST_NAV: &str = "Writeback forest";
    /// Forest page introduction.
    pub const FOREST_INTRO: &str = "Choose the forest that receives the devices registered in Microsoft Entra ID. Device writeback supports one forest.";
    /// Title: the container page.
    pub const CONTAINER_TITLE: &str = "Device container";
    /// Page list name.
    pub const CONTAINER_NAV: &str = "Device container";
    /// Container page introduction.
    pub fn container_intro(forest: &str) -> String {
        format!(
            "Device writeback writes into containers that {forest} does not have yet. Create them now, or prepare the forest yourself."
        )
    }
    /// Option.
    pub const CREATE: &str = "Create the containers now with Enterprise Admin credentials";
    /// Note.
    pub const CREATE_NOTE: &str =
        "Used once on the Configure page and never stored. The connection must be encrypted.";
    /// Option.
    pub const MANUAL: &str = "I will prepare the forest myself";
    /// Field.
    pub const ADMIN: &str = "Enterprise Admin (DOMAIN\\user or user@domain)";
    /// Field.
    pub const PASSWORD: &str = "Password";
    /// The steps to do by hand.
    pub fn steps(config_nc: &str, domain_nc: &str, account: &str) -> Vec<String> {
        vec![
            "As an Enterprise Admin, before the next cycle:".to_string(),
            format!(
                "1. Create the container CN=Device Registration Configuration,CN=Services,{config_nc} (objectClass: container)."
            ),
            format!(
                "2. Create CN=RegisteredDevices,{domain_nc} (objectClass: msDS-DeviceContainer)."
            ),
            format!(
                "3. Give {account} Create/Delete msDS-Device objects and Write all properties on CN=RegisteredDevices and below (Initialize-ADSyncDeviceWriteback does this on Windows)."
            ),
            "4. Check with 'hybridsync preflight'.".to_string(),
        ]
    }
    /// The connector account before it exists.
    pub const THE_ACCOUNT: &str = "the connector account";
    /// The Configure step.
    pub const PREPARE_STEP: &str = "Create the device writeback containers and grant their rights";
}

/// Rerun: Configure device options.
pub mod device_options {
    /// Title.
    pub const TITLE: &str = "Configure device options";
    /// Page list name.
    pub const NAV: &str = "Device options";
    /// Task help.
    pub const HELP: &str =
        "Configure Microsoft Entra hybrid join (the service connection point) or device writeback.";
    /// Introduction.
    pub const INTRO: &str = "Choose what to configure:";
    /// Option.
    pub const HYBRID_JOIN: &str = "Configure Microsoft Entra hybrid join";
    /// Note.
    pub const HYBRID_JOIN_NOTE: &str = "Writes the service connection point that tells domain-joined Windows devices which tenant to register with.";
    /// Option.
    pub const WRITEBACK: &str = "Configure device writeback";
    /// Note.
    pub const WRITEBACK_NOTE: &str =
        "Writes devices registered in Microsoft Entra ID to a forest. Needs Entra ID P1.";
    /// Option.
    pub const DISABLE: &str = "Disable device writeback";
    /// Note.
    pub const DISABLE_NOTE: &str =
        "Stops writing devices back; the device objects already in AD stay.";
}

/// Rerun: Configure Microsoft Entra hybrid join (SCP configuration).
pub mod hybrid_join {
    /// Title.
    pub const TITLE: &str = "SCP configuration";
    /// Page list name.
    pub const NAV: &str = "SCP configuration";
    /// Introduction.
    pub fn intro(forest: &str) -> String {
        format!(
            "The service connection point in {forest}'s configuration partition tells domain-joined devices which tenant to register with."
        )
    }
    /// Forest choice (Space picks the next).
    pub const FOREST: &str = "Forest (Space chooses; one SCP per forest)";
    /// Authentication service.
    pub const SERVICE: &str = "Authentication service: Microsoft Entra ID (federation with AD FS is not managed by hybridsync).";
    /// Field.
    pub const DOMAIN: &str = "Verified domain of the tenant (azureADName)";
    /// Field.
    pub const TENANT: &str = "Tenant ID (azureADId)";
    /// Field.
    pub const ADMIN: &str = "Enterprise Admin (DOMAIN\\user or user@domain)";
    /// Field.
    pub const PASSWORD: &str = "Password (used for this write only, never stored)";
    /// Bad domain.
    pub const BAD_DOMAIN: &str = "Not a domain name: write a verified domain, e.g. contoso.com.";
    /// Bad tenant.
    pub const BAD_TENANT: &str =
        "Not a tenant ID: write the GUID shown in the Entra admin center (Overview).";
    /// Writing.
    pub const WRITING: &str = "Writing the service connection point";
    /// Done.
    pub fn written(dn: &str, created: bool) -> String {
        format!("✓ {} {dn}", if created { "Created" } else { "Updated" })
    }
    /// Keywords.
    pub fn keywords(k: &str) -> String {
        format!("  keywords: {k}")
    }
    /// After success.
    pub const NEXT_STEPS: &str =
        "Devices register at their next sign-in. Ctrl+B goes back to the tasks; Esc quits.";
    /// Failed.
    pub const FAILED: &str = "✗ The service connection point was not written:";
}

// ---- wizfeatures (end) ----
