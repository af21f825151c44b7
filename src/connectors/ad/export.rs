//! Export (writeback) to AD: add, modify (replace, or incremental add/delete of single values),
//! rename/move (modify DN) and delete, with one result per pending export.
//!
//! Invariants: one object's failure never fails the batch (only a failure to connect at all
//! does, and then nothing was done); objects are found by their anchor (objectGUID), never by a
//! DN that may be stale; a delete of an object that is already gone succeeds (a replayed
//! journal entry); `unicodePwd` is only sent over an encrypted connection, as the quoted
//! UTF-16LE string AD requires; a dropped connection is reopened once and the object retried.

use std::collections::HashSet;

use ldap3::{Mod, Scope};

use super::AdConnector;
use super::connection::Session;
use super::discovery;
use super::error::AdError;
use super::import::escape_filter;
use crate::domain::{AttributeName, Dn};
use crate::engine::connector::ConnectorError;
use crate::engine::expr::Value;
use crate::engine::model::{
    Anchor, AttributeChange, ChangeKind, ExportOutcome, ExportResult, Operation, PendingExport,
};

/// Attributes the engine may name but that are not written (the DN is the entry's name).
const NOT_WRITTEN: &[&str] = &["dn", "distinguishedName", "objectGUID", "objectClass"];

/// The bytes of a value as LDAP sends it.
pub fn value_bytes(attribute: &str, value: &Value) -> Result<Vec<u8>, AdError> {
    if attribute.eq_ignore_ascii_case("unicodePwd") {
        let Value::Str(pw) = value else {
            return Err(AdError::Config("unicodePwd must be text".into()));
        };
        return Ok(unicode_pwd(pw));
    }
    Ok(match value {
        Value::Bin(b) => b.clone(),
        Value::Bool(true) => b"TRUE".to_vec(),
        Value::Bool(false) => b"FALSE".to_vec(),
        Value::Date(d) => d
            .format("yyyyMMddHHmmss.0Z")
            .map_err(AdError::Config)?
            .into_bytes(),
        other => other.to_string().into_bytes(),
    })
}

/// AD's password value: the password in double quotes, UTF-16LE.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn values(attribute: &str, list: &[Value]) -> Result<HashSet<Vec<u8>>, AdError> {
    list.iter().map(|v| value_bytes(attribute, v)).collect()
}

fn written(c: &AttributeChange) -> bool {
    !NOT_WRITTEN.iter().any(|n| c.attribute.eq_ignore_case(n)) && !c.is_noop()
}

fn check_password(session: &Session, attribute: &AttributeName) -> Result<(), AdError> {
    if attribute.eq_ignore_case("unicodePwd") && !session.encrypted() {
        return Err(AdError::Config(
            "unicodePwd is only written over an encrypted connection (tls mode ldaps or \
             starttls)"
                .into(),
        ));
    }
    Ok(())
}

fn mods(session: &Session, changes: &[AttributeChange]) -> Result<Vec<Mod<Vec<u8>>>, AdError> {
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| written(c)) {
        check_password(session, &c.attribute)?;
        let name = c.attribute.as_str().as_bytes().to_vec();
        match c.kind {
            ChangeKind::Replace => {
                out.push(Mod::Replace(name, values(c.attribute.as_str(), &c.new)?));
            }
            ChangeKind::Incremental => {
                if !c.old.is_empty() {
                    out.push(Mod::Delete(
                        name.clone(),
                        values(c.attribute.as_str(), &c.old)?,
                    ));
                }
                if !c.new.is_empty() {
                    out.push(Mod::Add(name, values(c.attribute.as_str(), &c.new)?));
                }
            }
        }
    }
    Ok(out)
}

/// The DN of the object with objectGUID `anchor` below one of `contexts`, if it exists.
async fn find(
    session: &mut Session,
    contexts: &[String],
    anchor: &Anchor,
) -> Result<Option<String>, AdError> {
    let Anchor::Bytes(guid) = anchor else {
        return Err(AdError::Config(format!(
            "anchor {anchor} is not an objectGUID"
        )));
    };
    let filter = format!("(objectGUID={})", escape_filter(guid));
    for nc in contexts {
        let entries = session
            .search_all(nc, Scope::Subtree, &filter, &["1.1"])
            .await?;
        if let Some(e) = entries.first() {
            return e
                .dn_text()
                .map(|d| Some(d.to_owned()))
                .ok_or_else(|| AdError::Malformed("a DN that is not UTF-8".into()));
        }
    }
    Ok(None)
}

async fn guid_of(session: &mut Session, dn: &str) -> Result<Anchor, AdError> {
    let entries = session
        .search_all(dn, Scope::Base, "(objectClass=*)", &["objectGUID"])
        .await?;
    entries
        .first()
        .and_then(|e| e.get("objectGUID"))
        .and_then(|v| v.first())
        .filter(|g| g.len() == 16)
        .map(|g| Anchor::Bytes(g.clone()))
        .ok_or_else(|| AdError::Malformed(format!("'{dn}' has no objectGUID")))
}

fn missing(e: &PendingExport) -> AdError {
    AdError::Ldap {
        operation: format!("{} of '{}'", e.operation, e.dn),
        code: 32,
        text: "no object with this anchor exists in the directory".into(),
    }
}

async fn export_one(
    session: &mut Session,
    contexts: &[String],
    e: &PendingExport,
) -> Result<Anchor, AdError> {
    let anchor = || {
        e.anchor.clone().ok_or_else(|| {
            AdError::Config(format!("{} of '{}' without an anchor", e.operation, e.dn))
        })
    };
    match e.operation {
        Operation::Add => {
            let dn = e.dn.to_string();
            let mut attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![(
                b"objectClass".to_vec(),
                HashSet::from([e.object_class.as_bytes().to_vec()]),
            )];
            for c in e.changes.iter().filter(|c| written(c) && !c.new.is_empty()) {
                check_password(session, &c.attribute)?;
                attrs.push((
                    c.attribute.as_str().as_bytes().to_vec(),
                    values(c.attribute.as_str(), &c.new)?,
                ));
            }
            session.add(&dn, attrs).await?;
            guid_of(session, &dn).await
        }
        Operation::Update => {
            let anchor = anchor()?;
            let dn = find(session, contexts, &anchor)
                .await?
                .ok_or_else(|| missing(e))?;
            let mods = mods(session, &e.changes)?;
            if !mods.is_empty() {
                session.modify(&dn, mods).await?;
            }
            Ok(anchor)
        }
        Operation::Rename => {
            let anchor = anchor()?;
            let current = find(session, contexts, &anchor)
                .await?
                .ok_or_else(|| missing(e))?;
            let current_dn = Dn::parse(&current).map_err(|x| AdError::Malformed(x.to_string()))?;
            let mods = mods(session, &e.changes)?;
            if current_dn != e.dn {
                let rdn =
                    e.dn.rdn()
                        .ok_or_else(|| AdError::Config("cannot rename to the root DSE".into()))?;
                let parent = e.dn.parent().unwrap_or_else(Dn::root);
                let new_parent =
                    (current_dn.parent().as_ref() != Some(&parent)).then(|| parent.to_string());
                session
                    .modify_dn(&current, &rdn.to_string(), new_parent.as_deref())
                    .await?;
            }
            if !mods.is_empty() {
                session.modify(&e.dn.to_string(), mods).await?;
            }
            Ok(anchor)
        }
        Operation::Delete => {
            let anchor = anchor()?;
            if let Some(dn) = find(session, contexts, &anchor).await? {
                session.delete(&dn).await?;
            }
            Ok(anchor)
        }
    }
}

fn failed(e: &AdError) -> ExportOutcome {
    ExportOutcome::Failed {
        error: e.to_string(),
        retryable: e.is_connection(),
    }
}

impl AdConnector {
    pub(crate) async fn run_export(
        &self,
        batch: &[PendingExport],
    ) -> Result<Vec<ExportResult>, ConnectorError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let name = self.name.as_str();
        let mut session = self
            .connect(None)
            .await
            .map_err(|e| e.into_connector(name))?;
        let root = discovery::root_dse(&mut session)
            .await
            .map_err(|e| e.into_connector(name))?;
        let contexts = self
            .contexts_of(&root)
            .map_err(|e| e.into_connector(name))?;
        let mut results = Vec::with_capacity(batch.len());
        let mut session = Some(session);
        for e in batch {
            let mut outcome = match session.as_mut() {
                Some(s) => export_one(s, &contexts, e).await,
                None => Err(AdError::Config("no connection".into())),
            };
            if outcome.as_ref().is_err_and(AdError::is_connection) {
                // The connection broke: open a new one and try this object once more.
                match self.connect(None).await {
                    Ok(mut s) => {
                        outcome = export_one(&mut s, &contexts, e).await;
                        session = Some(s);
                    }
                    Err(err) => {
                        outcome = Err(err);
                        session = None;
                    }
                }
            }
            let outcome = match outcome {
                Ok(anchor) => ExportOutcome::Exported { anchor },
                Err(err) => {
                    tracing::warn!(dn = %e.dn, operation = %e.operation, error = %err, "export failed");
                    failed(&err)
                }
            };
            results.push(ExportResult { cs: e.cs, outcome });
        }
        if let Some(s) = session {
            s.close().await;
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn passwords_are_quoted_utf16le() {
        assert_eq!(unicode_pwd("ab"), vec![0x22, 0, b'a', 0, b'b', 0, 0x22, 0]);
        assert_eq!(
            value_bytes("unicodePwd", &Value::Str("é".into())).unwrap(),
            vec![0x22, 0, 0xe9, 0, 0x22, 0]
        );
        assert!(value_bytes("unicodePwd", &Value::Num(1)).is_err());
        assert_eq!(value_bytes("x", &Value::Num(-5)).unwrap(), b"-5");
        assert_eq!(value_bytes("x", &Value::Bool(true)).unwrap(), b"TRUE");
        let d = crate::engine::expr::DateTime::parse("20240102030405.0Z").unwrap();
        assert_eq!(
            value_bytes("x", &Value::Date(d)).unwrap(),
            b"20240102030405.0Z"
        );
    }
}
