//! Building an [`AccessSnapshot`] from the system database's rows. Anything malformed is an
//! error here, once, rather than a surprise per request; compiling before a change is stored
//! lets the system API refuse a bad row when it is written, naming it.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use super::builder::{place, Place, RulesBuilder};
use super::filter::{self, BadFilter};
use super::{verb, AccessSnapshot, App, Requestor, Role, RoleAccess, RoleServiceAccess};
use crate::auth::api_key;

/// Why a snapshot could not be built; each names the row at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("role {0} appears more than once")]
    DuplicateRole(i64),
    #[error("a role_service_access row names role {0}, which does not exist")]
    UnknownRole(i64),
    #[error("role {role_id}: component '{component}' {reason}")]
    Component {
        role_id: i64,
        component: String,
        reason: &'static str,
    },
    #[error("role {role_id}, service '{service}', component '{component}': {source}")]
    Filter {
        role_id: i64,
        /// `*` for a row on all services.
        service: String,
        component: String,
        source: BadFilter,
    },
    #[error("app {app_id} has the same API key as app {other}")]
    DuplicateApiKey { app_id: i64, other: i64 },
    #[error("app {app_id}: its role {role_id} does not exist")]
    AppRole { app_id: i64, role_id: i64 },
}

impl AccessSnapshot {
    /// The snapshot of these rows. Every row is checked, so one bad row refuses the whole
    /// snapshot: the one in use stays in force rather than a partial one that grants or denies
    /// what nobody configured.
    pub fn compile(
        roles: Vec<Role>,
        accesses: Vec<RoleServiceAccess>,
        apps: Vec<App>,
    ) -> Result<AccessSnapshot, CompileError> {
        let mut builders: HashMap<i64, (Role, [RulesBuilder; 2])> =
            HashMap::with_capacity(roles.len());
        for role in roles {
            match builders.entry(role.id) {
                Entry::Occupied(_) => return Err(CompileError::DuplicateRole(role.id)),
                Entry::Vacant(v) => {
                    v.insert((role, Default::default()));
                }
            }
        }
        for row in &accesses {
            let (_, rules) = builders
                .get_mut(&row.role_id)
                .ok_or(CompileError::UnknownRole(row.role_id))?;
            // DreamFactory's `empty($service)`: an empty name is no service, i.e. all of them.
            let service = row
                .service
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            let component_error = |reason| CompileError::Component {
                role_id: row.role_id,
                component: row.component.clone(),
                reason,
            };
            let place = place(&row.component).map_err(component_error)?;
            if service.is_none() && matches!(place, Place::Exact(..) | Place::Wild(_)) {
                // DreamFactory ignores these rows; granting what they say would widen access
                // for data moved over from it, and ignoring them silently would hide a mistake.
                return Err(component_error(
                    "is for all services, where only '' and '*' apply",
                ));
            }
            let filter = filter::compile(&row.filters, row.filter_op)
                .map_err(|source| CompileError::Filter {
                    role_id: row.role_id,
                    service: service.unwrap_or("*").to_string(),
                    component: row.component.clone(),
                    source,
                })?
                .map(Arc::new);
            let mut verbs = row.verb_mask & verb::ALL;
            if verbs & verb::GET != 0 {
                verbs |= verb::HEAD;
            }
            for requestor in Requestor::ALL {
                if row.requestor_mask & requestor.bit() != 0 {
                    rules[requestor.index()]
                        .slot(service, &place)
                        .add(verbs, filter.as_ref());
                }
            }
        }
        let apps = index_apps(apps, |id| builders.contains_key(&id))?;
        let roles = builders
            .into_iter()
            .map(|(id, (role, [api, script]))| {
                let rules = [api.build(), script.build()];
                (id, RoleAccess { role, rules })
            })
            .collect();
        Ok(AccessSnapshot { roles, apps })
    }
}

/// Active apps by key fingerprint. Inactive apps are left out, so a lookup fails closed for
/// them, and so are apps without a key, which no request could present.
fn index_apps(
    apps: Vec<App>,
    role_exists: impl Fn(i64) -> bool,
) -> Result<HashMap<[u8; 32], App>, CompileError> {
    let mut seen: HashMap<[u8; 32], i64> = HashMap::with_capacity(apps.len());
    let mut active = HashMap::with_capacity(apps.len());
    for app in apps {
        if let Some(role_id) = app.role_id.filter(|&r| !role_exists(r)) {
            return Err(CompileError::AppRole {
                app_id: app.id,
                role_id,
            });
        }
        if app.api_key.is_empty() {
            continue;
        }
        let fp = api_key::fingerprint(&app.api_key);
        if let Some(&other) = seen.get(&fp) {
            return Err(CompileError::DuplicateApiKey {
                app_id: app.id,
                other,
            });
        }
        seen.insert(fp, app.id);
        if app.is_active {
            active.insert(fp, app);
        }
    }
    Ok(active)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{filtered, role, rule, ROLE};
    use super::super::{requestor, FilterOp};
    use super::*;

    #[test]
    fn bad_rows_are_refused_at_compile_time() {
        let compile =
            |r: RoleServiceAccess| AccessSnapshot::compile(vec![role(ROLE, true)], vec![r], vec![]);
        for field in [
            "owner id",
            "id; DROP TABLE x",
            "t.owner_id",
            "",
            "1st",
            "a-b",
        ] {
            let r = filtered(rule(Some("db"), "*", verb::GET), &[(field, "=", "1")]);
            assert!(
                matches!(
                    compile(r),
                    Err(CompileError::Filter {
                        source: BadFilter::Field(_),
                        ..
                    })
                ),
                "{field:?}"
            );
        }
        let r = filtered(rule(Some("db"), "*", verb::GET), &[("a", "~", "1")]);
        assert!(matches!(
            compile(r),
            Err(CompileError::Filter {
                source: BadFilter::Operator(_),
                ..
            })
        ));
        for component in ["_table/*/x", "*_table"] {
            let r = rule(Some("db"), component, verb::GET);
            assert!(
                matches!(compile(r), Err(CompileError::Component { .. })),
                "{component}"
            );
        }
        let r = rule(None, "_table/*", verb::GET);
        assert!(matches!(compile(r), Err(CompileError::Component { .. })));
        let mut r = rule(Some("db"), "*", verb::GET);
        r.role_id = 9;
        assert_eq!(compile(r).err(), Some(CompileError::UnknownRole(9)));
        let twice = AccessSnapshot::compile(vec![role(1, true), role(1, true)], vec![], vec![]);
        assert_eq!(twice.err(), Some(CompileError::DuplicateRole(1)));
    }

    fn app(id: i64, key: &str, role_id: Option<i64>, is_active: bool) -> App {
        App {
            id,
            name: format!("app {id}"),
            api_key: key.to_string(),
            role_id,
            is_active,
        }
    }

    #[test]
    fn apps_are_found_by_key_when_active() {
        let (k1, k2) = (api_key::generate(), api_key::generate());
        let apps = vec![app(1, &k1, Some(ROLE), true), app(2, &k2, None, false)];
        let s = AccessSnapshot::compile(vec![role(ROLE, true)], vec![], apps).unwrap();
        assert_eq!(s.app_by_key(&k1).map(|a| a.id), Some(1));
        assert_eq!(s.app_by_key(&k2), None, "inactive");
        assert_eq!(s.app_by_key(&api_key::generate()), None);
        assert_eq!(s.app_by_key(""), None);

        let dup = vec![app(1, &k1, None, true), app(2, &k1, None, false)];
        let e = AccessSnapshot::compile(vec![], vec![], dup).unwrap_err();
        assert_eq!(
            e,
            CompileError::DuplicateApiKey {
                app_id: 2,
                other: 1
            }
        );
        let dangling = vec![app(1, &k1, Some(5), true)];
        let e = AccessSnapshot::compile(vec![], vec![], dangling).unwrap_err();
        assert_eq!(
            e,
            CompileError::AppRole {
                app_id: 1,
                role_id: 5
            }
        );
    }

    #[test]
    fn rows_deserialize_from_dreamfactorys_json() {
        let rows: Vec<RoleServiceAccess> = serde_json::from_str(
            r#"[{"role_id": 1, "service": "db", "component": "_table/contact", "verb_mask": 3,
                 "requestor_mask": null, "filter_op": "or",
                 "filters": [{"name": "owner_id", "operator": "=", "value": "{user.id}"},
                             {"name": "level", "operator": ">", "value": 3}]},
                {"role_id": 1, "service": null, "component": null, "verb_mask": 1,
                 "filters": null, "filter_op": null}]"#,
        )
        .unwrap();
        assert_eq!(rows[0].requestor_mask, requestor::API);
        assert_eq!(rows[0].filter_op, FilterOp::Or);
        assert_eq!(rows[0].filters[1].value, "3");
        assert_eq!(rows[1].service, None);
        assert_eq!(rows[1].component, "");
        assert_eq!(rows[1].filter_op, FilterOp::And);
        let role: Role =
            serde_json::from_str(r#"{"id": 1, "name": "user", "description": null}"#).unwrap();
        assert!(role.is_active);
        let app: App =
            serde_json::from_str(r#"{"id": 1, "name": "a", "api_key": "k", "role_id": null}"#)
                .unwrap();
        assert_eq!(app.role_id, None);
    }
}
