//! What the wizard is pointed at when it is not Entra ID and a live forest: `hybridsync demo`
//! points it at the local tenant emulator and a forest read from an LDIF file. The target is set
//! before the first page and only changes what the configuration says about endpoints, the forest's
//! source and where state and secrets live; the pages stay the same.
//!
//! Invariants: a default target changes nothing (a real first run); an LDIF forest has no domain
//! controller, so no admin credentials are asked and no connector account is created for it.

use std::path::PathBuf;

use crate::config::Config;
use crate::config::model::GraphWriteLimit;
use crate::credentials::BackendChoice;

/// A forest read from an LDIF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdifForest {
    /// Its DNS name (the domain object's name in the file).
    pub forest: String,
    /// The file.
    pub file: PathBuf,
}

/// The tenant's endpoints, when they are not Entra ID's global cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantEndpoints {
    /// The identity platform host.
    pub authority_host: String,
    /// The Graph endpoint.
    pub graph_endpoint: String,
    /// The CA that signs their certificates.
    pub ca_file: Option<PathBuf>,
    /// The write limit the tenant applies, when it is not Graph's.
    pub write_limit: Option<GraphWriteLimit>,
}

/// Where the answers point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// The tenant (`None`: Entra ID).
    pub tenant: Option<TenantEndpoints>,
    /// The forest, when it is an LDIF file.
    pub ldif_forest: Option<LdifForest>,
    /// `install.state_dir` to write.
    pub state_dir: Option<PathBuf>,
    /// `install.credential_backend` to write.
    pub credential_backend: Option<BackendChoice>,
}

impl Target {
    /// Whether `forest` is read from an LDIF file.
    pub fn is_ldif(&self, forest: &str) -> bool {
        self.ldif_forest
            .as_ref()
            .is_some_and(|l| l.forest.eq_ignore_ascii_case(forest))
    }

    /// Put the target into the configuration the pages built.
    pub fn apply(&self, c: &mut Config) {
        if let Some(t) = &self.tenant {
            c.tenant.authority_host = Some(t.authority_host.clone());
            c.tenant.graph_endpoint = Some(t.graph_endpoint.clone());
            c.tenant.ca_file.clone_from(&t.ca_file);
            if let Some(w) = t.write_limit {
                c.tenant.write_limit = w;
            }
        }
        if let Some(l) = &self.ldif_forest {
            for d in c
                .directories
                .iter_mut()
                .filter(|d| d.forest.eq_ignore_ascii_case(&l.forest))
            {
                d.ldif_file = Some(l.file.clone());
                d.account.managed = false;
            }
        }
        if let Some(dir) = &self.state_dir {
            c.install.state_dir = Some(dir.clone());
        }
        if let Some(b) = self.credential_backend {
            c.install.credential_backend = b;
        }
    }
}
