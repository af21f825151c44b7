//! The effects of the Custom path's "Install required components" page: an existing local user
//! looked up in the system's user database (`/etc/passwd`), and a settings export read back
//! (the JSON bundle that "View or export current configuration" and `hybridsync config export`
//! write) through the same checks as `hybridsync config import`.
//!
//! Invariants: nothing here writes; every failure names the user or the file and carries a fix;
//! an imported configuration starts in staging mode (as Entra Connect does after an import).

use std::path::Path;

use super::Failure;
use crate::config::Config;

/// The local user database the service account is looked up in.
pub const PASSWD: &str = "/etc/passwd";

/// Look `name` up in the `passwd`-format text: `Ok` with a description (`uid 998, home
/// /var/lib/svc`) when it is a usable service account.
pub fn find_user(passwd: &str, name: &str) -> Result<String, Failure> {
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name) && f.len() >= 7);
    let Some(f) = entry else {
        return Err(Failure::new(
            format!("there is no local user \"{name}\" in {PASSWD}"),
            format!(
                "create it first (useradd --system {name}), or keep the dedicated user hybridsync"
            ),
        ));
    };
    let uid = f.get(2).copied().unwrap_or_default();
    if uid == "0" {
        return Err(Failure::new(
            format!("\"{name}\" is the superuser (uid 0)"),
            "choose an unprivileged user; the service needs no root rights to synchronize",
        ));
    }
    let home = f.get(5).copied().unwrap_or_default();
    Ok(format!("uid {uid}, home {home}"))
}

/// [`find_user`] on this machine's user database.
pub(crate) async fn check_user(name: &str) -> Result<String, Failure> {
    let text = tokio::fs::read_to_string(PASSWD).await.map_err(|e| {
        Failure::new(
            format!("cannot read the user database {PASSWD}: {e}"),
            "run the wizard as root, or keep the dedicated user hybridsync",
        )
    })?;
    find_user(&text, name)
}

/// Whether `path` can be the state directory: an existing directory that can be written, or one
/// that can be created (its nearest existing ancestor is a writable directory). `Ok` says which.
pub fn check_state_dir(path: &Path) -> Result<String, Failure> {
    let fix = "choose a directory on a local disk that root can write, e.g. /srv/hybridsync";
    let probe = |dir: &Path| {
        let f = dir.join(".hybridsync-probe");
        std::fs::write(&f, b"").and_then(|()| std::fs::remove_file(&f))
    };
    if path.exists() {
        if !path.is_dir() {
            return Err(Failure::new(
                format!("{} exists and is not a directory", path.display()),
                fix,
            ));
        }
        return probe(path)
            .map(|()| "exists, writable".to_string())
            .map_err(|e| Failure::new(format!("cannot write in {}: {e}", path.display()), fix));
    }
    let mut up = path.parent();
    while let Some(p) = up {
        if p.exists() {
            if !p.is_dir() {
                return Err(Failure::new(
                    format!(
                        "{} cannot be created: {} is not a directory",
                        path.display(),
                        p.display()
                    ),
                    fix,
                ));
            }
            return probe(p)
                .map(|()| format!("will be created in {}", p.display()))
                .map_err(|e| {
                    Failure::new(
                        format!("{} cannot be created: {}: {e}", path.display(), p.display()),
                        fix,
                    )
                });
        }
        up = p.parent();
    }
    Err(Failure::new(
        format!("{} has no existing parent", path.display()),
        fix,
    ))
}

/// Read the settings export at `path` for "Import synchronization settings": its configuration,
/// checked as `hybridsync config import` does, with staging mode turned on.
pub(crate) async fn read_export(path: &Path) -> Result<Config, Failure> {
    let fix = "export the settings again on the source server (rerun the wizard: View or export current configuration, or 'hybridsync config export --output FILE') and give that file";
    let json = tokio::fs::read_to_string(path).await.map_err(|e| {
        Failure::new(
            format!("cannot read the settings export {}: {e}", path.display()),
            fix,
        )
    })?;
    parse_export(path, &json)
}

/// Parse the text of a settings export read from `path` (named in the failure).
pub fn parse_export(path: &Path, json: &str) -> Result<Config, Failure> {
    match crate::config::export::import(json, false) {
        Ok((_, loaded)) => Ok(loaded.config),
        Err(e) => Err(Failure::new(
            format!("{} cannot be imported: {e}", path.display()),
            "give a file written by 'View or export current configuration' (or 'hybridsync config export'); an edited export is not supported, so export it again on the source server",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/bash\n\
        svc-sync:x:998:998::/var/lib/svc-sync:/usr/sbin/nologin\n";

    #[test]
    fn users_are_found_and_root_is_refused() {
        assert_eq!(
            find_user(PASSWD_TEXT, "svc-sync").unwrap(),
            "uid 998, home /var/lib/svc-sync"
        );
        let f = find_user(PASSWD_TEXT, "nobody-here").unwrap_err();
        assert!(f.message.contains("nobody-here") && f.fix.contains("useradd"));
        let f = find_user(PASSWD_TEXT, "root").unwrap_err();
        assert!(f.message.contains("uid 0"), "{f:?}");
        // A prefix of a name is not the name.
        assert!(find_user(PASSWD_TEXT, "svc").is_err());
    }

    #[test]
    fn state_directories_exist_or_can_be_created() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_state_dir(dir.path()).unwrap(), "exists, writable");
        let deep = dir.path().join("a/b/state");
        assert!(
            check_state_dir(&deep)
                .unwrap()
                .starts_with("will be created in")
        );
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let f = check_state_dir(&file).unwrap_err();
        assert!(f.message.contains("not a directory"), "{f:?}");
        let f = check_state_dir(&file.join("state")).unwrap_err();
        assert!(f.message.contains("cannot be created"), "{f:?}");
    }

    #[test]
    fn a_broken_export_names_the_file_and_the_fix() {
        let f = parse_export(Path::new("/tmp/settings.json"), "{ not json").unwrap_err();
        assert!(f.message.contains("/tmp/settings.json"), "{f:?}");
        assert!(f.fix.contains("export"), "{f:?}");
    }

    #[test]
    fn an_export_reads_back_in_staging_mode() {
        let c: Config = crate::config::testing::minimal();
        assert!(!c.sync.staging_mode);
        let bundle = crate::config::export::export(&c, std::time::SystemTime::now(), "old");
        let json = serde_json::to_string(&bundle).unwrap();
        let back = parse_export(Path::new("x.json"), &json).unwrap();
        assert!(back.sync.staging_mode);
    }
}
