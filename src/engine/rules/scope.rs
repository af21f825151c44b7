//! Scoping filter evaluation: does a rule apply to an object?
//!
//! Comparison semantics (the Rules Editor leaves them unwritten; these are ours, and tested):
//! - Every attribute value is compared in its **text form**: text and references as they are,
//!   numbers in decimal, booleans as `True`/`False`, dates as the expression language prints them,
//!   and binary values (objectGUID, objectSid, mS-DS-ConsistencyGuid) as **standard base64** of
//!   their bytes, the form of `sourceAnchor` / `onPremisesImmutableId`.
//! - Text comparisons ignore case (Unicode lower-casing), as the Rules Editor does; so booleans
//!   match `True`, `TRUE` and `true` alike.
//! - `EQUAL`/`NOTEQUAL` and the ordering operators compare **as integers** when both sides
//!   parse as 64-bit integers (`512` equals `0512`; `9 < 10`), otherwise as case-insensitive text
//!   (ordering by Unicode code point of the lower-cased text).
//! - A multi-valued attribute satisfies a positive operator (`EQUAL`, `CONTAINS`, `STARTSWITH`,
//!   `ENDSWITH`, `ISIN`, `ISBITSET`, the orderings) when **any** value does, and a negated one
//!   (`NOTEQUAL`, `NOTCONTAINS`, `NOTSTARTSWITH`, `NOTENDSWITH`, `ISNOTIN`, `ISNOTBITSET`) when
//!   **no** value satisfies its positive form. So an absent attribute fails every positive test
//!   and passes every negated one (`adminDescription NOTSTARTSWITH User_` holds for an object
//!   without adminDescription).
//! - `ISNULL` holds when the attribute is absent or NULL; `ISNOTNULL` is its opposite.
//! - `ISBITSET m` holds for a value that is an integer with **every** bit of `m` set; values that
//!   are not integers have no bits set.
//! - `ISMEMBEROF dn` asks the caller's membership callback; `ISNOTMEMBEROF` is its negation.
//!
//! Invariants: evaluation never fails and never panics; it reads only the condition's attribute.

use std::borrow::Cow;
use std::cmp::Ordering;

use base64::Engine as _;

use super::model::{Condition, Operand, Operator, Scope};
use crate::domain::Dn;
use crate::engine::expr::{Object, Value};

impl Scope {
    /// Whether `obj` is in scope: no groups, or every condition of some group holds.
    /// `is_member_of` answers `ISMEMBEROF` (is the object a member of this group?).
    pub fn matches(&self, obj: &dyn Object, is_member_of: &dyn Fn(&Dn) -> bool) -> bool {
        self.groups.is_empty()
            || self
                .groups
                .iter()
                .any(|group| group.iter().all(|c| c.matches(obj, is_member_of)))
    }
}

impl Condition {
    /// Whether the condition holds for `obj`.
    pub fn matches(&self, obj: &dyn Object, is_member_of: &dyn Fn(&Dn) -> bool) -> bool {
        if let Operand::Group(dn) = &self.operand {
            let member = is_member_of(dn);
            return match self.operator {
                Operator::IsMemberOf => member,
                Operator::IsNotMemberOf => !member,
                _ => false,
            };
        }
        // Borrowed, not copied: the values are only read.
        let values = obj.attr_values(&self.attribute).unwrap_or_default();
        let mut texts = values.iter().filter_map(text_cow);
        match self.operator {
            Operator::IsNull => texts.next().is_none(),
            Operator::IsNotNull => texts.next().is_some(),
            op => match op.negated() {
                Some(positive) => !texts.any(|t| test(positive, &t, &self.operand)),
                None => texts.any(|t| test(op, &t, &self.operand)),
            },
        }
    }
}

/// [`text_form`], borrowing text and references (most values) instead of copying them.
fn text_cow(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Str(s) | Value::Ref(s) => Some(Cow::Borrowed(s)),
        other => text_form(other).map(Cow::Owned),
    }
}

/// The text form a value is compared in; `None` for the null kinds.
pub fn text_form(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::AuthoritativeNull | Value::IgnoreThisFlow => None,
        Value::Bin(bytes) => Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        other => Some(other.to_string()),
    }
}

/// A positive operator applied to one value's text form.
fn test(op: Operator, text: &str, operand: &Operand) -> bool {
    match (op, operand) {
        (Operator::IsIn, Operand::List(items)) => items.iter().any(|i| equal(text, i)),
        (Operator::IsBitSet, Operand::Mask(mask)) => {
            text.parse::<i64>().is_ok_and(|v| v & mask == *mask)
        }
        (_, Operand::Text(wanted)) => compare_text(op, text, wanted),
        _ => false,
    }
}

fn compare_text(op: Operator, text: &str, wanted: &str) -> bool {
    match op {
        Operator::Equal => equal(text, wanted),
        Operator::LessThan => order(text, wanted) == Ordering::Less,
        Operator::LessThanOrEqual => order(text, wanted) != Ordering::Greater,
        Operator::GreaterThan => order(text, wanted) == Ordering::Greater,
        Operator::GreaterThanOrEqual => order(text, wanted) != Ordering::Less,
        Operator::Contains => lower(text).contains(lower(wanted).as_ref()),
        Operator::StartsWith => lower(text).starts_with(lower(wanted).as_ref()),
        Operator::EndsWith => lower(text).ends_with(lower(wanted).as_ref()),
        _ => false,
    }
}

/// Equality: as integers when both sides are integers, else as case-insensitive text.
pub fn equal(a: &str, b: &str) -> bool {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x == y,
        // ASCII text (the usual case) lower-cases byte by byte: compared without copies.
        _ if a.is_ascii() && b.is_ascii() => a.eq_ignore_ascii_case(b),
        _ => lower(a) == lower(b),
    }
}

/// The text lower-cased for comparison; borrowed when it has no upper-case letters (the common
/// case), so most comparisons allocate nothing.
fn lower(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        };
    }
    if text
        .chars()
        .any(|c| c.to_lowercase().ne(std::iter::once(c)))
    {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

fn order(a: &str, b: &str) -> Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => lower(a).cmp(&lower(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AttributeName;
    use crate::engine::expr::MemoryObject;

    #[test]
    fn text_comparisons_lower_case_as_str_to_lowercase_does() {
        let samples = [
            "",
            "User",
            "user",
            "USER",
            "Contact",
            "True",
            "true",
            "42",
            "042",
            "x-Y_z 9",
            "Straße",
            "STRASSE",
            "ΣΑΣ",
            "σας",
            "İstanbul",
            "istanbul",
            "Åsa",
            "åsa",
            "ǅ",
        ];
        for a in samples {
            assert_eq!(lower(a), a.to_lowercase(), "{a}");
            for b in samples {
                let expected = match (a.parse::<i64>(), b.parse::<i64>()) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => a.to_lowercase() == b.to_lowercase(),
                };
                assert_eq!(equal(a, b), expected, "{a} = {b}");
            }
        }
    }

    fn cond(attr: &str, op: &str, operand: Operand) -> Condition {
        Condition {
            attribute: AttributeName::new(attr).unwrap(),
            operator: Operator::parse(op).unwrap(),
            operand,
        }
    }

    fn text(s: &str) -> Operand {
        Operand::Text(s.to_string())
    }

    fn no_groups(_: &Dn) -> bool {
        false
    }

    fn check(obj: &MemoryObject, c: &Condition) -> bool {
        c.matches(obj, &no_groups)
    }

    fn user() -> MemoryObject {
        MemoryObject::new(Some("CN=Ann,OU=Staff,DC=corp,DC=example"))
            .with("sAMAccountName", Value::Str("ann".into()))
            .with("userAccountControl", Value::Num(514))
            .with("isCriticalSystemObject", Value::Str("FALSE".into()))
            .with("enabledFlag", Value::Bool(true))
            .with("proxyAddresses", Value::Str("SMTP:ann@corp.example".into()))
            .with("proxyAddresses", Value::Str("smtp:a@corp.example".into()))
            .with("objectGUID", Value::Bin(vec![0; 16]))
            .with("employeeNumber", Value::Str("0042".into()))
    }

    #[test]
    fn text_comparisons_ignore_case_and_booleans_compare_as_true_false() {
        let u = user();
        assert!(check(&u, &cond("sAMAccountName", "EQUAL", text("ANN"))));
        assert!(check(
            &u,
            &cond("isCriticalSystemObject", "equal", text("False"))
        ));
        assert!(!check(
            &u,
            &cond("isCriticalSystemObject", "NOTEQUAL", text("false"))
        ));
        assert!(check(&u, &cond("enabledFlag", "EQUAL", text("TRUE"))));
        assert!(check(&u, &cond("sAMAccountName", "STARTSWITH", text("AN"))));
        assert!(check(&u, &cond("sAMAccountName", "ENDSWITH", text("NN"))));
        assert!(check(&u, &cond("sAMAccountName", "CONTAINS", text("n"))));
        assert!(check(&u, &cond("sAMAccountName", "NOTCONTAINS", text("x"))));
    }

    #[test]
    fn integers_compare_as_numbers() {
        let u = user();
        assert!(check(&u, &cond("employeeNumber", "EQUAL", text("42"))));
        assert!(check(
            &u,
            &cond("userAccountControl", "GREATERTHAN", text("99"))
        ));
        assert!(check(
            &u,
            &cond("userAccountControl", "LESSTHAN_OR_EQUAL", text("514"))
        ));
        assert!(!check(
            &u,
            &cond("userAccountControl", "LESSTHAN", text("514"))
        ));
        assert!(check(
            &u,
            &cond("sAMAccountName", "GREATERTHAN_OR_EQUAL", text("AMY"))
        ));
    }

    #[test]
    fn multi_values_match_any_and_negations_need_none() {
        let u = user();
        assert!(check(
            &u,
            &cond("proxyAddresses", "STARTSWITH", text("smtp:a@"))
        ));
        assert!(!check(
            &u,
            &cond("proxyAddresses", "NOTSTARTSWITH", text("SMTP:ANN"))
        ));
        assert!(check(
            &u,
            &cond("proxyAddresses", "NOTCONTAINS", text("sip:"))
        ));
        assert!(check(
            &u,
            &cond(
                "proxyAddresses",
                "ISIN",
                Operand::List(vec!["x".into(), "SMTP:ANN@corp.example".into()])
            )
        ));
        assert!(!check(
            &u,
            &cond(
                "proxyAddresses",
                "ISNOTIN",
                Operand::List(vec!["smtp:A@corp.example".into()])
            )
        ));
    }

    #[test]
    fn absent_attributes_fail_positive_tests_and_pass_negated_ones() {
        let u = user();
        assert!(!check(
            &u,
            &cond("adminDescription", "STARTSWITH", text("User_"))
        ));
        assert!(check(
            &u,
            &cond("adminDescription", "NOTSTARTSWITH", text("User_"))
        ));
        assert!(check(&u, &cond("adminDescription", "NOTEQUAL", text("x"))));
        assert!(check(
            &u,
            &cond("adminDescription", "ISNULL", Operand::None)
        ));
        assert!(!check(
            &u,
            &cond("adminDescription", "ISNOTNULL", Operand::None)
        ));
        assert!(check(
            &u,
            &cond("sAMAccountName", "ISNOTNULL", Operand::None)
        ));
        assert!(!check(&u, &cond("sAMAccountName", "ISNULL", Operand::None)));
        assert!(check(
            &u,
            &cond(
                "adminDescription",
                "ISNOTIN",
                Operand::List(vec!["a".into()])
            )
        ));
    }

    #[test]
    fn bit_tests_need_every_bit_of_the_mask() {
        let u = user();
        assert!(check(
            &u,
            &cond("userAccountControl", "ISBITSET", Operand::Mask(2))
        ));
        assert!(!check(
            &u,
            &cond("userAccountControl", "ISBITNOTSET", Operand::Mask(2))
        ));
        assert!(check(
            &u,
            &cond("userAccountControl", "ISBITSET", Operand::Mask(512 | 2))
        ));
        assert!(!check(
            &u,
            &cond("userAccountControl", "ISBITSET", Operand::Mask(1 | 2))
        ));
        assert!(check(
            &u,
            &cond("sAMAccountName", "ISNOTBITSET", Operand::Mask(1))
        ));
        let group = MemoryObject::new(None).with("groupType", Value::Num(-2_147_483_646));
        assert!(check(
            &group,
            &cond("groupType", "ISBITSET", Operand::Mask(i64::from(i32::MIN)))
        ));
        let enabled = MemoryObject::new(None).with("userAccountControl", Value::Str("512".into()));
        assert!(check(
            &enabled,
            &cond("userAccountControl", "ISNOTBITSET", Operand::Mask(2))
        ));
    }

    #[test]
    fn binary_values_compare_as_base64() {
        let u = user();
        assert!(check(
            &u,
            &cond("objectGUID", "EQUAL", text("AAAAAAAAAAAAAAAAAAAAAA=="))
        ));
    }

    #[test]
    fn membership_asks_the_callback() {
        let u = user();
        let pilot = Dn::parse("CN=Pilot,OU=Groups,DC=corp,DC=example").unwrap();
        let in_pilot = |dn: &Dn| dn.to_string().starts_with("CN=Pilot");
        let c = cond("memberOf", "ISMEMBEROF", Operand::Group(pilot.clone()));
        assert!(c.matches(&u, &in_pilot));
        assert!(!c.matches(&u, &no_groups));
        let c = cond("memberOf", "ISNOTMEMBEROF", Operand::Group(pilot));
        assert!(!c.matches(&u, &in_pilot));
    }

    #[test]
    fn groups_are_or_and_conditions_inside_are_and() {
        let u = user();
        let scope = Scope {
            groups: vec![
                vec![cond("sAMAccountName", "EQUAL", text("bob"))],
                vec![
                    cond("sAMAccountName", "EQUAL", text("ann")),
                    cond("userAccountControl", "ISBITSET", Operand::Mask(2)),
                ],
            ],
        };
        assert!(scope.matches(&u, &no_groups));
        assert!(Scope::default().matches(&u, &no_groups));
        let none = Scope {
            groups: vec![vec![cond("sAMAccountName", "EQUAL", text("bob"))]],
        };
        assert!(!none.matches(&u, &no_groups));
    }
}
