//! The real runner: each effect becomes a tokio task whose replies go back on a channel; a
//! session shared by the tasks remembers what later effects need (the admin's delegated token,
//! the tenant, how the forest was reached, where the configuration was written).
//!
//! Invariants: one task per cancellable kind (a new sign-in aborts the old one); the session's
//! lock is never held across a network call; the admin's token and the forest account's password
//! stay in memory only, for the wizard's lifetime.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use super::context::Context;
use super::{ConfigureStep, Effect, EffectKind, Failure, Reply, Runner, StepOutput};
use crate::config::model::TlsMode;
use crate::domain::Secret;

/// How a forest was reached by the last successful bind.
#[derive(Debug, Clone)]
pub(crate) struct ForestAccess {
    /// Domain controllers (empty: DNS discovery).
    pub domain_controllers: Vec<String>,
    /// Transport.
    pub tls: TlsMode,
    /// Bind name.
    pub username: String,
    /// Its password.
    pub password: Secret,
}

/// What the effects of one wizard run share.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The signed-in administrator's delegated Graph token.
    pub admin_token: Option<Secret>,
    /// The tenant signed in to (its id).
    pub tenant_id: Option<String>,
    /// Forests bound to, by lower-case name.
    pub forests: HashMap<String, ForestAccess>,
    /// Where the configuration was written.
    pub config_path: Option<PathBuf>,
    /// The credential store of the custom state directory, once Configure prepared it (it
    /// replaces the context's store for the steps that follow).
    pub credentials: Option<Arc<crate::credentials::CredentialStore>>,
}

/// The credential store the steps use: the custom state directory's once prepared, else the
/// context's.
pub(crate) fn store(
    ctx: &Context,
    session: &Shared,
) -> Result<Arc<crate::credentials::CredentialStore>, Failure> {
    if let Some(s) = lock(session).credentials.clone() {
        return Ok(s);
    }
    match (&ctx.credentials, ctx.store()) {
        (Some(s), _) => Ok(s.clone()),
        (None, Err(f)) => Err(f),
        (None, Ok(_)) => Err(Failure::new(
            "no credential store is open",
            "rerun the wizard",
        )),
    }
}

/// The session, shared by the tasks.
pub(crate) type Shared = Arc<Mutex<Session>>;

pub(crate) fn lock(s: &Shared) -> MutexGuard<'_, Session> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The real runner: each effect becomes a tokio task whose replies go to `tx`.
pub struct TokioRunner {
    handle: tokio::runtime::Handle,
    tx: tokio::sync::mpsc::UnboundedSender<Reply>,
    running: HashMap<EffectKind, tokio::task::AbortHandle>,
    context: Arc<Context>,
    session: Shared,
}

impl TokioRunner {
    /// A runner spawning on `handle` and answering on `tx`, acting on Entra ID's global cloud
    /// with no credential store and no cycle hook (see [`TokioRunner::with_context`]).
    pub fn new(
        handle: tokio::runtime::Handle,
        tx: tokio::sync::mpsc::UnboundedSender<Reply>,
    ) -> Self {
        Self::with_context(handle, tx, Context::default())
    }

    /// A runner acting on the world `context` describes.
    pub fn with_context(
        handle: tokio::runtime::Handle,
        tx: tokio::sync::mpsc::UnboundedSender<Reply>,
        context: Context,
    ) -> Self {
        Self {
            handle,
            tx,
            running: HashMap::new(),
            context: Arc::new(context),
            session: Arc::default(),
        }
    }
}

impl Runner for TokioRunner {
    fn run(&mut self, effect: Effect) {
        if let Effect::Cancel(kind) = effect {
            if let Some(task) = self.running.remove(&kind) {
                task.abort();
                let _ = self.tx.send(Reply::Cancelled(kind));
            }
            return;
        }
        let kind = effect.kind();
        let tx = self.tx.clone();
        let ctx = self.context.clone();
        let session = self.session.clone();
        let task = self.handle.spawn(async move {
            let reply = execute(effect, &ctx, &session, &tx).await;
            // The wizard may have quit; nobody to tell then.
            let _ = tx.send(reply);
        });
        if let Some(kind) = kind
            && let Some(old) = self.running.insert(kind, task.abort_handle())
        {
            old.abort();
        }
    }
}

async fn execute(
    effect: Effect,
    ctx: &Context,
    session: &Shared,
    tx: &tokio::sync::mpsc::UnboundedSender<Reply>,
) -> Reply {
    match effect {
        Effect::CheckPrerequisites {
            config_path,
            state_dir,
        } => Reply::Prerequisites(super::local::checks(ctx, &config_path, &state_dir).await),
        Effect::SignInDeviceCode => match super::tenant::sign_in(ctx, session, tx).await {
            Ok(t) => Reply::SignedIn(t),
            Err(f) => Reply::SignInFailed(f),
        },
        Effect::RefreshTenantDomains => {
            Reply::TenantDomains(super::tenant::domains(ctx, session).await)
        }
        Effect::TestAdBind {
            forest,
            domain_controllers,
            tls,
            username,
            password,
        } => {
            let access = ForestAccess {
                domain_controllers,
                tls,
                username,
                password,
            };
            Reply::Forest(super::directory::bind(ctx, session, &forest, access).await)
        }
        Effect::ListOus { forest, parent } => {
            let children = super::directory::children(ctx, session, &forest, &parent).await;
            Reply::Ous { parent, children }
        }
        Effect::FindGroups { forest, query } => {
            Reply::Groups(super::directory::groups(ctx, session, &forest, &query).await)
        }
        Effect::ListExtensionAttributes { forest } => {
            let result = super::directory::extension_attributes(ctx, session, &forest).await;
            Reply::ExtensionAttributes { forest, result }
        }
        Effect::Configure(step) => Reply::Step(configure(step, ctx, session).await),
        Effect::CountPendingExports { database } => Reply::PendingExports(
            tokio::task::spawn_blocking(move || super::rerun::count_pending(&database))
                .await
                .unwrap_or_else(|e| {
                    Err(Failure::new(
                        format!("counting the pending exports stopped: {e}"),
                        "run 'hybridsync sync pending-exports' to see them",
                    ))
                }),
        ),
        Effect::ExportConfiguration { config, path } => {
            Reply::Exported(super::rerun::export_config(&config, &path).await)
        }
        Effect::RunPreflight {
            config_path,
            state_dir,
        } => Reply::Preflight(super::rerun::run_preflight(&config_path, &state_dir).await),
        Effect::CheckInstallOptions {
            state_dir,
            service_user,
            import,
        } => {
            let dir = match state_dir {
                Some(p) => Some(
                    tokio::task::spawn_blocking(move || super::install::check_state_dir(&p))
                        .await
                        .unwrap_or_else(|e| {
                            Err(Failure::new(format!("the check stopped: {e}"), "retry"))
                        }),
                ),
                None => None,
            };
            let user = match service_user {
                Some(u) => Some(super::install::check_user(&u).await),
                None => None,
            };
            let import = match import {
                Some(p) => Some(super::install::read_export(&p).await.map(Box::new)),
                None => None,
            };
            Reply::InstallOptions {
                state_dir: dir,
                service_user: user,
                import,
            }
        }
        Effect::CheckAccountRights { forest, features } => {
            let result = super::directory::account_rights(ctx, session, &forest, &features).await;
            Reply::AccountRights { forest, result }
        }
        Effect::Cancel(_) => Reply::NotConnected(effect),
        // wizfeatures
        Effect::FindConsistencyGuids { searches } => {
            Reply::ConsistencyGuids(super::forest_tasks::consistency_guids(ctx, &searches).await)
        }
        Effect::ConfigureScp {
            login,
            tenant_id,
            domain,
        } => Reply::Scp(super::forest_tasks::configure_scp(ctx, &login, &tenant_id, &domain).await),
    }
}

async fn configure(
    step: ConfigureStep,
    ctx: &Context,
    session: &Shared,
) -> Result<StepOutput, Failure> {
    match step {
        ConfigureStep::UseStateDir { path } => {
            let Some(open) = ctx.open_store.clone() else {
                return Err(Failure::new(
                    format!("this wizard cannot keep credentials in {}", path.display()),
                    format!(
                        "start it on that directory: hybridsync --state-dir {} wizard",
                        path.display()
                    ),
                ));
            };
            let opened = tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::DirBuilderExt as _;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&path)
                    .map_err(|e| {
                        Failure::new(
                            format!("cannot create the state directory {}: {e}", path.display()),
                            "choose a directory root can create, or create it first (mkdir -p)",
                        )
                    })?;
                open(&path)
            })
            .await
            .map_err(|e| {
                Failure::new(
                    format!("preparing the state directory stopped: {e}"),
                    "retry",
                )
            })??;
            lock(session).credentials = Some(opened);
            Ok(StepOutput::Done)
        }
        ConfigureStep::CreateConnectorAccount {
            forest,
            admin_username,
            admin_password,
            secret_name,
            features,
        } => {
            super::directory::create_account(
                ctx,
                session,
                &forest,
                admin_username,
                admin_password,
                &secret_name,
                &features,
            )
            .await
        }
        ConfigureStep::StoreSecret { name, secret } => {
            let store = store(ctx, session)?;
            store.store(&name, &secret).map_err(|e| {
                Failure::new(
                    format!("cannot store '{name}' in the credential store: {e}"),
                    "check that the state directory is writable (or that the Secret Service is unlocked), then retry",
                )
            })?;
            Ok(StepOutput::Done)
        }
        ConfigureStep::RegisterApplication => {
            super::tenant::register_application(ctx, session).await
        }
        ConfigureStep::WriteConfig { config, path } => {
            let out = super::local::write_config(&config, &path).await?;
            lock(session).config_path = Some(path);
            Ok(out)
        }
        // wizfeatures
        ConfigureStep::PrepareDeviceWriteback { login, grant } => {
            super::forest_tasks::prepare_device_writeback(ctx, &login, grant.as_ref()).await
        }
        ConfigureStep::StampConsistencyGuids { searches, features } => {
            super::forest_tasks::stamp_consistency_guids(ctx, &searches, &features).await
        }
        ConfigureStep::StartFirstCycle => {
            let Some(hook) = ctx.first_cycle.clone() else {
                return Err(Failure::new(
                    "the wizard cannot start a cycle from here",
                    "run 'hybridsync sync run' now that the configuration is written",
                ));
            };
            let Some(path) = lock(session).config_path.clone() else {
                return Err(Failure::new(
                    "the configuration has not been written yet",
                    "retry: the configuration is written before the first cycle",
                ));
            };
            // Cancelling the step drops this future: the guard then asks the cycle to stop at
            // its next safe point (what it did so far stays committed, as with SIGTERM).
            struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);
            impl Drop for StopOnDrop {
                fn drop(&mut self) {
                    self.0.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let _stop_on_cancel = StopOnDrop(stop.clone());
            match tokio::task::spawn_blocking(move || hook(path, stop)).await {
                Ok(Ok(lines)) => Ok(StepOutput::Cycle(lines.join("\n"))),
                Ok(Err(f)) => Err(f),
                Err(e) => Err(Failure::new(
                    format!("the first cycle stopped unexpectedly: {e}"),
                    "run 'hybridsync sync run' to see the error, then retry",
                )),
            }
        }
    }
}
