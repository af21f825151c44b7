//! Microsoft Graph v1.0 on the emulated tenant: request routing for `/organization`, `/domains`,
//! `/users`, `/groups` (+ members), `/directory/deletedItems`, `/applications` (+
//! `extensionProperties`, `addPassword`, `addKey`/`removeKey`) and `/servicePrincipals`, with
//! `$select`, `$filter`, `$search`, `$top`, `$count`, nextLink paging and delta queries.
//!
//! Invariants: [`dispatch`] is a pure function of the tenant and one request, so `$batch` runs
//! the very same code per item; permissions are checked before any state changes (an
//! application may roll its own keys without any, as Graph documents); a page holds at most
//! `$top` objects (1..=999, default 100) and its nextLink carries every original query option
//! plus an opaque `$skiptoken`; `$search` needs `ConsistencyLevel: eventual` and narrows the
//! `$filter` result (tokenized prefix match on `displayName`/`description`, startswith on other
//! properties); an `extension_*` name in `$select` or `$filter` must be registered for the kind
//! of object, and an extension the object has no value for is left out of `$select` results.

use serde_json::{Map, Value, json};

use super::error::GraphError;
use super::filter;
use super::sts::Caller;
use super::tenant::{GROUP_DEFAULT, Kind, Object, Tenant, USER_DEFAULT, id_from_ref, new_domain};
use super::util::{b64url, b64url_decode, new_guid};

/// One Graph request, already authenticated.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path segments after `/v1.0/`, percent-decoded.
    pub segments: Vec<String>,
    /// Query options, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// `ConsistencyLevel: eventual` was sent.
    pub eventual: bool,
    /// Parsed JSON body, if any.
    pub body: Option<Value>,
    /// The caller's permissions.
    pub caller: Caller,
}

/// A Graph response.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphBody {
    /// JSON body.
    Json(Value),
    /// `text/plain` body (`/$count`).
    Text(String),
    /// No body (204).
    Empty,
}

/// Status and body.
pub type GraphResult = Result<(u16, GraphBody), GraphError>;

const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const WRITE_USERS: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
const READ_GROUPS: &[&str] = &[
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const WRITE_GROUPS: &[&str] = &[
    "Group.ReadWrite.All",
    "Group.Create",
    "Directory.ReadWrite.All",
];
const WRITE_MEMBERS: &[&str] = &[
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const READ_ORG: &[&str] = &[
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Domain.Read.All",
    "Domain.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.Read.All",
    "User.ReadWrite.All",
];
const WRITE_ORG: &[&str] = &[
    "Organization.ReadWrite.All",
    "Domain.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const READ_APPS: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const ASSIGN_ROLES: &[&str] = &[
    "AppRoleAssignment.ReadWrite.All",
    "Application.ReadWrite.All",
];
const WRITE_APPS: &[&str] = &[
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.ReadWrite.All",
];

fn need(caller: &Caller, perms: &[&str]) -> Result<(), GraphError> {
    if caller.has_any(perms) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

impl GraphRequest {
    fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| {
                k.eq_ignore_ascii_case(name) || k.eq_ignore_ascii_case(name.trim_start_matches('$'))
            })
            .map(|(_, v)| v.as_str())
    }
    fn body_map(&self) -> Result<Map<String, Value>, GraphError> {
        match &self.body {
            Some(Value::Object(m)) => Ok(m.clone()),
            _ => Err(GraphError::bad_request(
                "Empty Payload. JSON content expected.",
            )),
        }
    }
    /// Whether this request writes (throttling class).
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

/// Route and run one Graph request against the tenant. `base` is the public Graph base
/// (`https://127.0.0.1:8443/v1.0`).
pub fn dispatch(t: &mut Tenant, base: &str, r: &GraphRequest) -> GraphResult {
    t.expire();
    // Type casts come as `microsoft.graph.user` or with the SDKs' alias `graph.user`.
    let seg: Vec<String> = r
        .segments
        .iter()
        .map(|s| match s.strip_prefix("graph.") {
            Some(rest) => format!("microsoft.graph.{rest}"),
            None => s.clone(),
        })
        .collect();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let m = r.method.as_str();
    let c = &r.caller;
    match (m, seg.as_slice()) {
        ("GET", ["organization"]) => {
            need(c, READ_ORG)?;
            let org = t.organization();
            list_of(base, "organization", r, vec![obj(org)], &[], false)
        }
        ("GET", ["organization", id]) if *id == t.tenant_id => {
            need(c, READ_ORG)?;
            Ok(ok_json(with_context(
                base,
                "organization/$entity",
                t.organization(),
            )))
        }
        ("PATCH", ["organization", id]) if *id == t.tenant_id => {
            need(c, WRITE_ORG)?;
            for k in r.body_map()?.keys() {
                if k == "onPremisesSyncEnabled" || k == "id" || k == "verifiedDomains" {
                    return Err(GraphError::read_only(k));
                }
            }
            Ok((204, GraphBody::Empty))
        }
        ("GET", ["domains"]) => {
            need(c, READ_ORG)?;
            let items = t.domains.clone();
            list_of(base, "domains", r, items, &[], false)
        }
        ("GET", ["domains", id]) => {
            need(c, READ_ORG)?;
            let d = find_domain(t, id)?;
            Ok(ok_json(with_context(
                base,
                "domains/$entity",
                Value::Object(d.clone()),
            )))
        }
        ("POST", ["domains"]) => {
            need(c, WRITE_ORG)?;
            let name = r
                .body_map()?
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if name.is_empty() || !name.contains('.') {
                return Err(GraphError::bad_request(
                    "Invalid value specified for property 'id' of resource 'Domain'.",
                ));
            }
            if find_domain(t, &name).is_ok() {
                return Err(GraphError::bad_request(format!(
                    "Domain '{name}' already exists."
                )));
            }
            let d = new_domain(&name, false);
            t.domains.push(d.clone());
            Ok((
                201,
                GraphBody::Json(with_context(base, "domains/$entity", Value::Object(d))),
            ))
        }
        ("POST", ["domains", id, "verify"]) => {
            need(c, WRITE_ORG)?;
            let d = t
                .domains
                .iter_mut()
                .find(|d| {
                    d.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|x| x.eq_ignore_ascii_case(id))
                })
                .ok_or_else(|| GraphError::not_found(id))?;
            d.insert("isVerified".into(), json!(true));
            d.insert(
                "supportedServices".into(),
                json!(["Email", "OfficeCommunicationsOnline"]),
            );
            Ok(ok_json(with_context(
                base,
                "domains/$entity",
                Value::Object(d.clone()),
            )))
        }
        ("DELETE", ["domains", id]) => {
            need(c, WRITE_ORG)?;
            let d = find_domain(t, id)?;
            if d.get("isInitial") == Some(&Value::Bool(true)) {
                return Err(GraphError::bad_request(
                    "The initial domain cannot be deleted.",
                ));
            }
            t.domains.retain(|d| {
                d.get("id")
                    .and_then(Value::as_str)
                    .is_none_or(|x| !x.eq_ignore_ascii_case(id))
            });
            Ok((204, GraphBody::Empty))
        }

        // ---- users and groups
        ("GET", [coll @ ("users" | "groups")]) => {
            let kind = kind_of(coll);
            need(c, read_perms(kind))?;
            check_extensions_named(t, kind, r)?;
            // Lookups by UPN or immutable id (hard and soft match) use the tenant's index.
            let indexed = match (kind, r.q("$filter").map(filter::parse)) {
                (Kind::User, Some(Ok(expr))) => t.indexed_users(&expr),
                _ => None,
            };
            let objs = match indexed {
                Some(users) => prefiltered(users.into_iter().map(|o| &o.props), r),
                None => prefiltered(t.list(kind).map(|o| &o.props), r),
            };
            list_of(base, coll, r, objs, defaults(kind), true)
        }
        ("GET", [coll @ ("users" | "groups"), "$count"]) => {
            let kind = kind_of(coll);
            need(c, read_perms(kind))?;
            if !r.eventual {
                return Err(GraphError::bad_request(
                    "$count is not currently supported.",
                ));
            }
            check_extensions_named(t, kind, r)?;
            let objs = prefiltered(t.list(kind).map(|o| &o.props), r);
            let matched = apply_filter(kind_name(kind), r, objs)?;
            let matched = apply_search(kind_name(kind), r, matched)?;
            Ok((200, GraphBody::Text(matched.len().to_string())))
        }
        ("GET", [coll @ ("users" | "groups"), d @ ("delta" | "delta()")]) => {
            let kind = kind_of(coll);
            need(c, read_perms(kind))?;
            check_extensions_named(t, kind, r)?;
            delta(t, base, &format!("{coll}/{d}"), kind, r)
        }
        ("POST", ["users"]) => {
            need(c, WRITE_USERS)?;
            let o = t.create_user(r.body_map()?)?;
            Ok((
                201,
                GraphBody::Json(with_context(base, "users/$entity", render(o, None))),
            ))
        }
        ("POST", ["groups"]) => {
            need(c, WRITE_GROUPS)?;
            let o = t.create_group(r.body_map()?)?;
            Ok((
                201,
                GraphBody::Json(with_context(base, "groups/$entity", render(o, None))),
            ))
        }
        (
            "GET",
            [
                coll @ ("users" | "groups" | "applications" | "servicePrincipals"),
                id,
            ],
        ) => {
            let kind = kind_of(coll);
            need(c, read_perms(kind))?;
            check_extensions_named(t, kind, r)?;
            let o = t.live(kind, id)?;
            let sel = select_list(r);
            let mut v = render(o, Some(sel.as_deref().unwrap_or(defaults(kind))));
            if sel.is_none() && defaults(kind).is_empty() {
                v = render(o, None);
            }
            Ok(ok_json(with_context(base, &format!("{coll}/$entity"), v)))
        }
        ("PATCH", [coll @ ("users" | "groups" | "applications"), id]) => {
            let kind = kind_of(coll);
            let body = r.body_map()?;
            need(c, write_perms(kind))?;
            if body.contains_key("members@odata.bind") {
                need(c, WRITE_MEMBERS)?;
            }
            t.update(kind, id, body)?;
            Ok((204, GraphBody::Empty))
        }
        (
            "DELETE",
            [
                coll @ ("users" | "groups" | "applications" | "servicePrincipals"),
                id,
            ],
        ) => {
            let kind = kind_of(coll);
            need(c, write_perms(kind))?;
            t.delete(kind, id)?;
            Ok((204, GraphBody::Empty))
        }
        ("GET", ["groups", id, "members"])
        | ("GET", ["groups", id, "members", "microsoft.graph.user"]) => {
            need(c, READ_GROUPS)?;
            let g = t.live(Kind::Group, id)?;
            let objs: Vec<Map<String, Value>> = g
                .members
                .iter()
                .filter_map(|m| t.objects.get(m))
                .filter(|o| seg.len() == 3 || o.kind == Kind::User)
                .map(|o| typed(o, select_list(r).as_deref().unwrap_or(defaults(o.kind))))
                .collect();
            list_of(base, "directoryObjects", r, objs, &[], false)
        }
        ("GET", ["users", id, "memberOf"]) => {
            need(c, READ_GROUPS)?;
            let uid = t.live(Kind::User, id)?.id().to_string();
            let objs: Vec<Map<String, Value>> = t
                .list(Kind::Group)
                .filter(|g| g.members.contains(&uid))
                .map(|o| typed(o, select_list(r).as_deref().unwrap_or(GROUP_DEFAULT)))
                .collect();
            list_of(base, "directoryObjects", r, objs, &[], false)
        }
        ("PUT", ["users", id, "manager", "$ref"]) => {
            need(c, WRITE_USERS)?;
            let body = r.body_map()?;
            let url = body
                .get("@odata.id")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    GraphError::bad_request("Missing property '@odata.id' in the request body.")
                })?;
            t.set_manager(id, Some(&id_from_ref(url)))?;
            Ok((204, GraphBody::Empty))
        }
        ("DELETE", ["users", id, "manager", "$ref"]) => {
            need(c, WRITE_USERS)?;
            t.set_manager(id, None)?;
            Ok((204, GraphBody::Empty))
        }
        ("GET", ["users", id, "manager"]) => {
            need(c, READ_USERS)?;
            let u = t.live(Kind::User, id)?;
            let m = u
                .manager
                .as_ref()
                .and_then(|m| t.objects.get(m))
                .filter(|m| m.deleted_at.is_none())
                .ok_or_else(|| GraphError::not_found("manager"))?;
            let sel = select_list(r);
            let v = typed(m, sel.as_deref().unwrap_or(USER_DEFAULT));
            Ok(ok_json(with_context(
                base,
                "directoryObjects/$entity",
                Value::Object(v),
            )))
        }
        ("POST", ["groups", id, "members", "$ref"]) => {
            need(c, WRITE_MEMBERS)?;
            let body = r.body_map()?;
            let url = body
                .get("@odata.id")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    GraphError::bad_request("Missing property '@odata.id' in the request body.")
                })?;
            t.add_member(id, &id_from_ref(url))?;
            Ok((204, GraphBody::Empty))
        }
        ("DELETE", ["groups", id, "members", mid, "$ref"]) => {
            need(c, WRITE_MEMBERS)?;
            t.remove_member(id, mid)?;
            Ok((204, GraphBody::Empty))
        }

        // ---- recycle bin
        (
            "GET",
            [
                "directory",
                "deletedItems",
                ty @ ("microsoft.graph.user"
                | "microsoft.graph.group"
                | "microsoft.graph.application"),
            ],
        ) => {
            let kind = kind_of(
                ty.trim_start_matches("microsoft.graph.")
                    .trim_end_matches('s'),
            );
            need(c, read_perms(kind))?;
            let objs: Vec<Map<String, Value>> =
                prefiltered(t.deleted(Some(kind)).map(|o| &o.props), r);
            list_of(
                base,
                &format!("directory/deletedItems/{ty}"),
                r,
                objs,
                defaults(kind),
                true,
            )
        }
        ("GET", ["directory", "deletedItems"]) => Err(GraphError::bad_request(
            "Unsupported query: a type cast segment (microsoft.graph.user, microsoft.graph.group, microsoft.graph.application) is required.",
        )),
        ("GET", ["directory", "deletedItems", id]) => {
            need(c, READ_USERS)?;
            let o = t
                .deleted(None)
                .find(|o| o.id() == *id)
                .ok_or_else(|| GraphError::not_found(id))?;
            Ok(ok_json(with_context(
                base,
                "directory/deletedItems/$entity",
                typed_value(o, None),
            )))
        }
        ("POST", ["directory", "deletedItems", id, "restore"]) => {
            let kind = t
                .deleted(None)
                .find(|o| o.id() == *id)
                .map(|o| o.kind)
                .ok_or_else(|| GraphError::not_found(id))?;
            need(c, write_perms(kind))?;
            let o = t.restore(id)?;
            Ok(ok_json(with_context(
                base,
                "directoryObjects/$entity",
                typed_value(o, None),
            )))
        }
        ("DELETE", ["directory", "deletedItems", id]) => {
            let kind = t
                .deleted(None)
                .find(|o| o.id() == *id)
                .map(|o| o.kind)
                .ok_or_else(|| GraphError::not_found(id))?;
            need(c, write_perms(kind))?;
            t.purge(id);
            Ok((204, GraphBody::Empty))
        }

        // ---- applications and service principals
        ("GET", [coll @ ("applications" | "servicePrincipals")]) => {
            let kind = kind_of(coll);
            need(c, READ_APPS)?;
            let objs = prefiltered(t.list(kind).map(|o| &o.props), r);
            list_of(base, coll, r, objs, &[], true)
        }
        ("POST", ["applications"]) => {
            need(c, WRITE_APPS)?;
            let mut body = r.body_map()?;
            if body.get("displayName").and_then(Value::as_str).is_none() {
                return Err(GraphError::bad_request(
                    "Invalid value specified for property 'displayName' of resource 'Application'.",
                ));
            }
            body.insert("appId".into(), json!(new_guid()));
            for k in [
                "keyCredentials",
                "passwordCredentials",
                "extensionProperties",
            ] {
                body.entry(k).or_insert(json!([]));
            }
            let id = insert(t, Kind::Application, body);
            let o = t.live(Kind::Application, &id)?;
            Ok((
                201,
                GraphBody::Json(with_context(base, "applications/$entity", render(o, None))),
            ))
        }
        ("POST", ["servicePrincipals"]) => {
            need(c, WRITE_APPS)?;
            let mut body = r.body_map()?;
            let app_id = body
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let app = t.list(Kind::Application).find(|a| a.props.get("appId").and_then(Value::as_str) == Some(&app_id))
                .ok_or_else(|| GraphError::bad_request(format!("The appId '{app_id}' of the service principal does not reference a valid application object.")))?;
            let name = app.props.get("displayName").cloned().unwrap_or(Value::Null);
            if t.list(Kind::ServicePrincipal)
                .any(|s| s.props.get("appId").and_then(Value::as_str) == Some(&app_id))
            {
                return Err(GraphError::conflict("appId"));
            }
            body.insert("displayName".into(), name);
            body.insert("servicePrincipalType".into(), json!("Application"));
            body.entry("accountEnabled").or_insert(json!(true));
            let id = insert(t, Kind::ServicePrincipal, body);
            let o = t.live(Kind::ServicePrincipal, &id)?;
            Ok((
                201,
                GraphBody::Json(with_context(
                    base,
                    "servicePrincipals/$entity",
                    render(o, None),
                )),
            ))
        }
        (
            "POST",
            [
                "servicePrincipals",
                id,
                rel @ ("appRoleAssignments" | "appRoleAssignedTo"),
            ],
        ) => {
            need(c, ASSIGN_ROLES)?;
            let mut body = r.body_map()?;
            let key = if *rel == "appRoleAssignments" {
                "principalId"
            } else {
                "resourceId"
            };
            match body.get(key).and_then(Value::as_str) {
                Some(x) if x == *id => {}
                Some(_) => {
                    return Err(GraphError::bad_request(format!(
                        "The {key} in the request body must be the service principal in the URL."
                    )));
                }
                None => {
                    body.insert(key.into(), json!(id));
                }
            }
            let a = t.assign_app_role(&body)?;
            Ok((
                201,
                GraphBody::Json(with_context(
                    base,
                    &format!("servicePrincipals('{id}')/{rel}/$entity"),
                    Value::Object(a),
                )),
            ))
        }
        (
            "GET",
            [
                "servicePrincipals",
                id,
                rel @ ("appRoleAssignments" | "appRoleAssignedTo"),
            ],
        ) => {
            need(c, READ_APPS)?;
            t.live(Kind::ServicePrincipal, id)?;
            let key = if *rel == "appRoleAssignments" {
                "principalId"
            } else {
                "resourceId"
            };
            let items: Vec<Map<String, Value>> = t
                .assignments
                .iter()
                .filter(|a| a.get(key).and_then(Value::as_str) == Some(id))
                .cloned()
                .collect();
            list_of(
                base,
                &format!("servicePrincipals('{id}')/{rel}"),
                r,
                items,
                &[],
                false,
            )
        }
        (
            "DELETE",
            [
                "servicePrincipals",
                id,
                "appRoleAssignments" | "appRoleAssignedTo",
                aid,
            ],
        ) => {
            need(c, ASSIGN_ROLES)?;
            t.unassign_app_role(id, aid)?;
            Ok((204, GraphBody::Empty))
        }
        ("GET", ["applications", id, "extensionProperties"]) => {
            need(c, READ_APPS)?;
            let a = t.live(Kind::Application, id)?;
            let items: Vec<Map<String, Value>> = a
                .props
                .get("extensionProperties")
                .and_then(Value::as_array)
                .map(|xs| xs.iter().filter_map(|x| x.as_object().cloned()).collect())
                .unwrap_or_default();
            list_of(
                base,
                &format!("applications('{id}')/extensionProperties"),
                r,
                items,
                &[],
                false,
            )
        }
        ("POST", ["applications", id, "extensionProperties"]) => {
            need(c, WRITE_APPS)?;
            let body = r.body_map()?;
            let a = t.live(Kind::Application, id)?;
            let app_id = a
                .props
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .replace('-', "");
            let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
            let data_type = body
                .get("dataType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let invalid = |p: &str| {
                GraphError::bad_request(format!(
                    "Invalid value specified for property '{p}' of resource 'ExtensionProperty'."
                ))
            };
            if name.is_empty()
                || name.len() > 120
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(invalid("name"));
            }
            if ![
                "String",
                "Boolean",
                "Integer",
                "Binary",
                "DateTime",
                "LargeInteger",
            ]
            .contains(&data_type)
            {
                return Err(invalid("dataType"));
            }
            let targets = body
                .get("targetObjects")
                .and_then(Value::as_array)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| invalid("targetObjects"))?;
            const TARGETS: &[&str] = &[
                "User",
                "Group",
                "AdministrativeUnit",
                "Application",
                "Device",
                "Organization",
            ];
            if !targets
                .iter()
                .all(|x| x.as_str().is_some_and(|x| TARGETS.contains(&x)))
            {
                return Err(invalid("targetObjects"));
            }
            let multi = match body.get("isMultiValued") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(invalid("isMultiValued")),
            };
            let ext = json!({
                "id": new_guid(),
                "deletedDateTime": null,
                "appDisplayName": a.props.get("displayName"),
                "dataType": data_type,
                "isMultiValued": multi,
                "isSyncedFromOnPremises": false,
                "name": format!("extension_{app_id}_{name}"),
                "targetObjects": targets,
            });
            let mut exts = a
                .props
                .get("extensionProperties")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if exts.iter().any(|x| x.get("name") == ext.get("name")) {
                return Err(GraphError::conflict("name"));
            }
            exts.push(ext.clone());
            let mut patch = Map::new();
            patch.insert("extensionProperties".into(), Value::Array(exts));
            let id = id.to_string();
            t.update(Kind::Application, &id, patch)?;
            Ok((
                201,
                GraphBody::Json(with_context(
                    base,
                    &format!("applications('{id}')/extensionProperties/$entity"),
                    ext,
                )),
            ))
        }
        ("DELETE", ["applications", id, "extensionProperties", ext_id]) => {
            need(c, WRITE_APPS)?;
            let a = t.live(Kind::Application, id)?;
            let mut exts = a
                .props
                .get("extensionProperties")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let before = exts.len();
            exts.retain(|x| x.get("id").and_then(Value::as_str) != Some(*ext_id));
            if exts.len() == before {
                return Err(GraphError::not_found(ext_id));
            }
            let mut patch = Map::new();
            patch.insert("extensionProperties".into(), Value::Array(exts));
            let id = id.to_string();
            t.update(Kind::Application, &id, patch)?;
            Ok((204, GraphBody::Empty))
        }
        ("POST", ["applications", id, action @ ("addKey" | "removeKey")]) => {
            let body = r.body_map()?;
            let a = t.live(Kind::Application, id)?;
            let object_id = a.id().to_string();
            let app_id = a
                .props
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            // "An application does not need any specific permission to roll its own keys."
            if c.app_id != app_id {
                need(c, WRITE_APPS)?;
            }
            let certificates = t
                .clients
                .get(&app_id)
                .map(|x| x.certificates.clone())
                .unwrap_or_default();
            let proof = body
                .get("proof")
                .and_then(Value::as_str)
                .unwrap_or_default();
            super::sts::verify_proof(&certificates, &object_id, proof)?;
            if *action == "removeKey" {
                let key_id = body.get("keyId").and_then(Value::as_str).ok_or_else(|| {
                    GraphError::bad_request(
                        "Invalid value specified for property 'keyId' of resource 'Application'.",
                    )
                })?;
                t.remove_key_credential(&object_id, key_id)?;
                return Ok((204, GraphBody::Empty));
            }
            let kc = body
                .get("keyCredential")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let entry = t.add_key_credential(&object_id, &kc, body.get("passwordCredential"))?;
            Ok(ok_json(with_context(
                base,
                "microsoft.graph.keyCredential",
                Value::Object(entry),
            )))
        }
        ("POST", ["applications", id, "addPassword"]) => {
            need(c, WRITE_APPS)?;
            let a = t.live(Kind::Application, id)?;
            let app_id = a
                .props
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let secret = b64url(format!("{}{}", new_guid(), new_guid()).as_bytes());
            let cred = json!({
                "keyId": new_guid(),
                "displayName": r.body.as_ref().and_then(|b| b.pointer("/passwordCredential/displayName")).cloned().unwrap_or(Value::Null),
                "hint": secret.get(..3),
                "secretText": secret,
                "startDateTime": super::util::iso8601(super::util::now_secs()),
                "endDateTime": super::util::iso8601(super::util::now_secs() + 2 * 365 * 86_400),
            });
            let client = t
                .clients
                .entry(app_id.clone())
                .or_insert_with(|| super::tenant::Client {
                    app_id,
                    secrets: Vec::new(),
                    certificates: Vec::new(),
                    roles: Vec::new(),
                });
            client.secrets.push(secret);
            Ok(ok_json(with_context(
                base,
                "microsoft.graph.passwordCredential",
                cred,
            )))
        }
        (_, [first, ..])
            if [
                "users",
                "groups",
                "organization",
                "domains",
                "directory",
                "applications",
                "servicePrincipals",
            ]
            .contains(first) =>
        {
            Err(GraphError::new(
                405,
                "Request_BadRequest",
                format!("Unsupported request: {m} /{}", seg.join("/")),
            ))
        }
        _ => Err(GraphError::new(
            400,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                seg.first().copied().unwrap_or_default()
            ),
        )),
    }
}

fn insert(t: &mut Tenant, kind: Kind, mut props: Map<String, Value>) -> String {
    props.insert(
        "createdDateTime".into(),
        json!(super::util::iso8601(super::util::now_secs())),
    );
    t.insert(kind, props)
}

fn find_domain<'a>(t: &'a Tenant, id: &str) -> Result<&'a Map<String, Value>, GraphError> {
    t.domains
        .iter()
        .find(|d| {
            d.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        })
        .ok_or_else(|| GraphError::not_found(id))
}

fn kind_of(coll: &str) -> Kind {
    match coll {
        "users" | "user" => Kind::User,
        "groups" | "group" => Kind::Group,
        "applications" | "application" => Kind::Application,
        _ => Kind::ServicePrincipal,
    }
}
fn kind_name(kind: Kind) -> &'static str {
    kind.resource()
}
fn read_perms(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => READ_USERS,
        Kind::Group => READ_GROUPS,
        _ => READ_APPS,
    }
}
fn write_perms(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => WRITE_USERS,
        Kind::Group => WRITE_GROUPS,
        _ => WRITE_APPS,
    }
}
fn defaults(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => USER_DEFAULT,
        Kind::Group => GROUP_DEFAULT,
        _ => &[],
    }
}

fn ok_json(v: Value) -> (u16, GraphBody) {
    (200, GraphBody::Json(v))
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn with_context(base: &str, ctx: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(
        "@odata.context".into(),
        json!(format!("{base}/$metadata#{ctx}")),
    );
    if let Value::Object(o) = v {
        m.extend(o);
    }
    Value::Object(m)
}

fn project(props: &Map<String, Value>, select: Option<&[&str]>) -> Map<String, Value> {
    match select {
        None | Some([]) => props.clone(),
        Some(sel) => sel
            .iter()
            // An extension the object has no value for is left out, as Graph does.
            .filter(|k| {
                !k.starts_with("extension_") || props.keys().any(|p| p.eq_ignore_ascii_case(k))
            })
            .map(|k| {
                let v = props
                    .iter()
                    .find(|(p, _)| p.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null);
                let key = props
                    .keys()
                    .find(|p| p.eq_ignore_ascii_case(k))
                    .cloned()
                    .unwrap_or_else(|| k.to_string());
                (key, v)
            })
            .collect(),
    }
}

fn render(o: &Object, select: Option<&[&str]>) -> Value {
    Value::Object(project(&o.props, select))
}

fn typed(o: &Object, select: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "@odata.type".into(),
        json!(format!("#microsoft.graph.{}", o.kind.type_name())),
    );
    m.extend(project(&o.props, Some(select)));
    m.entry("id").or_insert(json!(o.id()));
    m
}

fn typed_value(o: &Object, select: Option<&[&str]>) -> Value {
    let mut m = Map::new();
    m.insert(
        "@odata.type".into(),
        json!(format!("#microsoft.graph.{}", o.kind.type_name())),
    );
    m.extend(project(&o.props, select));
    Value::Object(m)
}

fn select_list(r: &GraphRequest) -> Option<Vec<&str>> {
    r.q("$select").map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// Properties `$filter` may name, per resource.
fn filterable(resource: &str, prop: &str) -> bool {
    let p = prop.split('/').next().unwrap_or_default();
    let common = [
        "id",
        "displayName",
        "mail",
        "mailNickname",
        "proxyAddresses",
        "createdDateTime",
        "onPremisesSyncEnabled",
    ];
    let user = [
        "userPrincipalName",
        "onPremisesImmutableId",
        "givenName",
        "surname",
        "accountEnabled",
        "employeeId",
        "userType",
        "otherMails",
        "jobTitle",
        "department",
        "companyName",
        "usageLocation",
        "onPremisesExtensionAttributes",
        "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier",
        "country",
        "city",
        "state",
    ];
    let group = [
        "securityEnabled",
        "mailEnabled",
        "groupTypes",
        "onPremisesSecurityIdentifier",
        "onPremisesSamAccountName",
        "description",
    ];
    let app = [
        "appId",
        "displayName",
        "identifierUris",
        "servicePrincipalType",
    ];
    let eq = |list: &[&str]| list.iter().any(|x| x.eq_ignore_ascii_case(p));
    p.starts_with("extension_")
        || eq(&common)
        || (resource == "User" && eq(&user))
        || (resource == "Group" && eq(&group))
        || ((resource == "Application" || resource == "ServicePrincipal") && eq(&app))
}

/// The objects a list request may return, copied: when `$filter` parses, only those it matches
/// (a lookup by UPN in a large tenant copies one object, not all); [`apply_filter`] still checks
/// and applies the filter and answers its errors.
fn prefiltered<'a>(
    objs: impl Iterator<Item = &'a Map<String, Value>>,
    r: &GraphRequest,
) -> Vec<Map<String, Value>> {
    match r.q("$filter").map(filter::parse) {
        Some(Ok(expr)) => objs.filter(|o| expr.matches(o)).cloned().collect(),
        _ => objs.cloned().collect(),
    }
}

fn apply_filter(
    resource: &str,
    r: &GraphRequest,
    objs: Vec<Map<String, Value>>,
) -> Result<Vec<Map<String, Value>>, GraphError> {
    let Some(f) = r.q("$filter") else {
        return Ok(objs);
    };
    let expr = filter::parse(f)
        .map_err(|e| GraphError::bad_request(format!("Invalid filter clause: {e}")))?;
    for p in expr.properties() {
        if !filterable(resource, p) {
            return Err(GraphError::unsupported_query(format!(
                "Unsupported or invalid query filter clause specified for property '{p}' of resource '{resource}'."
            )));
        }
    }
    if expr.is_advanced()
        && !(r.eventual
            && r.q("$count")
                .is_some_and(|c| c.eq_ignore_ascii_case("true")))
    {
        return Err(GraphError::unsupported_query(
            "Operator 'ne' or 'not' or 'endsWith' is not supported because the required parameters might be missing. Try adding $count with a value of true and the ConsistencyLevel header with a value of eventual.",
        ));
    }
    Ok(objs.into_iter().filter(|o| expr.matches(o)).collect())
}

/// `extension_*` names in `$select` or `$filter` must be registered for this kind of object.
fn check_extensions_named(t: &Tenant, kind: Kind, r: &GraphRequest) -> Result<(), GraphError> {
    let mut names: Vec<String> = select_list(r)
        .unwrap_or_default()
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(f) = r.q("$filter")
        && let Ok(e) = filter::parse(f)
    {
        names.extend(e.properties().into_iter().map(str::to_string));
    }
    for n in names {
        let n = n.split('/').next().unwrap_or_default();
        if n.starts_with("extension_") && !t.extension_applies(kind, n) {
            return Err(GraphError::unsupported_query(format!(
                "Property '{n}' does not exist as a declared property or extension property."
            )));
        }
    }
    Ok(())
}

/// Graph's tokenizer for `$search` on `displayName` and `description`: words split at spaces,
/// symbols, letter/digit changes and lower-to-upper case changes, plus each run of words joined
/// only by symbols as one token (`hello.world` also gives `helloworld`); lower case.
fn search_tokens(s: &str, combined: bool) -> Vec<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Letter,
        Digit,
        Other,
    }
    let class = |c: char| {
        if c.is_alphabetic() {
            Class::Letter
        } else if c.is_numeric() {
            Class::Digit
        } else {
            Class::Other
        }
    };
    let mut out = Vec::new();
    for word in s.split_whitespace() {
        let mut cur = String::new();
        let mut prev: Option<char> = None;
        for ch in word.chars() {
            let split = prev
                .is_some_and(|p| class(p) != class(ch) || (p.is_lowercase() && ch.is_uppercase()));
            if split && !cur.is_empty() {
                out.push(cur.to_lowercase());
                cur.clear();
            }
            if class(ch) != Class::Other {
                cur.push(ch);
            }
            prev = Some(ch);
        }
        if !cur.is_empty() {
            out.push(cur.to_lowercase());
        }
        if combined {
            let joined: String = word
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase();
            if !joined.is_empty() {
                out.push(joined);
            }
        }
    }
    out
}

/// One `"property:text"` clause of `$search`.
fn search_clause_matches(o: &Map<String, Value>, prop: &str, text: &str) -> bool {
    let values: Vec<&str> = match o
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(prop))
        .map(|(_, v)| v)
    {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(xs)) => xs.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let tokenized =
        prop.eq_ignore_ascii_case("displayName") || prop.eq_ignore_ascii_case("description");
    values.iter().any(|v| {
        if tokenized {
            // Every search token is the start of some token of the value, in any order.
            let have = search_tokens(v, true);
            let want = search_tokens(text, false);
            !want.is_empty() && want.iter().all(|w| have.iter().any(|h| h.starts_with(w)))
        } else {
            // Other string properties behave like `$filter` startswith.
            v.to_lowercase().starts_with(&text.to_lowercase())
        }
    })
}

/// `$search="displayName:foo" OR "mail:bar" AND ...` (AND binds tighter than OR), in conjunction
/// with `$filter`. Directory collections require `ConsistencyLevel: eventual`.
fn apply_search(
    resource: &str,
    r: &GraphRequest,
    objs: Vec<Map<String, Value>>,
) -> Result<Vec<Map<String, Value>>, GraphError> {
    let Some(q) = r.q("$search") else {
        return Ok(objs);
    };
    if !r.eventual {
        return Err(GraphError::unsupported_query(
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ));
    }
    // The emulator's own wording: Graph documents no text for a malformed $search.
    let invalid = || GraphError::bad_request(format!("Invalid $search query: {q}"));
    let mut any_of: Vec<Vec<(String, String)>> = Vec::new();
    for alternative in q.split(" OR ") {
        let mut all_of = Vec::new();
        for clause in alternative.split(" AND ") {
            let inner = clause
                .trim()
                .strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
                .ok_or_else(invalid)?;
            let (prop, text) = inner.split_once(':').ok_or_else(invalid)?;
            let prop = prop.trim();
            if !filterable(resource, prop) {
                return Err(GraphError::unsupported_query(format!(
                    "Unsupported or invalid query filter clause specified for property '{prop}' of resource '{resource}'."
                )));
            }
            all_of.push((prop.to_string(), text.to_string()));
        }
        any_of.push(all_of);
    }
    Ok(objs
        .into_iter()
        .filter(|o| {
            any_of.iter().any(|all| {
                all.iter()
                    .all(|(p, text)| search_clause_matches(o, p, text))
            })
        })
        .collect())
}

fn page_size(r: &GraphRequest) -> Result<usize, GraphError> {
    match r.q("$top") {
        None => Ok(100),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=999).contains(&n) => Ok(n as usize),
            _ => Err(GraphError::bad_request(format!(
                "Invalid page size specified: '{s}'. Must be between 1 and 999 inclusive."
            ))),
        },
    }
}

fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encode a query component.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A list response with filtering, `$select`, `$top`, `$count` and paging.
fn list_of(
    base: &str,
    path: &str,
    r: &GraphRequest,
    objs: Vec<Map<String, Value>>,
    default_select: &[&str],
    filterable_list: bool,
) -> GraphResult {
    if r.q("$skip").is_some() {
        return Err(GraphError::bad_request(
            "'$skip' is not supported by the service.",
        ));
    }
    if r.q("$orderby").is_some() && !r.eventual {
        return Err(GraphError::unsupported_query(
            "Sorting not supported for current query.",
        ));
    }
    let count_wanted = r
        .q("$count")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"));
    if count_wanted && !r.eventual {
        return Err(GraphError::bad_request(
            "$count is not currently supported.",
        ));
    }
    if r.q("$filter").is_some() && !filterable_list {
        return Err(GraphError::unsupported_query("Filter not supported."));
    }
    let resource = match path {
        "users" => "User",
        "groups" => "Group",
        p if p.contains("microsoft.graph.user") => "User",
        p if p.contains("microsoft.graph.group") => "Group",
        "applications" => "Application",
        _ => "ServicePrincipal",
    };
    let objs = apply_filter(resource, r, objs)?;
    let mut objs = apply_search(resource, r, objs)?;
    if let Some(order) = r.q("$orderby") {
        // One key, `prop [asc|desc]`; strings compare case-insensitively, nulls first.
        let mut parts = order.split_whitespace();
        let prop = parts.next().unwrap_or_default().to_string();
        let desc = match parts.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(GraphError::unsupported_query(format!(
                    "Invalid $orderby direction '{other}'."
                )));
            }
        };
        if order.contains(',') || !filterable(resource, &prop) {
            return Err(GraphError::unsupported_query(
                "Sorting not supported for current query.",
            ));
        }
        let key = |o: &Map<String, Value>| -> String {
            match o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&prop))
                .map(|(_, v)| v)
            {
                Some(Value::String(x)) => format!("1{}", x.to_lowercase()),
                Some(Value::Null) | None => "0".to_string(),
                Some(other) => format!("1{other}"),
            }
        };
        objs.sort_by_key(key);
        if desc {
            objs.reverse();
        }
    }
    let top = page_size(r)?;
    let offset = r
        .q("$skiptoken")
        .and_then(b64url_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.strip_prefix("RFNwdAIAAQ:")
                .and_then(|n| n.parse::<usize>().ok())
        })
        .unwrap_or(0);
    let sel = select_list(r);
    let select: Option<&[&str]> = match &sel {
        Some(s) => Some(s.as_slice()),
        None if default_select.is_empty() => None,
        None => Some(default_select),
    };
    let total = objs.len();
    let page: Vec<Value> = objs
        .iter()
        .skip(offset)
        .take(top)
        .map(|o| Value::Object(project(o, select)))
        .collect();
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!("{base}/$metadata#{path}")),
    );
    if count_wanted {
        out.insert("@odata.count".into(), json!(total));
    }
    if offset + top < total {
        let mut q: Vec<(String, String)> = r
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .cloned()
            .collect();
        q.push((
            "$skiptoken".into(),
            b64url(format!("RFNwdAIAAQ:{}", offset + top).as_bytes()),
        ));
        out.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{base}/{}?{}",
                r.segments
                    .iter()
                    .map(|s| enc_path(s))
                    .collect::<Vec<_>>()
                    .join("/"),
                encode_query(&q)
            )),
        );
    }
    out.insert("value".into(), Value::Array(page));
    Ok((200, GraphBody::Json(Value::Object(out))))
}

fn enc_path(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == ' ' {
                "%20".to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DeltaState {
    /// Changes after this sequence number...
    since: u64,
    /// ...up to this one.
    upto: u64,
    /// Items already returned.
    offset: usize,
    /// `$select`.
    select: Option<String>,
}

const DELTA_PAGE: usize = 100;

/// `GET /users/delta` and `/groups/delta`.
fn delta(t: &Tenant, base: &str, path: &str, kind: Kind, r: &GraphRequest) -> GraphResult {
    if r.q("$top").is_some() || r.q("$orderby").is_some() || r.q("$expand").is_some() {
        return Err(GraphError::unsupported_query(
            "$top, $orderby and $expand are not supported with delta queries.",
        ));
    }
    let state = if let Some(tok) = r.q("$skiptoken").or(r.q("$deltatoken")) {
        if tok == "latest" {
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                json!(format!("{base}/$metadata#{}", kind_coll(kind))),
            );
            out.insert(
                "@odata.deltaLink".into(),
                json!(delta_link(base, path, t.seq, r.q("$select"))),
            );
            out.insert("value".into(), json!([]));
            return Ok((200, GraphBody::Json(Value::Object(out))));
        }
        let bytes =
            b64url_decode(tok).ok_or_else(|| GraphError::bad_request("Badly formed token."))?;
        serde_json::from_slice::<DeltaState>(&bytes)
            .map_err(|_| GraphError::bad_request("Badly formed token."))?
    } else {
        DeltaState {
            since: 0,
            upto: t.seq,
            offset: 0,
            select: r.q("$select").map(str::to_string),
        }
    };
    let state = DeltaState {
        upto: if state.upto == u64::MAX {
            t.seq
        } else {
            state.upto
        },
        ..state
    };
    let select: Option<Vec<String>> = state
        .select
        .as_ref()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let id_filter: Option<filter::Expr> = match r.q("$filter") {
        Some(f) => {
            let e = filter::parse(f)
                .map_err(|e| GraphError::bad_request(format!("Invalid filter clause: {e}")))?;
            if e.properties().iter().any(|p| !p.eq_ignore_ascii_case("id")) {
                return Err(GraphError::unsupported_query(
                    "Delta queries support $filter on id only.",
                ));
            }
            Some(e)
        }
        None => None,
    };
    let want_members = kind == Kind::Group
        && select
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x.eq_ignore_ascii_case("members")));
    let initial = state.since == 0;
    let mut items: Vec<Value> = Vec::new();
    let mut objs: Vec<&Object> = t
        .objects
        .values()
        .filter(|o| o.kind == kind && o.seq > state.since && o.seq <= state.upto)
        .collect();
    objs.sort_by_key(|o| o.created);
    for o in objs {
        if id_filter.as_ref().is_some_and(|f| !f.matches(&o.props)) {
            continue;
        }
        if o.deleted_at.is_some() {
            if !initial {
                items.push(json!({"@odata.type": format!("#microsoft.graph.{}", kind.type_name()), "id": o.id(), "@removed": {"reason": "changed"}}));
            }
            continue;
        }
        let sel: Vec<&str> = match &select {
            Some(s) => s
                .iter()
                .map(String::as_str)
                .filter(|x| !x.eq_ignore_ascii_case("members"))
                .collect(),
            None => defaults(kind).to_vec(),
        };
        let mut m = project(&o.props, Some(&sel));
        m.insert("id".into(), json!(o.id()));
        let want_manager = kind == Kind::User
            && select
                .as_ref()
                .is_some_and(|s| s.iter().any(|x| x.eq_ignore_ascii_case("manager")));
        if want_manager {
            if let Some(mid) = &o.manager {
                m.insert("manager@delta".into(), json!([member_ref(t, mid, None)]));
            }
            m.remove("manager");
        }
        if want_members {
            let mut md: Vec<Value> = Vec::new();
            if initial {
                for mid in &o.members {
                    md.push(member_ref(t, mid, None));
                }
            } else {
                for ch in t
                    .member_log
                    .iter()
                    .filter(|c| c.group == o.id() && c.seq > state.since && c.seq <= state.upto)
                {
                    md.push(member_ref(t, &ch.member, (!ch.added).then_some("deleted")));
                }
            }
            if !md.is_empty() || initial {
                m.insert("members@delta".into(), Value::Array(md));
            }
        }
        items.push(Value::Object(m));
    }
    if !initial {
        for (seq, k, id) in &t.purged {
            if *k == kind && *seq > state.since && *seq <= state.upto {
                items.push(json!({"@odata.type": format!("#microsoft.graph.{}", kind.type_name()), "id": id, "@removed": {"reason": "deleted"}}));
            }
        }
    }
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(state.offset)
        .take(DELTA_PAGE)
        .collect();
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!("{base}/$metadata#{}", kind_coll(kind))),
    );
    if state.offset + DELTA_PAGE < total {
        let next = DeltaState {
            offset: state.offset + DELTA_PAGE,
            ..state
        };
        let tok = b64url(&serde_json::to_vec(&next).unwrap_or_default());
        out.insert(
            "@odata.nextLink".into(),
            json!(format!("{base}/{path}?$skiptoken={tok}")),
        );
    } else {
        out.insert(
            "@odata.deltaLink".into(),
            json!(delta_link(base, path, state.upto, state.select.as_deref())),
        );
    }
    out.insert("value".into(), Value::Array(page));
    Ok((200, GraphBody::Json(Value::Object(out))))
}

fn kind_coll(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "users",
        _ => "groups",
    }
}

fn delta_link(base: &str, path: &str, upto: u64, select: Option<&str>) -> String {
    let st = DeltaState {
        since: upto,
        upto: u64::MAX,
        offset: 0,
        select: select.map(str::to_string),
    };
    let tok = b64url(&serde_json::to_vec(&st).unwrap_or_default());
    format!("{base}/{path}?$deltatoken={tok}")
}

fn member_ref(t: &Tenant, id: &str, removed: Option<&str>) -> Value {
    let ty = t.objects.get(id).map_or("user", |o| o.kind.type_name());
    let mut v = json!({"@odata.type": format!("#microsoft.graph.{ty}"), "id": id});
    if let (Some(reason), Some(m)) = (removed, v.as_object_mut()) {
        m.insert("@removed".into(), json!({"reason": reason}));
    }
    v
}

/// Parse a query string into decoded pairs.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                super::sts::percent_decode(k.as_bytes()),
                super::sts::percent_decode(v.as_bytes()),
            )
        })
        .collect()
}
