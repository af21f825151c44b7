//! Domain and OU filtering: whether an object's place in the directory puts it in scope.
//!
//! Entra Connect stores selected OUs by DN only, so renaming an in-scope OU silently drops every
//! object below it at the next full import (mass deletes). hybridsync remembers each selected
//! container by objectGUID *and* DN and matches by GUID whenever both sides know it, so a renamed
//! or moved OU keeps its objects in scope.
//!
//! Invariants: with `mode = all` everything is in scope; with `selected`, the nearest listed
//! container above the object decides (an exclusion below an inclusion wins for its subtree, an
//! inclusion below an exclusion re-includes its subtree, as the wizard's tree of checkboxes
//! means); a listed domain naming context includes its whole domain; an object under nothing
//! listed is out of scope. Pure: the caller supplies the directory's current container GUIDs.
//! Evaluation order (documented): every object is imported into its connector space (so a
//! renamed OU is recognised by GUID before its children are judged); at synchronization,
//! before any rule, (1) attribute filtering removes excluded attributes, (2) domain and OU
//! filtering and then (3) the pilot group decide whether the object is in scope at all (an
//! object that leaves scope is disconnected, and its deprovisioning is a delete the guard
//! counts); then (4) the rules' own scoping filters and (5) `cloudFiltered` decide per rule and
//! per target.

use crate::config::model::{ObjectRef, Scope, ScopeMode};
use crate::domain::{Dn, ObjectGuid};

/// Whether `reference` names `container` (whose objectGUID, if known, is `guid`).
fn names(reference: &ObjectRef, container: &Dn, guid: Option<ObjectGuid>) -> bool {
    match (reference.guid, guid) {
        (Some(want), Some(have)) => want == have,
        _ => reference.dn == *container,
    }
}

/// Whether the object at `dn` is in scope. `guid_of` gives the objectGUID of a container in the
/// directory as it is now (`None` if unknown).
pub fn in_scope(scope: &Scope, dn: &Dn, guid_of: &dyn Fn(&Dn) -> Option<ObjectGuid>) -> bool {
    if scope.mode == ScopeMode::All {
        return true;
    }
    let mut current = Some(dn.clone());
    while let Some(container) = current {
        let guid = guid_of(&container);
        if scope.exclude.iter().any(|r| names(r, &container, guid)) {
            return false;
        }
        if scope.include.iter().any(|r| names(r, &container, guid)) {
            return true;
        }
        if scope.domains.iter().any(|d| d.naming_context == container) {
            return true;
        }
        current = container.parent().filter(|p| !p.is_empty());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::DomainRef;
    use std::collections::HashMap;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    fn guid(n: u8) -> ObjectGuid {
        ObjectGuid::from([n; 16])
    }

    fn selected(include: Vec<ObjectRef>, exclude: Vec<ObjectRef>) -> Scope {
        Scope {
            mode: ScopeMode::Selected,
            domains: Vec::new(),
            include,
            exclude,
        }
    }

    #[test]
    fn all_means_everything() {
        let s = Scope::default();
        assert!(in_scope(&s, &dn("CN=a,OU=x,DC=corp"), &|_| None));
    }

    #[test]
    fn nearest_listed_container_decides() {
        let s = selected(
            vec![
                ObjectRef {
                    dn: dn("OU=Staff,DC=corp"),
                    guid: None,
                },
                ObjectRef {
                    dn: dn("OU=Keep,OU=Service,OU=Staff,DC=corp"),
                    guid: None,
                },
            ],
            vec![ObjectRef {
                dn: dn("OU=Service,OU=Staff,DC=corp"),
                guid: None,
            }],
        );
        let none = |_: &Dn| None;
        assert!(in_scope(&s, &dn("CN=a,OU=Staff,DC=corp"), &none));
        assert!(!in_scope(
            &s,
            &dn("CN=b,OU=Service,OU=Staff,DC=corp"),
            &none
        ));
        assert!(in_scope(
            &s,
            &dn("CN=c,OU=Keep,OU=Service,OU=Staff,DC=corp"),
            &none
        ));
        assert!(!in_scope(&s, &dn("CN=d,OU=Other,DC=corp"), &none));
        // DNs compare without regard to case or spacing.
        assert!(in_scope(&s, &dn("cn=e, ou=STAFF, dc=Corp"), &none));
    }

    #[test]
    fn renaming_an_included_ou_keeps_its_objects_in_scope() {
        let s = selected(
            vec![ObjectRef {
                dn: dn("OU=Sales,DC=corp"),
                guid: Some(guid(7)),
            }],
            vec![],
        );
        // The directory after the rename: the same OU (same GUID) is now called Revenue.
        let containers: HashMap<Dn, ObjectGuid> = [
            (dn("OU=Revenue,DC=corp"), guid(7)),
            (dn("OU=Sales,DC=corp"), guid(9)),
        ]
        .into();
        let guid_of = |d: &Dn| containers.get(d).copied();
        assert!(
            in_scope(&s, &dn("CN=a,OU=Revenue,DC=corp"), &guid_of),
            "followed by GUID"
        );
        assert!(
            !in_scope(&s, &dn("CN=b,OU=Sales,DC=corp"), &guid_of),
            "a new OU that took the old name is not the selected one"
        );
        // Without GUIDs (a hand-written config), DNs are all there is.
        assert!(!in_scope(&s, &dn("CN=c,OU=Revenue,DC=corp"), &|_| None));
    }

    #[test]
    fn a_listed_domain_includes_its_whole_tree() {
        let s = Scope {
            mode: ScopeMode::Selected,
            domains: vec![DomainRef {
                name: "corp.example.com".into(),
                naming_context: dn("DC=corp,DC=example,DC=com"),
            }],
            include: vec![],
            exclude: vec![ObjectRef {
                dn: dn("OU=Lab,DC=corp,DC=example,DC=com"),
                guid: None,
            }],
        };
        assert!(in_scope(
            &s,
            &dn("CN=a,OU=x,DC=corp,DC=example,DC=com"),
            &|_| None
        ));
        assert!(!in_scope(
            &s,
            &dn("CN=a,OU=Lab,DC=corp,DC=example,DC=com"),
            &|_| None
        ));
        assert!(!in_scope(&s, &dn("CN=a,DC=other,DC=com"), &|_| None));
    }
}
