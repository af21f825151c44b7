//! How text from a file becomes typed values when no live schema is at hand: the well-known
//! syntaxes of the Active Directory attributes the default rules read.
//!
//! Invariants: the AD connector types values from the directory's own schema; this table is only
//! for LDIF files (the demo's sample directory, fixtures, `rules test --ldif`). An attribute not
//! listed stays text, which the expression language converts where a number or boolean is needed
//! (as VBA does), so a missing entry changes precision of messages, never results; values that
//! do not parse as their syntax stay as they are (text or bytes), never an error.

use crate::engine::expr::Value;

/// Octet-string and SID syntaxes: always binary.
const BINARY: &[&str] = &[
    "objectGUID",
    "objectSid",
    "mS-DS-ConsistencyGuid",
    "sIDHistory",
    "mS-DS-CreatorSID",
    "msExchMasterAccountSid",
    "msRTCSIP-OriginatorSid",
    "msExchMailboxGuid",
    "msExchArchiveGUID",
    "msExchSafeSendersHash",
    "msExchBlockedSendersHash",
    "msExchSafeRecipientsHash",
    "userCertificate",
    "userSMIMECertificate",
    "thumbnailPhoto",
    "jpegPhoto",
    "nTSecurityDescriptor",
    "logonHours",
    "msDS-CloudAnchor",
];

/// Integer and Large Integer syntaxes.
const INTEGER: &[&str] = &[
    "userAccountControl",
    "groupType",
    "sAMAccountType",
    "adminCount",
    "primaryGroupID",
    "pwdLastSet",
    "accountExpires",
    "lastLogonTimestamp",
    "lastLogon",
    "badPwdCount",
    "logonCount",
    "lockoutTime",
    "uSNChanged",
    "uSNCreated",
    "instanceType",
    "systemFlags",
    "countryCode",
    "msExchRecipientTypeDetails",
    "msExchRecipientDisplayType",
    "msExchRemoteRecipientType",
    "msDS-HABSeniorityIndex",
    "msDS-SupportedEncryptionTypes",
];

/// Boolean syntax.
const BOOLEAN: &[&str] = &[
    "isCriticalSystemObject",
    "msExchHideFromAddressLists",
    "showInAdvancedViewOnly",
    "isDeleted",
];

/// Distinguished-name syntax (references to other objects).
const REFERENCE: &[&str] = &[
    "member",
    "memberOf",
    "manager",
    "directReports",
    "managedBy",
    "managedObjects",
    "secretary",
    "assistant",
    "publicDelegates",
    "authOrig",
    "unauthOrig",
    "dLMemRejectPerms",
    "dLMemSubmitPerms",
    "msExchCoManagedByLink",
    "msExchBypassModerationLink",
    "altRecipient",
];

fn listed(list: &[&str], name: &str) -> bool {
    let base = name.split(';').next().unwrap_or(name);
    list.iter().any(|a| a.eq_ignore_ascii_case(base))
}

/// Whether values of `name` are binary whatever their bytes look like.
pub fn is_binary(name: &str) -> bool {
    listed(BINARY, name)
}

/// A value of attribute `name` read from a file as `bytes`.
pub fn typed_value(name: &str, bytes: &[u8]) -> Value {
    if is_binary(name) {
        return Value::Bin(bytes.to_vec());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Value::Bin(bytes.to_vec());
    };
    if listed(INTEGER, name) {
        if let Ok(n) = text.trim().parse::<i64>() {
            return Value::Num(n);
        }
    } else if listed(BOOLEAN, name) {
        if text.trim().eq_ignore_ascii_case("true") {
            return Value::Bool(true);
        }
        if text.trim().eq_ignore_ascii_case("false") {
            return Value::Bool(false);
        }
    } else if listed(REFERENCE, name) {
        return Value::Ref(text.to_string());
    }
    Value::Str(text.to_string())
}

/// A value of a Microsoft Graph property of `object_type` read from a file (an LDIF file that
/// plays the tenant): typed by the Graph property's type, else as [`typed_value`] does.
pub fn typed_graph_value(object_type: &str, name: &str, bytes: &[u8]) -> Value {
    use crate::engine::rules::schema::{AttrType, graph_writable_property};
    let Some(def) = graph_writable_property(object_type, name) else {
        return typed_value(name, bytes);
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Value::Bin(bytes.to_vec());
    };
    let t = text.trim();
    match def.ty {
        AttrType::Bool if t.eq_ignore_ascii_case("true") => Value::Bool(true),
        AttrType::Bool if t.eq_ignore_ascii_case("false") => Value::Bool(false),
        AttrType::Num => t
            .parse::<i64>()
            .map_or_else(|_| Value::Str(text.to_string()), Value::Num),
        AttrType::Dt => crate::engine::expr::DateTime::parse(t)
            .map_or_else(|| Value::Str(text.to_string()), Value::Date),
        AttrType::Ref => Value::Ref(text.to_string()),
        AttrType::Bin => Value::Bin(bytes.to_vec()),
        _ => Value::Str(text.to_string()),
    }
}

/// The bytes to write for a value of attribute `name` (the inverse of [`typed_value`]).
pub fn value_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Bin(b) => b.clone(),
        Value::Bool(true) => b"TRUE".to_vec(),
        Value::Bool(false) => b"FALSE".to_vec(),
        other => other.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_the_ad_syntaxes() {
        assert_eq!(typed_value("userAccountControl", b"514"), Value::Num(514));
        assert_eq!(
            typed_value("groupType", b"-2147483646"),
            Value::Num(-2_147_483_646)
        );
        assert_eq!(
            typed_value("isCriticalSystemObject", b"TRUE"),
            Value::Bool(true)
        );
        assert_eq!(
            typed_value("member", b"CN=a,DC=x"),
            Value::Ref("CN=a,DC=x".into())
        );
        assert_eq!(
            typed_value("objectGUID", b"abcdefghijklmnop"),
            Value::Bin(b"abcdefghijklmnop".to_vec())
        );
        assert_eq!(typed_value("cn", b"Ann"), Value::Str("Ann".into()));
        assert_eq!(
            typed_value("cn", &[0xff, 0xfe]),
            Value::Bin(vec![0xff, 0xfe])
        );
        // A value that does not fit its syntax stays as written.
        assert_eq!(
            typed_value("userAccountControl", b"lots"),
            Value::Str("lots".into())
        );
        for v in [
            Value::Num(514),
            Value::Bool(true),
            Value::Ref("CN=a".into()),
            Value::Bin(vec![1, 2]),
        ] {
            let name = match v {
                Value::Num(_) => "userAccountControl",
                Value::Bool(_) => "isCriticalSystemObject",
                Value::Ref(_) => "member",
                _ => "objectGUID",
            };
            assert_eq!(typed_value(name, &value_bytes(&v)), v);
        }
    }
}
