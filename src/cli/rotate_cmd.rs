//! `hybridsync config rotate-certificate`: replace the sync application's certificate.
//!
//! The administrator signs in with the device code flow (the rights to change an application
//! are the admin's, never the sync identity's); hybridsync makes a new RSA 2048 certificate,
//! registers it with Graph's `addKey` proven by the current certificate, checks that it gives a
//! token, stores it under the same reference, and only then removes the old key with
//! `removeKey`.
//!
//! Invariants: at every step one stored certificate works: a failure before the new one is
//! stored leaves the old one in place and registered (the new key, if added, is reported so it
//! can be removed); a failure after it is stored leaves both registered and says which key to
//! remove. The certificate and the admin's token are never printed or logged. A `systemd:`
//! reference cannot be written, so it is refused before anything changes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};

use crate::cli::args::RotateArgs;
use crate::cli::{Global, Outcome, exit};
use crate::connectors::entra::auth::{self, DevicePoll};
use crate::connectors::entra::http_client;
use crate::credentials::SecretRef;
use crate::domain::Secret;
use crate::provision::cloud;

/// The delegated scopes the admin consents to for the rotation.
const ADMIN_SCOPES: &str = "https://graph.microsoft.com/Application.ReadWrite.All";

/// Run `hybridsync config rotate-certificate`.
pub(crate) fn run(g: &Global, a: &RotateArgs) -> Outcome {
    let path = a.file.clone().unwrap_or_else(|| g.config_path.clone());
    let Some(loaded) = crate::cli::config_cmd::load_or_report(&path)? else {
        return Ok(exit::CONFIG);
    };
    let c = &loaded.config;
    if c.tenant.ldif_file.is_some() {
        bail!("[tenant] writes to an LDIF file (ldif_file): there is no application to rotate");
    }
    let app = &c.tenant.application;
    let Some(reference) = app.certificate_ref.clone() else {
        bail!(
            "[tenant.application] has no certificate_ref: this install signs in with a client \
             secret; rerun the wizard (Customize synchronization options) to switch to a certificate"
        );
    };
    if let SecretRef::Systemd(name) = &reference {
        bail!(
            "[tenant.application] certificate_ref = \"systemd:{name}\": a systemd credential \
             cannot be rewritten by hybridsync; use a 'store:' reference (hybridsync secrets set) \
             to rotate, or rotate by hand and re-encrypt the new PEM with systemd-creds"
        );
    }
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let options = crate::cli::sync_cmd::entra_options(g, c, &resolve).map_err(|e| anyhow!(e))?;
    let store = crate::cli::secrets_cmd::open_store(g, Some(c), &g.state_dir(Some(c)))?;
    let current = store
        .resolve(&reference)
        .context("[tenant.application] certificate_ref: cannot read the current certificate")?;
    let tenant = cloud::Tenant {
        tenant: options.tenant.clone(),
        authority_host: options.authority_host.clone(),
        graph_base: options.graph_base.clone(),
        scope: options.scope.clone(),
        ca_file: options.ca_file.clone(),
    };
    let admin_scopes = scopes_for(&options.graph_base);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        // Graph accepts a new key only when a registered one proves it: check the stored
        // certificate still signs in before asking the administrator for anything.
        let http = http_client(tenant.ca_file.as_deref())?;
        if let Err(e) = cloud::verify_certificate(&tenant, http, &app.client_id, &current, 1).await
        {
            return Err(anyhow!(
                "the stored certificate ({reference}) does not sign in as the application {}: \
                 {e}. Rotation needs a working certificate to prove the new one; store the \
                 registered certificate again, or rerun the wizard to register a new one",
                app.client_id
            ));
        }
        let admin = admin_sign_in(&tenant, &a.admin_client_id, &admin_scopes).await?;
        eprintln!("Signed in. Registering a new certificate on the application...");
        let rotation = cloud::rotate_certificate(&tenant, &admin, &app.client_id, &current).await?;
        eprintln!(
            "New certificate {} registered and verified (it gives a token).",
            rotation.thumbprint
        );
        if let Err(e) = write_back(&store, &reference, &rotation.certificate) {
            return Err(anyhow!(
                "the new certificate {} is registered on the application, but storing it failed: \
                 {e:#}. The old certificate {} still works and stays registered; remove the new \
                 key ({}) in the Entra admin center or run this command again",
                rotation.thumbprint,
                rotation.old_thumbprint,
                rotation.thumbprint
            ));
        }
        eprintln!("Stored under {reference}.");
        if let Err(e) = cloud::retire_certificate(&tenant, &admin, &rotation).await {
            return Err(anyhow!(
                "the new certificate is stored and in use, but removing the old key {} (thumbprint \
                 {}) failed: {e}. Remove it in the Entra admin center (App registrations > \
                 Certificates & secrets)",
                rotation.old_key_id,
                rotation.old_thumbprint
            ));
        }
        Ok(rotation)
    });
    rt.shutdown_background();
    let rotation = result?;
    println!(
        "certificate rotated: {} -> {}{}; the old key was removed from the application",
        rotation.old_thumbprint,
        rotation.thumbprint,
        if rotation.not_after.is_empty() {
            String::new()
        } else {
            format!(" (valid until {})", rotation.not_after)
        }
    );
    Ok(exit::SUCCESS)
}

/// The admin scopes at the cloud's Graph origin (`https://graph.microsoft.us/...` in GCC High).
fn scopes_for(graph_base: &str) -> String {
    let origin = auth::graph_origin(graph_base);
    ADMIN_SCOPES.replace("https://graph.microsoft.com", &origin)
}

/// The device code sign-in: the code and URL go to standard error, then poll until the admin
/// approves, declines or the code expires.
async fn admin_sign_in(
    tenant: &cloud::Tenant,
    client_id: &str,
    scopes: &str,
) -> anyhow::Result<Secret> {
    let http = http_client(tenant.ca_file.as_deref())?;
    let code = auth::start_device_code(
        &http,
        &tenant.authority_host,
        &tenant.tenant,
        client_id,
        scopes,
    )
    .await?;
    eprintln!(
        "To sign in as a Global or Hybrid Identity Administrator, open {} and enter the code {}",
        code.verification_uri, code.user_code
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(code.expires_in);
    loop {
        tokio::time::sleep(Duration::from_secs(code.interval.max(1))).await;
        match auth::poll_device_code(
            &http,
            &tenant.authority_host,
            &tenant.tenant,
            client_id,
            &code,
        )
        .await?
        {
            DevicePoll::Done(t) => return Ok(t.access_token),
            DevicePoll::Pending if std::time::Instant::now() < deadline => {}
            DevicePoll::Pending | DevicePoll::Expired => {
                bail!("the sign-in code expired before it was used; run the command again")
            }
            DevicePoll::Declined => bail!("the sign-in was declined; nothing was changed"),
        }
    }
}

/// Store the new certificate under the reference the configuration names.
fn write_back(
    store: &crate::credentials::CredentialStore,
    reference: &SecretRef,
    certificate: &Secret,
) -> anyhow::Result<()> {
    match reference {
        SecretRef::Store(name) => Ok(store.store(name, certificate)?),
        SecretRef::File(path) => Ok(crate::credentials::private_file::write_atomic(
            path,
            certificate.expose().as_bytes(),
            "write the rotated certificate",
        )?),
        SecretRef::Systemd(name) => bail!("systemd:{name} cannot be written"),
    }
}
