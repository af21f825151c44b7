//! Directory extensions (the wizard's "Directory extension attribute sync" page): for each
//! attribute the admin picked, the rules that carry it from AD through the metaverse to the
//! tenant as `extension_<appId>_<name>`, generated from the configuration the way Entra Connect
//! generates its "In from AD - User DirectoryExtension" and "Out to AAD - User
//! DirectoryExtension" rules.
//!
//! Invariants: the generated rules are ordinary join rules (they only flow attributes between
//! objects other rules linked) with the scope of the shipped rule they sit next to; the
//! metaverse attribute has the AD attribute's name; the Graph property name is
//! `extension_<application id without dashes>_<attribute>` for the application hybridsync signs
//! in as (the one that registers the extension properties); a generated rule never takes a
//! precedence an enabled rule already has.

use std::collections::BTreeSet;

use super::model::{Direction, Flow, FlowKind, LinkType, MergeType, Origin, Rule};
use super::set::RuleSet;
use crate::domain::AttributeName;

/// One attribute to sync as a directory extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionAttribute {
    /// `user` or `group`.
    pub object_type: String,
    /// The AD attribute (and metaverse attribute).
    pub attribute: AttributeName,
}

impl ExtensionAttribute {
    /// From the configuration's `user.<attribute>` / `group.<attribute>` spelling.
    pub fn parse(text: &str) -> Option<Self> {
        let (ty, attr) = text.split_once('.')?;
        let ty = ty.to_ascii_lowercase();
        if ty != "user" && ty != "group" {
            return None;
        }
        Some(Self {
            object_type: ty,
            attribute: AttributeName::new(attr).ok()?,
        })
    }

    /// The Graph property for application `app_id`.
    pub fn graph_name(&self, app_id: &str) -> String {
        extension_name(app_id, self.attribute.as_str())
    }
}

/// `extension_<appId without dashes>_<name>`.
pub fn extension_name(app_id: &str, name: &str) -> String {
    format!(
        "extension_{}_{name}",
        app_id.replace('-', "").to_ascii_lowercase()
    )
}

/// (metaverse type, shipped inbound rule to sit next to, shipped outbound rule, names).
const SHAPES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "user",
        "In from AD - User Common",
        "Out to Entra - User Identity",
        "In from AD - User DirectoryExtension",
        "Out to Entra - User DirectoryExtension",
    ),
    (
        "group",
        "In from AD - Group Common",
        "Out to Entra - Group Identity",
        "In from AD - Group DirectoryExtension",
        "Out to Entra - Group DirectoryExtension",
    ),
];

fn flow(target: &AttributeName, source: &AttributeName) -> Flow {
    Flow {
        target: target.clone(),
        kind: FlowKind::Direct(source.clone()),
        apply_once: false,
        merge: MergeType::Update,
        line: 0,
    }
}

impl RuleSet {
    /// This rule set plus the directory extension rules for `attributes`, written to Graph as
    /// extensions of application `app_id`. Nothing changes when `attributes` is empty.
    pub fn with_directory_extensions(
        &self,
        app_id: &str,
        attributes: &[ExtensionAttribute],
    ) -> RuleSet {
        let mut out = self.clone();
        let mut taken: BTreeSet<u32> = self.enabled().map(|r| r.precedence).collect();
        let mut next_free = |from: u32| {
            let mut p = from;
            while taken.contains(&p) {
                p += 1;
            }
            taken.insert(p);
            p
        };
        for (ty, inbound_base, outbound_base, inbound_name, outbound_name) in SHAPES {
            let picked: Vec<&ExtensionAttribute> =
                attributes.iter().filter(|a| a.object_type == *ty).collect();
            if picked.is_empty() {
                continue;
            }
            let (Some(inb), Some(outb)) = (self.get(inbound_base), self.get(outbound_base)) else {
                continue;
            };
            let origin = Origin {
                file: "[features.directory_extensions] in the configuration".into(),
                line: 0,
                shipped: true,
                replaces: None,
            };
            let mut inbound: Rule = inb.clone();
            inbound.name = (*inbound_name).to_string();
            inbound.description = format!(
                "Generated from [features.directory_extensions]: copies {} from Active Directory into the metaverse.",
                names(&picked)
            );
            inbound.direction = Direction::Inbound;
            inbound.link_type = LinkType::Join;
            inbound.join.clear();
            inbound.enable_password_sync = false;
            inbound.immutable_tag = None;
            inbound.precedence = next_free(inb.precedence.max(110));
            inbound.flows = picked
                .iter()
                .map(|a| flow(&a.attribute, &a.attribute))
                .collect();
            inbound.origin = origin.clone();
            let mut outbound: Rule = outb.clone();
            outbound.name = (*outbound_name).to_string();
            outbound.description = format!(
                "Generated from [features.directory_extensions]: writes {} to Entra ID as directory extensions of application {app_id}.",
                names(&picked)
            );
            outbound.link_type = LinkType::Join;
            outbound.join.clear();
            outbound.immutable_tag = None;
            outbound.precedence = next_free(outb.precedence + 1);
            outbound.flows = picked
                .iter()
                .filter_map(|a| {
                    let target = AttributeName::new(&a.graph_name(app_id)).ok()?;
                    Some(flow(&target, &a.attribute))
                })
                .collect();
            outbound.origin = origin;
            out.push_generated(inbound);
            out.push_generated(outbound);
        }
        out
    }
}

fn names(picked: &[&ExtensionAttribute]) -> String {
    picked
        .iter()
        .map(|a| a.attribute.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_carry_each_attribute_to_its_extension_property() {
        let base = RuleSet::builtin().unwrap();
        let attrs: Vec<ExtensionAttribute> =
            ["user.employeeNumber", "group.info", "bad", "contact.x"]
                .iter()
                .filter_map(|t| ExtensionAttribute::parse(t))
                .collect();
        assert_eq!(attrs.len(), 2);
        let app = "9D98ED11-4C48-40D2-98FA-D781915F27E4";
        let set = base.with_directory_extensions(app, &attrs);
        assert_eq!(set.rules().len(), base.rules().len() + 4);
        let out = set.get("Out to Entra - User DirectoryExtension").unwrap();
        assert_eq!(
            out.flows[0].target.as_str(),
            "extension_9d98ed114c4840d298fad781915f27e4_employeeNumber"
        );
        let inb = set.get("In from AD - Group DirectoryExtension").unwrap();
        assert_eq!(inb.flows[0].target.as_str(), "info");
        let mut precedences: Vec<u32> = set.enabled().map(|r| r.precedence).collect();
        let n = precedences.len();
        precedences.sort_unstable();
        precedences.dedup();
        assert_eq!(precedences.len(), n, "unique precedences");
        assert_eq!(
            base.with_directory_extensions(app, &[]).rules().len(),
            base.rules().len()
        );
    }
}
