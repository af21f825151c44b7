//! Declarative sync rules: the rule files admins read and edit (TOML, laid out like the
//! Synchronization Rules Editor), the default rule set hybridsync ships, and the preview of rules
//! on one object that `hybridsync rules test` prints.
//!
//! A rule has a direction (inbound: connector space to metaverse; outbound: metaverse to
//! connector space), a connector (`ad` = every AD forest, `entra` = the tenant, or one AD
//! connector's name), source and target object types, a link type (join, sticky-join,
//! provision), a precedence (lower wins; unique across enabled rules), a scoping filter (OR of
//! AND-groups of conditions), join groups and attribute flows (direct, constant or expression;
//! update or merge; apply-once). The shipped rules live in `templates/rules/*.toml` and are
//! embedded in the binary; the admin's rule files add rules, and a rule with the name of a
//! shipped rule replaces it.
//!
//! Invariants: a [`RuleSet`] only holds rules that passed every check (TOML syntax, known keys,
//! required keys, valid values, one kind per flow, parsable expressions, attributes known to the
//! side they read or write: the metaverse schema, the built-in AD attribute list, the Microsoft
//! Graph properties the Entra target can write; unique names and precedences; consistent merge
//! types). Loading reports every problem at once as [`RuleIssue`]s naming file, line, rule and
//! fix. Evaluation ([`Scope::matches`], [`Rule::preview`], [`RuleSet::preview_object`]) never
//! panics; the comparison semantics of scoping filters are documented in `scope.rs`.
//!
//! | file | role |
//! |---|---|
//! | `model.rs` | the rule types |
//! | `toml_tree.rs` | rule files as TOML values that remember their lines |
//! | `load.rs` | reading and checking one rule file |
//! | `check.rs` | what a rule may read and write, and messages that name the fix |
//! | `set.rs` | the rule set: shipped + user files, cross-rule checks |
//! | `schema.rs` | metaverse schema, AD attribute list, Graph properties |
//! | `scope.rs` | scoping filter evaluation and its comparison semantics |
//! | `plan.rs` | the rules of one direction, connector and object type, compiled for evaluation |
//! | `apply.rs` | previews: one rule, and the whole set with precedence |
//! | `issue.rs` | problems as data |

mod apply;
mod check;
mod extensions;
mod issue;
mod load;
mod model;
mod plan;
pub mod schema;
mod scope;
mod set;
mod toml_tree;

pub(crate) use apply::Resolved;
pub use apply::{FlowError, FlowResult, ObjectPreview, Outcome, Preview, PreviewEnv, RulePreview};
pub use extensions::{ExtensionAttribute, extension_name};
pub use issue::{RuleErrors, RuleIssue, Severity};
pub use model::{
    Condition, Connector, ConnectorKind, ConnectorRef, Direction, Flow, FlowKind, JoinCondition,
    LinkType, MergeType, MvObjectType, Operand, OperandKind, Operator, Origin, Rule, Scope,
};
pub use scope::text_form;
pub use set::{RuleSet, RuleSource};

#[cfg(test)]
mod tests;
