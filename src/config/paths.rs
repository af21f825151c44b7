//! Where the configuration file and the state directory are.
//!
//! Invariants: precedence is always flag > environment (`HYBRIDSYNC_CONFIG`,
//! `HYBRIDSYNC_STATE_DIR`) > configuration (`install.state_dir`) > built-in default; the built-in
//! defaults are the system paths (`/etc/hybridsync/hybridsync.toml`, `/var/lib/hybridsync`) when
//! running as root and the XDG paths of the user otherwise. Resolution is pure given its inputs
//! ([`Context`]), so tests never depend on who runs them.

use std::path::{Path, PathBuf};

/// Facts about the process that decide default paths.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Effective user is root.
    pub is_root: bool,
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
    /// `$XDG_STATE_HOME`.
    pub xdg_state_home: Option<PathBuf>,
}

impl Context {
    /// Read the facts from this process.
    pub fn from_process() -> Self {
        use std::os::unix::fs::MetadataExt;
        let env_path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            // /proc/self is owned by the effective uid of the process.
            is_root: std::fs::metadata("/proc/self")
                .map(|m| m.uid() == 0)
                .unwrap_or(false),
            home: env_path("HOME"),
            xdg_config_home: env_path("XDG_CONFIG_HOME"),
            xdg_state_home: env_path("XDG_STATE_HOME"),
        }
    }

    /// Default configuration file.
    pub fn default_config_file(&self) -> PathBuf {
        if self.is_root {
            return PathBuf::from("/etc/hybridsync/hybridsync.toml");
        }
        let base = self
            .xdg_config_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("hybridsync").join("hybridsync.toml")
    }

    /// Default state directory.
    pub fn default_state_dir(&self) -> PathBuf {
        if self.is_root {
            return PathBuf::from("/var/lib/hybridsync");
        }
        let base = self
            .xdg_state_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".local").join("state")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("hybridsync")
    }
}

/// The configuration file to use: `--config` (which clap also fills from `HYBRIDSYNC_CONFIG`),
/// else the default.
pub fn config_file(flag: Option<&Path>, ctx: &Context) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.default_config_file())
}

/// The state directory: `--state-dir`/`HYBRIDSYNC_STATE_DIR`, else `install.state_dir`, else the
/// default.
pub fn state_dir(flag: Option<&Path>, configured: Option<&Path>, ctx: &Context) -> PathBuf {
    flag.or(configured)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.default_state_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_system_paths() {
        let ctx = Context {
            is_root: true,
            ..Context::default()
        };
        assert_eq!(
            config_file(None, &ctx),
            PathBuf::from("/etc/hybridsync/hybridsync.toml")
        );
        assert_eq!(
            state_dir(None, None, &ctx),
            PathBuf::from("/var/lib/hybridsync")
        );
    }

    #[test]
    fn users_get_xdg_paths() {
        let ctx = Context {
            home: Some("/home/ann".into()),
            ..Context::default()
        };
        assert_eq!(
            config_file(None, &ctx),
            PathBuf::from("/home/ann/.config/hybridsync/hybridsync.toml")
        );
        assert_eq!(
            state_dir(None, None, &ctx),
            PathBuf::from("/home/ann/.local/state/hybridsync")
        );
        let ctx = Context {
            xdg_state_home: Some("/x/state".into()),
            ..ctx
        };
        assert_eq!(
            state_dir(None, None, &ctx),
            PathBuf::from("/x/state/hybridsync")
        );
    }

    #[test]
    fn precedence_flag_then_config_then_default() {
        let ctx = Context {
            is_root: true,
            ..Context::default()
        };
        let flag = Path::new("/flag");
        let conf = Path::new("/conf");
        assert_eq!(state_dir(Some(flag), Some(conf), &ctx), flag);
        assert_eq!(state_dir(None, Some(conf), &ctx), conf);
        assert_eq!(config_file(Some(flag), &ctx), flag);
    }
}
