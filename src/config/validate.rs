//! The meaning of a configuration: rules that span keys, limits, and what the target can do.
//!
//! Invariants: [`validate`] is pure (no file system, no network) and returns *every* problem it
//! finds; each issue names its key, quotes the value and says the fix. [`check_environment`] is
//! the only part that looks at this machine (referenced files exist). Limits come from Entra
//! Connect's documentation (`../shared/reference/`): delete threshold 500, a delta at least every
//! 7 days, 100 directory extensions, source-anchor exclusions.

use std::path::Path;

use crate::config::interval::Interval;
use crate::config::issue::{ConfigIssue, quote};
use crate::config::model::{
    Config, DeleteGuard, Directory, SCHEMA_VERSION, ScopeMode, SignInMethod, StoreBackend, TlsMode,
    UserMatching,
};
use crate::domain::{AttributeName, Dn, ObjectGuid};

/// Themes shipped in `themes/`.
pub const BUILTIN_THEMES: [&str; 4] = ["default", "high-contrast", "light", "monochrome"];

/// Shortest allowed time between cycles.
pub const MIN_INTERVAL: Interval = Interval::from_secs(120);
/// Longest allowed time between cycles: Entra Connect requires a delta sync at least every 7 days.
pub const MAX_INTERVAL: Interval = Interval::from_days(7);
/// Directory extension attributes per object (Entra limit).
pub const MAX_DIRECTORY_EXTENSIONS: usize = 100;

/// Check every cross-key rule. Pure.
pub fn validate(c: &Config) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    schema(c, &mut out);
    directories(c, &mut out);
    tenant(c, &mut out);
    sign_in_and_identity(c, &mut out);
    features(c, &mut out);
    sync(c, &mut out);
    rest(c, &mut out);
    out
}

/// Check what the configuration references on this machine (CA files).
pub fn check_environment(c: &Config) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    let mut file = |key: String, path: &Path| match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => out.push(ConfigIssue::error(
            key,
            format!(
                "{} is not a file. Point it at the PEM file holding the CA certificate(s)",
                quote(path.display())
            ),
        )),
        Err(e) => out.push(ConfigIssue::error(
            key,
            format!(
                "{} cannot be read ({e}). Copy the CA certificate (PEM) there or fix the path",
                quote(path.display())
            ),
        )),
    };
    for (i, d) in c.directories.iter().enumerate() {
        if let Some(ca) = &d.tls.ca_file {
            file(format!("directories[{i}].tls.ca_file"), ca);
        }
    }
    if let Some(ca) = &c.tenant.ca_file {
        file("tenant.ca_file".into(), ca);
    }
    out
}

fn schema(c: &Config, out: &mut Vec<ConfigIssue>) {
    let v = c.schema_version;
    if v > SCHEMA_VERSION {
        out.push(ConfigIssue::error(
            "schema_version",
            format!(
                "{} was written by a newer hybridsync; this build reads schema_version {SCHEMA_VERSION}. Upgrade hybridsync, or export the settings with the newer version",
                quote(v)
            ),
        ));
    } else if v != SCHEMA_VERSION {
        out.push(ConfigIssue::error(
            "schema_version",
            format!(
                "{} is not a schema version. Set schema_version = {SCHEMA_VERSION}",
                quote(v)
            ),
        ));
    }
}

fn directories(c: &Config, out: &mut Vec<ConfigIssue>) {
    if c.directories.is_empty() {
        out.push(ConfigIssue::error(
            "directories",
            "no directory is configured. Add a [[directories]] table for each AD forest (templates/hybridsync.toml shows one), or run 'hybridsync wizard'",
        ));
    }
    let mut seen_forests: Vec<String> = Vec::new();
    let mut seen_connectors: Vec<String> = Vec::new();
    for (i, d) in c.directories.iter().enumerate() {
        let k = |rest: &str| format!("directories[{i}].{rest}");
        if !is_dns_name(&d.forest) {
            out.push(ConfigIssue::error(
                k("forest"),
                format!(
                    "{} is not a DNS domain name. Give the forest root domain, e.g. 'corp.example.com'",
                    quote(&d.forest)
                ),
            ));
        }
        let forest = d.forest.to_ascii_lowercase();
        if seen_forests.contains(&forest) {
            out.push(ConfigIssue::error(
                k("forest"),
                format!(
                    "{} is configured twice. Keep one [[directories]] table per forest",
                    quote(&d.forest)
                ),
            ));
        }
        seen_forests.push(forest);
        let connector = d.connector().to_ascii_lowercase();
        if d.connector_name.is_some() && seen_connectors.contains(&connector) {
            out.push(ConfigIssue::error(
                k("connector_name"),
                format!(
                    "{} is already used by another directory. Connector names must be unique",
                    quote(d.connector())
                ),
            ));
        }
        seen_connectors.push(connector);
        if let Some(name) = &d.connector_name
            && (name.trim().is_empty() || name.len() > 64)
        {
            out.push(ConfigIssue::error(
                k("connector_name"),
                format!(
                    "{} must be 1 to 64 characters. Remove the key to use the forest name",
                    quote(name)
                ),
            ));
        }
        for (j, dc) in d.domain_controllers.iter().enumerate() {
            if let Err(why) = check_host_port(dc) {
                out.push(ConfigIssue::error(
                    k(&format!("domain_controllers[{j}]")),
                    format!(
                        "{} {why}. Write 'dc1.corp.example.com' or 'dc1.corp.example.com:636'",
                        quote(dc)
                    ),
                ));
            }
        }
        // An LDIF forest is read from the file: no DC, no bind, no account.
        if d.ldif_file.is_none() {
            tls(d, i, out);
            account(d, i, out);
        }
        scope(d, i, out);
        if let Some(g) = &d.pilot_group {
            out.push(ConfigIssue::warning(
                k("pilot_group"),
                format!(
                    "only direct members of {} are synchronized. Group filtering is meant for pilots; before production remove it so that OU filtering decides the scope",
                    quote(&g.dn)
                ),
            ));
        }
        if let Some(g) = &d.delete_guard {
            delete_guard(g, &k("delete_guard"), out);
        }
    }
}

fn tls(d: &Directory, i: usize, out: &mut Vec<ConfigIssue>) {
    let k = |rest: &str| format!("directories[{i}].tls.{rest}");
    match d.tls.mode {
        TlsMode::Plain => {
            out.push(ConfigIssue::warning(
                k("mode"),
                "'plain' sends the connector account's password and all directory data unencrypted. Use 'ldaps' or 'starttls' with ca_file set to the CA that issued the DC certificates",
            ));
            if d.tls.ca_file.is_some() {
                out.push(ConfigIssue::warning(
                    k("ca_file"),
                    "is not used while mode = 'plain'. Remove it or switch mode to 'ldaps'",
                ));
            }
        }
        TlsMode::Ldaps | TlsMode::Starttls => {
            if !d.tls.verify_certificate {
                out.push(ConfigIssue::warning(
                    k("verify_certificate"),
                    "'false' turns off DC certificate checks: anyone on the network path can impersonate the DC and capture the connector password. Set ca_file to the issuing CA and remove this key",
                ));
            }
        }
    }
    if let Some(ca) = &d.tls.ca_file
        && !ca.is_absolute()
    {
        out.push(ConfigIssue::error(
            k("ca_file"),
            format!(
                "{} is a relative path. Give the absolute path of the PEM file",
                quote(ca.display())
            ),
        ));
    }
}

fn account(d: &Directory, i: usize, out: &mut Vec<ConfigIssue>) {
    let key = format!("directories[{i}].account.username");
    let u = d.account.username.trim();
    let ok = if let Some((user, realm)) = u.split_once('@') {
        !user.is_empty() && is_dns_name(realm)
    } else if let Some((domain, user)) = u.split_once('\\') {
        !domain.is_empty() && !user.is_empty() && !user.contains('\\')
    } else {
        u.contains('=') && Dn::parse(u).map(|dn| !dn.is_empty()).unwrap_or(false)
    };
    if !ok {
        out.push(ConfigIssue::error(
            key,
            format!(
                "{} is not a bind name. Write 'user@corp.example.com', 'CORP\\user' (in TOML: \"CORP\\\\user\") or a DN such as 'CN=MSOL_0123456789ab,CN=Users,DC=corp,DC=example,DC=com'",
                quote(&d.account.username)
            ),
        ));
    }
}

fn scope(d: &Directory, i: usize, out: &mut Vec<ConfigIssue>) {
    let k = |rest: &str| format!("directories[{i}].scope.{rest}");
    let s = &d.scope;
    if s.mode == ScopeMode::All {
        if !(s.domains.is_empty() && s.include.is_empty() && s.exclude.is_empty()) {
            out.push(ConfigIssue::warning(
                k("mode"),
                "is 'all', so the domains, include and exclude lists are ignored. Set mode = 'selected' to use them",
            ));
        }
        return;
    }
    if s.domains.is_empty() && s.include.is_empty() {
        out.push(ConfigIssue::error(
            k("mode"),
            "is 'selected' but nothing is selected. List domains and/or include containers, or set mode = 'all'",
        ));
    }
    for (j, dom) in s.domains.iter().enumerate() {
        if !is_dns_name(&dom.name) {
            out.push(ConfigIssue::error(
                k(&format!("domains[{j}].name")),
                format!("{} is not a DNS domain name", quote(&dom.name)),
            ));
        }
        let all_dc = !dom.naming_context.is_empty()
            && dom
                .naming_context
                .rdns()
                .iter()
                .all(|r| r.avas().all(|(attr, _)| attr.eq_ignore_case("dc")));
        if !all_dc {
            out.push(ConfigIssue::error(
                k(&format!("domains[{j}].naming_context")),
                format!(
                    "{} is not a domain naming context. Write it as DC= parts, e.g. 'DC=corp,DC=example,DC=com'",
                    quote(&dom.naming_context)
                ),
            ));
        }
    }
    let in_domains = |dn: &Dn| {
        s.domains.is_empty()
            || s.domains
                .iter()
                .any(|dom| dn.is_within(&dom.naming_context))
    };
    for (j, inc) in s.include.iter().enumerate() {
        if !in_domains(&inc.dn) {
            out.push(ConfigIssue::error(
                k(&format!("include[{j}].dn")),
                format!("{} is not inside any domain listed in scope.domains. Add its domain or fix the DN", quote(&inc.dn)),
            ));
        }
    }
    for (j, exc) in s.exclude.iter().enumerate() {
        let covered = s.include.iter().any(|inc| exc.dn.is_descendant_of(&inc.dn))
            || s.domains
                .iter()
                .any(|dom| exc.dn.is_descendant_of(&dom.naming_context));
        if !covered {
            out.push(ConfigIssue::error(
                k(&format!("exclude[{j}].dn")),
                format!(
                    "{} is not below any included container or domain, so excluding it changes nothing. Remove it or fix the DN",
                    quote(&exc.dn)
                ),
            ));
        }
    }
}

fn tenant(c: &Config, out: &mut Vec<ConfigIssue>) {
    let t = &c.tenant;
    if t.tenant_id.trim().is_empty() {
        out.push(ConfigIssue::error(
            "tenant.tenant_id",
            "is not set. Give the tenant ID (a GUID, shown on the Entra admin center overview) or the initial domain, e.g. 'contoso.onmicrosoft.com'",
        ));
    } else if t.tenant_id.parse::<ObjectGuid>().is_err() && !is_dns_name(&t.tenant_id) {
        out.push(ConfigIssue::error(
            "tenant.tenant_id",
            format!(
                "{} is neither a tenant ID (GUID) nor a domain name. Use e.g. '72f988bf-86f1-41af-91ab-2d7cd011db47' or 'contoso.onmicrosoft.com'",
                quote(&t.tenant_id)
            ),
        ));
    }
    let app = &t.application;
    if app.client_id.trim().is_empty() {
        out.push(ConfigIssue::error(
            "tenant.application.client_id",
            "is not set. Give the application (client) ID of the sync app; 'hybridsync wizard' creates the app and fills this in",
        ));
    } else if app.client_id.parse::<ObjectGuid>().is_err() {
        out.push(ConfigIssue::error(
            "tenant.application.client_id",
            format!("{} is not an application ID. It is a GUID such as '00000000-0000-0000-0000-000000000000'", quote(&app.client_id)),
        ));
    }
    match (&app.certificate_ref, &app.client_secret_ref) {
        (None, None) => out.push(ConfigIssue::error(
            "tenant.application",
            "has no credential. Set certificate_ref (recommended) or client_secret_ref to a stored secret, e.g. certificate_ref = \"store:entra-app-certificate\"",
        )),
        (Some(_), Some(_)) => out.push(ConfigIssue::error(
            "tenant.application.client_secret_ref",
            "is set together with certificate_ref. Keep one credential: remove client_secret_ref to use the certificate",
        )),
        _ => {}
    }
    for (key, value) in [
        ("tenant.authority_host", &t.authority_host),
        ("tenant.graph_endpoint", &t.graph_endpoint),
    ] {
        if let Some(url) = value
            && let Err(why) = check_https_url(url)
        {
            out.push(ConfigIssue::error(key, format!("{} {why}", quote(url))));
        }
    }
    let w = t.write_limit;
    if w.requests == 0 {
        out.push(ConfigIssue::error(
            "tenant.write_limit.requests",
            "is 0, so nothing could ever be written. Use Graph's limit: requests = 3000 with window = \"150s\"",
        ));
    }
    if w.window.as_secs() == 0 {
        out.push(ConfigIssue::error(
            "tenant.write_limit.window",
            "is 0 seconds. Use Graph's window: window = \"150s\" with requests = 3000",
        ));
    } else if f64::from(w.requests) / w.window.as_secs() as f64 > 20.0 {
        out.push(ConfigIssue::warning(
            "tenant.write_limit",
            format!(
                "allows {} writes per {}, more than Microsoft Graph's limit of 3,000 per 150s per application and tenant: Graph will throttle the exports. Keep the default unless this is the local tenant emulator with scaled limits",
                w.requests, w.window
            ),
        ));
    }
    if let Some(ca) = &t.ca_file
        && !ca.is_absolute()
    {
        out.push(ConfigIssue::error(
            "tenant.ca_file",
            format!(
                "{} is a relative path. Give the absolute path of the PEM file",
                quote(ca.display())
            ),
        ));
    }
}

fn sign_in_and_identity(c: &Config, out: &mut Vec<ConfigIssue>) {
    let s = &c.sign_in;
    match s.method {
        SignInMethod::PasswordHashSync => {}
        SignInMethod::PassThrough => out.push(ConfigIssue::warning(
            "sign_in.method",
            "'pass-through' needs Microsoft's authentication agents on Windows servers; hybridsync syncs the users but does not deploy the agents. Install them separately or choose 'password-hash-sync'",
        )),
        SignInMethod::FederationAdfs | SignInMethod::FederationPingfederate => out.push(ConfigIssue::warning(
            "sign_in.method",
            "federation is configured on the federation servers and the tenant's domain, not by hybridsync; it syncs the users only",
        )),
        SignInMethod::DoNotConfigure => {}
    }
    if s.single_sign_on
        && !matches!(
            s.method,
            SignInMethod::PasswordHashSync | SignInMethod::PassThrough
        )
    {
        out.push(ConfigIssue::error(
            "sign_in.single_sign_on",
            "'true' needs sign_in.method 'password-hash-sync' or 'pass-through'. Set single_sign_on = false",
        ));
    }
    let anchor = &c.identity.source_anchor;
    for forbidden in ["userPrincipalName", "mail", "targetAddress"] {
        if anchor.as_str().eq_ignore_ascii_case(forbidden) {
            out.push(ConfigIssue::error(
                "identity.source_anchor",
                format!(
                    "{} cannot be the source anchor: it changes when people are renamed. Use 'mS-DS-ConsistencyGuid' (recommended) or 'objectGUID'",
                    quote(anchor)
                ),
            ));
        }
    }
    match (c.identity.user_matching, &c.identity.matching_attribute) {
        (UserMatching::Attribute, None) => out.push(ConfigIssue::error(
            "identity.matching_attribute",
            "is required when user_matching = 'attribute'. Name the attribute that joins users across forests",
        )),
        (m, Some(a)) if m != UserMatching::Attribute => out.push(ConfigIssue::error(
            "identity.matching_attribute",
            format!("{} is only used with user_matching = 'attribute'. Remove it or change user_matching", quote(a)),
        )),
        _ => {}
    }
}

fn features(c: &Config, out: &mut Vec<ConfigIssue>) {
    let f = &c.features;
    if c.sign_in.method == SignInMethod::PasswordHashSync
        && f.password_hash_sync.enabled == Some(false)
    {
        out.push(ConfigIssue::error(
            "features.password_hash_sync.enabled",
            "'false' contradicts sign_in.method = 'password-hash-sync'. Remove the key, or choose another sign-in method",
        ));
    }
    let phs = f
        .password_hash_sync
        .enabled
        .unwrap_or(c.sign_in.method == SignInMethod::PasswordHashSync);
    if phs && c.tenant.target == crate::config::model::TargetKind::Graph {
        out.push(ConfigIssue::warning(
            "features.password_hash_sync",
            "is on, but Microsoft Graph has no way to receive password hashes: synced users get no password in Entra ID until a target that accepts hashes is configured (README: 'What Graph can and cannot do')",
        ));
    }
    if f.password_writeback.enabled {
        out.push(ConfigIssue::error(
            "features.password_writeback.enabled",
            "'true' is not possible: password writeback needs Microsoft's Service Bus relay, which only Microsoft's own agent can use. Set enabled = false",
        ));
    }
    let forests: Vec<String> = c
        .directories
        .iter()
        .map(|d| d.forest.to_ascii_lowercase())
        .collect();
    let forest_check = |key: &str, forest: &Option<String>, out: &mut Vec<ConfigIssue>| {
        if let Some(name) = forest
            && !forests.contains(&name.to_ascii_lowercase())
        {
            out.push(ConfigIssue::error(
                    key.to_string(),
                    format!("{} is not one of the configured directories. Use a forest from [[directories]]", quote(name)),
                ));
        }
    };
    let gw = &f.group_writeback;
    if gw.enabled && gw.target_ou.is_none() {
        out.push(ConfigIssue::error(
            "features.group_writeback.target_ou",
            "is required when group writeback is on. Give the OU that receives the groups, e.g. target_ou = { dn = \"OU=Cloud Groups,DC=corp,DC=example,DC=com\" }",
        ));
    }
    forest_check("features.group_writeback.forest", &gw.forest, out);
    forest_check(
        "features.device_writeback.forest",
        &f.device_writeback.forest,
        out,
    );

    let de = &f.directory_extensions;
    if de.enabled && de.attributes.is_empty() {
        out.push(ConfigIssue::error(
            "features.directory_extensions.attributes",
            "is empty while directory extensions are on. List attributes as 'user.<attribute>' or 'group.<attribute>'",
        ));
    }
    if !de.enabled && !de.attributes.is_empty() {
        out.push(ConfigIssue::warning(
            "features.directory_extensions.attributes",
            "is ignored while directory extensions are off. Set enabled = true to sync them",
        ));
    }
    if de.attributes.len() > MAX_DIRECTORY_EXTENSIONS {
        out.push(ConfigIssue::error(
            "features.directory_extensions.attributes",
            format!(
                "lists {} attributes; Entra ID allows {MAX_DIRECTORY_EXTENSIONS} extension attributes per object. Remove some",
                de.attributes.len()
            ),
        ));
    }
    qualified_attributes(
        &de.attributes,
        &["user", "group"],
        "features.directory_extensions.attributes",
        out,
    );
    let af = &f.app_and_attribute_filtering;
    qualified_attributes(
        &af.excluded_attributes,
        &["user", "group", "contact"],
        "features.app_and_attribute_filtering.excluded_attributes",
        out,
    );
    let lists_something = !(af.apps.is_empty() && af.excluded_attributes.is_empty());
    if !af.enabled && lists_something {
        out.push(ConfigIssue::warning(
            "features.app_and_attribute_filtering",
            "lists apps or attributes but is off, so they are ignored. Set enabled = true to apply them",
        ));
    }
}

/// Check `type.attribute` entries: known object type, valid name, no duplicates.
fn qualified_attributes(items: &[String], types: &[&str], key: &str, out: &mut Vec<ConfigIssue>) {
    let mut seen: Vec<(String, AttributeName)> = Vec::new();
    for (j, item) in items.iter().enumerate() {
        let parsed = item.split_once('.').and_then(|(ty, attr)| {
            let ty = ty.to_ascii_lowercase();
            let attr = AttributeName::new(attr).ok()?;
            types.contains(&ty.as_str()).then_some((ty, attr))
        });
        match parsed {
            None => out.push(ConfigIssue::error(
                format!("{key}[{j}]"),
                format!(
                    "{} is not '<object type>.<attribute>'. Write e.g. '{}.extensionAttribute1' (object types: {})",
                    quote(item),
                    types[0],
                    types.join(", ")
                ),
            )),
            Some(p) if seen.contains(&p) => out.push(ConfigIssue::error(
                format!("{key}[{j}]"),
                format!("{} is listed twice. Remove the duplicate", quote(item)),
            )),
            Some(p) => seen.push(p),
        }
    }
}

fn sync(c: &Config, out: &mut Vec<ConfigIssue>) {
    let s = &c.sync;
    if s.interval < MIN_INTERVAL {
        out.push(ConfigIssue::error(
            "sync.interval",
            format!("{} is shorter than the minimum of {MIN_INTERVAL}. Use '{MIN_INTERVAL}' or more (Entra Connect's default is '30m')", quote(s.interval)),
        ));
    }
    if s.interval > MAX_INTERVAL {
        out.push(ConfigIssue::error(
            "sync.interval",
            format!("{} is longer than {MAX_INTERVAL}: a delta sync must run at least every 7 days or a full sync becomes necessary. Use '30m' (the default) up to '7d'", quote(s.interval)),
        ));
    }
    if s.history_retention < Interval::from_secs(3600)
        || s.history_retention > Interval::from_days(365)
    {
        out.push(ConfigIssue::error(
            "sync.history_retention",
            format!(
                "{} is outside '1h' to '365d'. The default is '7d'",
                quote(s.history_retention)
            ),
        ));
    }
    delete_guard(&s.delete_guard, "sync.delete_guard", out);
}

fn delete_guard(g: &DeleteGuard, key: &str, out: &mut Vec<ConfigIssue>) {
    if !g.enabled {
        out.push(ConfigIssue::warning(
            format!("{key}.enabled"),
            "'false' turns off the accidental-delete guard: one filtering mistake can delete every synced object in the tenant. Prefer 'hybridsync sync allow-deletes' to release a single export",
        ));
        return;
    }
    if g.count == 0 {
        out.push(ConfigIssue::error(
            format!("{key}.count"),
            "'0' would block every export that deletes anything. Use a positive number (the default is 500), or enabled = false to turn the guard off",
        ));
    }
    if let Some(p) = g.percent
        && !(p > 0.0 && p <= 100.0)
    {
        out.push(ConfigIssue::error(
            format!("{key}.percent"),
            format!(
                "{} is not a percentage between 0 and 100. Use e.g. 10, or remove the key",
                quote(p)
            ),
        ));
    }
}

fn rest(c: &Config, out: &mut Vec<ConfigIssue>) {
    match c.store.backend {
        StoreBackend::Postgres => out.push(ConfigIssue::error(
            "store.backend",
            "'postgres' is reserved for a later release and not built yet. Use backend = 'sqlite'",
        )),
        StoreBackend::Sqlite => {
            if c.store.path.as_os_str().is_empty() {
                out.push(ConfigIssue::error(
                    "store.path",
                    "is empty. Use e.g. 'hybridsync.db' (inside the state directory)",
                ));
            }
            if c.store.postgres_url_ref.is_some() {
                out.push(ConfigIssue::warning(
                    "store.postgres_url_ref",
                    "is ignored with backend = 'sqlite'. Remove it",
                ));
            }
        }
    }
    if !is_log_filter(&c.logging.level) {
        out.push(ConfigIssue::error(
            "logging.level",
            format!(
                "{} is not a log level. Use 'error', 'warn', 'info', 'debug' or 'trace', or a filter such as 'info,hybridsync::engine=debug'",
                quote(&c.logging.level)
            ),
        ));
    }
    if let Some(addr) = c.service.metrics_listen
        && !addr.ip().is_loopback()
    {
        out.push(ConfigIssue::warning(
                "service.metrics_listen",
                format!("{} serves metrics and health without authentication beyond this host. Bind to 127.0.0.1 unless a firewall limits access", quote(addr)),
            ));
    }
    let theme = &c.wizard.theme;
    let theme_file = theme.ends_with(".toml") && Path::new(theme).is_absolute();
    if !BUILTIN_THEMES.contains(&theme.as_str()) && !theme_file {
        out.push(ConfigIssue::error(
            "wizard.theme",
            format!(
                "{} is not a theme. Use one of {} or the absolute path of a theme file ending in .toml",
                quote(theme),
                BUILTIN_THEMES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
}

/// `info`, or comma-separated directives `level` / `module::path=level`.
fn is_log_filter(s: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let level_ok = |l: &str| LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    !s.trim().is_empty()
        && s.split(',').all(|d| match d.split_once('=') {
            None => level_ok(d),
            Some((target, level)) => {
                let target = target.trim();
                !target.is_empty()
                    && target
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    && level_ok(level)
            }
        })
}

/// A DNS name: dot-separated labels of letters, digits and hyphens (no leading/trailing hyphen),
/// 1..=63 characters each, 253 in total. A single label is allowed (single-label AD domains).
pub fn is_dns_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        })
}

/// `host`, `host:port`, `ip`, `[v6]:port`.
fn check_host_port(s: &str) -> Result<(), &'static str> {
    if s.parse::<std::net::IpAddr>().is_ok() || s.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => {}
            _ => return Err("has a port that is not a number between 1 and 65535"),
        }
    }
    if !is_dns_name(host) && host.parse::<std::net::IpAddr>().is_err() {
        return Err("is not a host name or IP address");
    }
    Ok(())
}

/// An `https://host[:port][/path]` URL.
fn check_https_url(s: &str) -> Result<(), &'static str> {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err(
            "is not an https:// URL. hybridsync and Microsoft's clients only talk to these endpoints over HTTPS; for the local tenant emulator use its https:// address and set tenant.ca_file to the CA file it writes (--ca-out)",
        );
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty()
        || check_host_port(authority.trim_start_matches('[')).is_err()
            && check_host_port(authority).is_err()
    {
        return Err(
            "has no valid host. Write e.g. 'https://login.microsoftonline.com' or 'https://127.0.0.1:8443'",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_name("corp.example.com"));
        assert!(is_dns_name("CORP"));
        assert!(!is_dns_name("corp..example"));
        assert!(!is_dns_name("-corp.example"));
        assert!(!is_dns_name("corp_example.com"));
        assert!(!is_dns_name(""));
    }

    #[test]
    fn host_ports() {
        assert!(check_host_port("dc1.corp.example.com").is_ok());
        assert!(check_host_port("dc1.corp.example.com:636").is_ok());
        assert!(check_host_port("127.0.0.1:636").is_ok());
        assert!(check_host_port("[::1]:636").is_ok());
        assert!(check_host_port("dc1:0").is_err());
        assert!(check_host_port("dc 1").is_err());
    }

    #[test]
    fn log_filters() {
        assert!(is_log_filter("info"));
        assert!(is_log_filter("warn,hybridsync::engine=debug"));
        assert!(!is_log_filter("verbose"));
        assert!(!is_log_filter("info,hybridsync engine=debug"));
        assert!(!is_log_filter(""));
    }

    #[test]
    fn urls() {
        assert!(check_https_url("https://login.microsoftonline.com").is_ok());
        assert!(check_https_url("https://127.0.0.1:8443/").is_ok());
        assert!(check_https_url("http://127.0.0.1:8443").is_err());
        assert!(check_https_url("https://").is_err());
    }

    #[test]
    fn an_ldif_forest_needs_no_account_or_transport() {
        let mut c: Config = toml::from_str(
            r#"
schema_version = 1
[tenant]
tenant_id = "contoso.onmicrosoft.com"
[tenant.application]
client_id = "3f1b2a4c-5d6e-4f70-8192-a3b4c5d6e7f8"
certificate_ref = "store:entra-app-certificate"
[[directories]]
forest = "contoso.example"
ldif_file = "/srv/sample-directory.ldif"
[directories.account]
username = ""
secret_ref = "store:ad-contoso.example"
"#,
        )
        .unwrap();
        let account = |c: &Config| {
            validate(c)
                .iter()
                .any(|i| i.key == "directories[0].account.username")
        };
        assert!(!account(&c));
        c.directories[0].ldif_file = None;
        assert!(account(&c), "an LDAP forest still needs a bind name");
    }
}
