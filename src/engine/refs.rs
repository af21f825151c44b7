//! References between objects (group members, managers, owners) as the engine carries them.
//!
//! In a connector space a reference is a [`Value::Ref`] holding the referenced object's DN in
//! that directory. In the metaverse it is a [`Value::Ref`] holding `mv:<id>`, the referenced
//! metaverse object: connector-neutral and unchanged by renames. Outbound, a metaverse
//! reference becomes the DN of the referenced object's counterpart in the target connector
//! space; a reference whose target has no counterpart there (not synchronized, filtered out)
//! is left out, and added when the counterpart appears.
//!
//! Invariants: a metaverse reference is exactly `mv:` followed by a decimal id; nothing else is
//! ever parsed as one.

use crate::domain::AttributeName;
use crate::engine::expr::Value;
use crate::engine::model::MvId;
use crate::engine::rules::MvObjectType;
use crate::engine::rules::schema::{AttrType, mv_attribute};

const PREFIX: &str = "mv:";

/// The text of a metaverse reference to `mv`.
pub fn mv_ref_text(mv: MvId) -> String {
    format!("{PREFIX}{}", mv.0)
}

/// A metaverse reference to `mv`.
pub fn mv_ref(mv: MvId) -> Value {
    Value::Ref(mv_ref_text(mv))
}

/// The metaverse object a value references, if it is a metaverse reference.
pub fn parse_mv_ref(value: &Value) -> Option<MvId> {
    let Value::Ref(text) = value else { return None };
    let digits = text.strip_prefix(PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(MvId)
}

/// Whether a metaverse attribute of `object_type` holds references.
pub fn is_reference(object_type: MvObjectType, attribute: &AttributeName) -> bool {
    mv_attribute(object_type, attribute.as_str()).is_some_and(|a| a.ty == AttrType::Ref)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metaverse_references_round_trip_and_nothing_else_parses() {
        assert_eq!(parse_mv_ref(&mv_ref(MvId(42))), Some(MvId(42)));
        for text in ["mv:", "mv:x1", "CN=mv:1", "mv:-1", "MV:1 "] {
            assert_eq!(parse_mv_ref(&Value::Ref(text.into())), None, "{text}");
        }
        assert_eq!(parse_mv_ref(&Value::Str("mv:1".into())), None);
    }

    #[test]
    fn member_and_manager_are_references() {
        let member = AttributeName::new("member").unwrap();
        let manager = AttributeName::new("manager").unwrap();
        let mail = AttributeName::new("mail").unwrap();
        assert!(is_reference(MvObjectType::Group, &member));
        assert!(is_reference(MvObjectType::Person, &manager));
        assert!(!is_reference(MvObjectType::Person, &mail));
    }
}
