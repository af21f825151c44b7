//! The command-line grammar (clap derive) and every command's help text.
//!
//! Invariants: this file is the one place where command names, flags and their help live; the
//! command table in design.md section 1 and the README's usage section follow it; `--config` and
//! `--state-dir` are global and also read from `HYBRIDSYNC_CONFIG` / `HYBRIDSYNC_STATE_DIR`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cli::exit::HELP_TABLE;

/// hybridsync: bring Active Directory identities into Microsoft Entra ID, from Linux.
///
/// A replacement for Microsoft Entra Connect (formerly Azure AD Connect): a terminal wizard that
/// writes one configuration file, and an embedded sync engine that imports from AD over LDAP and
/// exports to Entra ID through Microsoft Graph.
#[derive(Debug, Parser)]
#[command(name = "hybridsync", version, propagate_version = true, after_long_help = HELP_TABLE, max_term_width = 100)]
pub struct Cli {
    /// Configuration file [default: /etc/hybridsync/hybridsync.toml as root,
    /// ~/.config/hybridsync/hybridsync.toml otherwise]
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "HYBRIDSYNC_CONFIG",
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,

    /// State directory: database, encrypted credentials, locks, logs [default: install.state_dir
    /// from the configuration, else /var/lib/hybridsync as root, ~/.local/state/hybridsync otherwise]
    #[arg(
        long,
        global = true,
        env = "HYBRIDSYNC_STATE_DIR",
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub state_dir: Option<PathBuf>,

    /// More log output on standard error (-v: debug, -vv: trace)
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,

    /// Log format on standard error: text, or json (one object per line, for journald and
    /// log shippers)
    #[arg(
        long,
        global = true,
        env = "HYBRIDSYNC_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        help_heading = "Global options"
    )]
    pub log_format: LogFormat,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Configure hybridsync: the full-screen wizard (first run: Express or Custom; later:
    /// Additional tasks), or unattended from an answers file
    Wizard(WizardArgs),
    /// Try everything on this machine: a local tenant emulator plus a sample directory, with the
    /// wizard pointed at both (--state-dir DIR keeps the configuration, the store and the tenant
    /// in DIR; default: a new directory under $TMPDIR)
    Demo(DemoArgs),
    /// Run and inspect synchronization (replaces Start-ADSyncSyncCycle, run history, csexport)
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Turn staging mode on or off, or show it (import and sync run, nothing is exported)
    Staging(StagingArgs),
    /// Run as a service: scheduler loop, metrics and health endpoint
    Service(ServiceArgs),
    /// Check, show, export, import and compare configuration files
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Store the secrets that the configuration references (never printed back)
    Secrets(SecretsArgs),
    /// Check prerequisites without changing anything (replaces ADConnectivityTool): DNS SRV,
    /// ports, TLS certificates, clock skew, bind, functional level, recycle bin, schema, the
    /// connector account's rights, the tenant's token and domains vs the UPN suffixes in use,
    /// this machine, and the directory readiness report (replaces IdFix). Exit 0: nothing
    /// failed; 1: a check failed; 3: no usable configuration
    Preflight(PreflightArgs),
    /// List, show and test synchronization rules (the Synchronization Rules Editor's preview)
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Run the local tenant: a Microsoft Graph and identity-platform emulator on loopback
    TenantEmulator(EmulatorArgs),
    /// Print shell completions, e.g. `hybridsync completions bash > /etc/bash_completion.d/hybridsync`
    Completions(CompletionsArgs),
}

/// `wizard`.
#[derive(Debug, Args)]
pub struct WizardArgs {
    /// Answer every page from this TOML file instead of asking (same validation as the screens)
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Colour theme: default, high-contrast, light, monochrome, or a theme file
    #[arg(long, value_name = "NAME|FILE")]
    pub theme: Option<String>,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Take the Express path without the screens and print the first cycle's result
    #[arg(long)]
    pub unattended: bool,
}

/// `sync ...`.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Run one cycle now: import from every directory, synchronize, export to the tenant
    Run(SyncRunArgs),
    /// Show the scheduler, staging mode, the last cycle and anything blocking exports
    Status(JsonArgs),
    /// Show the last runs with their counts and per-object errors
    History(HistoryArgs),
    /// Show what the next export would change, per object and attribute
    PendingExports(PendingExportsArgs),
    /// Approve exactly one export that the accidental-delete guard stopped
    AllowDeletes(AllowDeletesArgs),
}

/// `sync run`.
#[derive(Debug, Args)]
pub struct SyncRunArgs {
    /// Full import and full synchronization of every object (needed after rule or scope changes)
    #[arg(long, conflicts_with = "delta")]
    pub full: bool,
    /// Only what changed since the last cycle (the default unless a full cycle is due)
    #[arg(long)]
    pub delta: bool,
    /// Compute and show the pending exports, export nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the run report as JSON
    #[arg(long)]
    pub json: bool,
}

/// A `--json` flag for read commands.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `sync history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many runs to show
    #[arg(default_value_t = 10)]
    pub count: usize,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `sync pending-exports`.
#[derive(Debug, Args)]
pub struct PendingExportsArgs {
    /// Only this connector (a forest name or "entra")
    #[arg(long, value_name = "NAME")]
    pub connector: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `sync allow-deletes`.
#[derive(Debug, Args)]
pub struct AllowDeletesArgs {
    /// The connector whose blocked export to release [default: the tenant]
    #[arg(long, value_name = "NAME")]
    pub connector: Option<String>,
}

/// `staging on|off|status`.
#[derive(Debug, Args)]
pub struct StagingArgs {
    /// on: stop exporting (import and sync go on); off: export again; status: show the mode
    #[arg(value_enum)]
    pub action: StagingAction,
    /// Print JSON instead of text (status)
    #[arg(long)]
    pub json: bool,
}

/// What `staging` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StagingAction {
    /// Turn staging mode on.
    On,
    /// Turn staging mode off.
    Off,
    /// Show whether staging mode is on.
    Status,
}

/// `service`.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// Override service.metrics_listen
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
}

/// `config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file and list every problem with its key and the fix
    Check(ConfigFileArgs),
    /// Print the effective configuration (defaults filled in; secrets are references, never values)
    Show(ConfigFileArgs),
    /// Write the settings as a JSON bundle to move them to another server
    Export(ExportArgs),
    /// Turn a settings bundle into a configuration file (staging mode on, as Entra Connect does)
    Import(ImportArgs),
    /// Compare two configuration files key by key (exit code 1 when they differ)
    Diff(DiffArgs),
    /// Replace the sync application's certificate: an administrator signs in (device code), a
    /// new certificate is registered (addKey), verified, stored, and the old key removed
    RotateCertificate(RotateArgs),
}

/// `config rotate-certificate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The configuration [default: --config]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The public client the administrator signs in with [default: Microsoft Graph Command Line Tools]
    #[arg(long, value_name = "APP_ID", default_value = crate::connectors::entra::auth::ADMIN_PUBLIC_CLIENT_ID, hide_default_value = true)]
    pub admin_client_id: String,
}

/// A configuration file argument that defaults to `--config`.
#[derive(Debug, Args)]
pub struct ConfigFileArgs {
    /// The file [default: --config]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `config export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The configuration to export [default: --config]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Write the bundle here instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `config import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A bundle written by `hybridsync config export`
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// The configuration file to write (it must not exist unless --force)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Keep the exported staging setting instead of turning staging mode on
    #[arg(long)]
    pub keep_staging_off: bool,
    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
}

/// `config diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// First configuration
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// Second configuration
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `secrets`.
#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: SecretsCommand,
}

/// `secrets ...`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Store a secret under NAME (asked without echo on a terminal, else read from standard input);
    /// reference it in the configuration as "store:NAME"
    Set {
        /// Secret name: letters, digits, '.', '_' and '-'
        name: String,
    },
    /// List the names of stored secrets (never their values)
    List(JsonArgs),
    /// Delete a stored secret
    Delete {
        /// Secret name
        name: String,
    },
    /// Show which backend holds secrets on this machine, and check every reference in the
    /// configuration resolves
    Check(JsonArgs),
}

/// `preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Also write the directory readiness report (IdFix-like: invalid and duplicate values,
    /// unverified UPN suffixes, filtered objects and why) as CSV
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// `rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the synchronization rules in precedence order (shipped rules and those in the
    /// rules/ directory next to the configuration file)
    List(JsonArgs),
    /// Show one rule: scope, join, transformations, and the file it comes from
    Show {
        /// Rule name (ignoring case)
        name: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Evaluate an expression, or a whole rule, against one object (the Rules Editor's preview)
    Test(RulesTestArgs),
}

/// `rules test`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["expr", "rule", "object_type"])))]
pub struct RulesTestArgs {
    /// The expression, e.g. `--expr 'Trim([givenName]) & " " & [sn]'`
    #[arg(long, value_name = "EXPRESSION")]
    pub expr: Option<String>,
    /// A rule's name: show its scope result and every flow's value
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// Apply every inbound rule for this AD object class (user, inetOrgPerson, group, contact,
    /// computer) and show the resulting metaverse attributes and which rule won each
    #[arg(long, value_name = "CLASS")]
    pub object_type: Option<String>,
    /// An attribute of the object: name=value (text) or name::base64 (binary, as in LDIF);
    /// repeat a name for a multi-valued attribute; dn=... sets the object's DN
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    pub attrs: Vec<String>,
    /// Read the object from the first entry of an LDIF file (--attr values are added to it)
    #[arg(long, value_name = "FILE")]
    pub ldif: Option<PathBuf>,
    /// A connector parameter: name=value, e.g. --param Domain.FQDN=corp.example.com. With --rule
    /// and --object-type, the Domain.* and Forest.* parameters not given are taken from the DC=
    /// parts of the object's DN
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Print JSON: {"value": ...} or {"error": "..."}
    #[arg(long)]
    pub json: bool,
}

/// `tenant-emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback unless you say otherwise; port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Keep the tenant's directory (users, groups, apps) in this file: loaded at start, saved on
    /// shutdown. Keys and the CA live in the state directory (tenant-emulator/) either way
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Write the local CA certificate that clients must trust here (e.g. for SSL_CERT_FILE)
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// Write a JSON file with the tenant id, authority and Graph URLs, and the pre-registered
    /// application's client id, secret, certificate and key
    #[arg(long, value_name = "FILE")]
    pub bootstrap_out: Option<PathBuf>,
    /// Tenant id (a GUID)
    #[arg(long, value_name = "GUID", default_value = crate::emulator::DEFAULT_TENANT_ID)]
    pub tenant: String,
    /// Tenant name: the initial domain is NAME.onmicrosoft.com
    #[arg(long, value_name = "NAME", default_value = crate::emulator::DEFAULT_TENANT_NAME)]
    pub tenant_name: String,
    /// Add a verified custom domain (repeatable), e.g. --domain contoso.com
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Register more applications, domains and cloud-only users from a JSON file:
    /// {"applications":[{"displayName","clientId","clientSecret","certificatePem","roles"}],
    /// "domains":["fabrikam.com"], "users":[POST /users bodies, may carry proxyAddresses]}
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Serve plain HTTP instead of HTTPS (Microsoft's clients refuse it)
    #[arg(long)]
    pub plain_http: bool,
    /// Turn off Graph's throttling limits (on by default: writes 3,000 per 150 s per app,
    /// 18,000 per 5 min for the tenant, 35,000 per 5 min per app; reads 3,500 per 10 s per app)
    #[arg(long, help_heading = "Fault injection")]
    pub no_throttle: bool,
    /// Scale throttling quotas and windows together (0.01 = 30 writes per 1.5 s)
    #[arg(
        long,
        value_name = "FACTOR",
        default_value_t = 1.0,
        help_heading = "Fault injection"
    )]
    pub throttle_scale: f64,
    /// Shorten the throttling windows alone, keeping Graph's quotas (0.1 = 3,000 writes per 15 s)
    #[arg(
        long,
        value_name = "FACTOR",
        default_value_t = 1.0,
        help_heading = "Fault injection"
    )]
    pub time_scale: f64,
    /// Answer this fraction of Graph requests with 503 or 504 (0 to 1)
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.0,
        help_heading = "Fault injection"
    )]
    pub fail_rate: f64,
    /// Add this many milliseconds to every Graph request
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0,
        help_heading = "Fault injection"
    )]
    pub latency_ms: u64,
    /// Drop this fraction of Graph connections without an answer (0 to 1)
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.0,
        help_heading = "Fault injection"
    )]
    pub drop_rate: f64,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }
}
