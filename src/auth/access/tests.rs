use super::*;
use crate::services::db::filter::parse;

use Method::{Delete, Get, Head, Options, Patch, Post, Put};
use Requestor::{Api, Script};

pub(super) const ROLE: i64 = 1;

pub(super) fn role(id: i64, is_active: bool) -> Role {
    Role {
        id,
        name: format!("role {id}"),
        is_active,
    }
}

pub(super) fn rule(service: Option<&str>, component: &str, verb_mask: u8) -> RoleServiceAccess {
    RoleServiceAccess {
        role_id: ROLE,
        service: service.map(str::to_string),
        component: component.to_string(),
        verb_mask,
        requestor_mask: requestor::API,
        filters: vec![],
        filter_op: FilterOp::And,
    }
}

pub(super) fn filtered(
    mut r: RoleServiceAccess,
    filters: &[(&str, &str, &str)],
) -> RoleServiceAccess {
    r.filters = filters
        .iter()
        .map(|&(name, operator, value)| ServerFilter {
            name: name.into(),
            operator: operator.into(),
            value: value.into(),
        })
        .collect();
    r
}

fn snapshot(rules: Vec<RoleServiceAccess>) -> AccessSnapshot {
    AccessSnapshot::compile(vec![role(ROLE, true)], rules, vec![]).expect("compiles")
}

/// Allowed verbs (as a mask) for `resource` of `service`, through the API.
fn verbs(s: &AccessSnapshot, service: &str, resource: &str) -> u8 {
    [Get, Post, Put, Patch, Delete, Options, Head]
        .into_iter()
        .filter(|&m| s.check(ROLE, service, resource, m, Api).is_allowed())
        .fold(0, |mask, m| mask | m.bit())
}

const GET_HEAD: u8 = verb::GET | verb::HEAD;

#[test]
fn exact_component_beats_wildcard_and_covers_records() {
    let s = snapshot(vec![
        rule(Some("db"), "_table/*", verb::ALL),
        rule(Some("db"), "_table/contact", verb::GET),
    ]);
    assert_eq!(verbs(&s, "db", "_table/contact"), GET_HEAD);
    assert_eq!(verbs(&s, "db", "_table/contact/5"), GET_HEAD);
    assert_eq!(verbs(&s, "db", "/_table/contact/"), GET_HEAD);
    assert_eq!(
        s.check(ROLE, "db", "_table/contact", Post, Api),
        Decision::Deny(DenyReason::Verb)
    );
    // Not a path below `_table/contact`: the wildcard decides.
    assert_eq!(verbs(&s, "db", "_table/contacts"), verb::ALL);
    assert_eq!(verbs(&s, "db", "_table/order/1"), verb::ALL);
}

#[test]
fn longest_wildcard_prefix_wins() {
    let s = snapshot(vec![
        rule(Some("db"), "_table/*", verb::ALL),
        rule(Some("db"), "_table/contact/*", verb::GET),
    ]);
    assert_eq!(verbs(&s, "db", "_table/contact/5"), GET_HEAD);
    assert_eq!(verbs(&s, "db", "_table/order"), verb::ALL);
    // `_table/*` needs something after `_table/`: the table list is not covered.
    assert_eq!(verbs(&s, "db", "_table"), 0);
}

#[test]
fn wildcard_beats_service_star_which_beats_all_services() {
    let s = snapshot(vec![
        rule(None, "*", verb::ALL),
        rule(Some("db"), "*", verb::GET),
        rule(Some("db"), "_schema/*", verb::POST),
    ]);
    assert_eq!(verbs(&s, "db", "_schema/contact"), verb::POST);
    assert_eq!(verbs(&s, "db", "_table/contact"), GET_HEAD);
    assert_eq!(verbs(&s, "db", ""), GET_HEAD);
    assert_eq!(verbs(&s, "files", "a/b.txt"), verb::ALL);
    assert_eq!(verbs(&s, "files", ""), verb::ALL);
}

#[test]
fn empty_component_is_the_service_root_only() {
    let s = snapshot(vec![
        rule(Some("db"), "", verb::GET),
        rule(None, "", verb::GET),
    ]);
    assert_eq!(verbs(&s, "db", ""), GET_HEAD);
    assert_eq!(verbs(&s, "db", "/"), GET_HEAD);
    assert_eq!(
        s.check(ROLE, "db", "_table", Get, Api),
        Decision::Deny(DenyReason::NoAccess)
    );
    assert_eq!(verbs(&s, "files", ""), GET_HEAD);
    assert_eq!(verbs(&s, "files", "x"), 0);
}

#[test]
fn all_services_root_merges_empty_and_star() {
    let s = snapshot(vec![rule(None, "", verb::GET), rule(None, "*", verb::POST)]);
    assert_eq!(verbs(&s, "db", ""), GET_HEAD | verb::POST);
    assert_eq!(verbs(&s, "db", "_table"), verb::POST);
}

#[test]
fn trailing_slash_pins_a_component_to_its_own_path() {
    let s = snapshot(vec![
        rule(Some("db"), "_table/", verb::GET),
        rule(Some("db"), "_table/*", verb::POST),
    ]);
    assert_eq!(verbs(&s, "db", "_table"), GET_HEAD);
    assert_eq!(verbs(&s, "db", "_table/contact"), verb::POST);
}

#[test]
fn an_empty_mask_is_an_explicit_deny() {
    let s = snapshot(vec![
        rule(Some("db"), "*", verb::ALL),
        rule(Some("db"), "_table/secret", 0),
    ]);
    assert_eq!(verbs(&s, "db", "_table/secret"), 0);
    assert_eq!(verbs(&s, "db", "_table/public"), verb::ALL);
}

#[test]
fn each_verb_has_its_bit_and_head_follows_get() {
    for (m, bit) in [
        (Get, verb::GET),
        (Post, verb::POST),
        (Put, verb::PUT),
        (Patch, verb::PATCH),
        (Delete, verb::DELETE),
        (Options, verb::OPTIONS),
        (Head, verb::HEAD),
    ] {
        let s = snapshot(vec![rule(Some("db"), "*", bit)]);
        let expected = if m == Get { GET_HEAD } else { bit };
        assert_eq!(verbs(&s, "db", "x"), expected, "{m}");
    }
    let s = snapshot(vec![rule(Some("db"), "*", verb::ALL)]);
    assert_eq!(
        s.check(ROLE, "db", "x", Method::Other, Api),
        Decision::Deny(DenyReason::Verb)
    );
}

#[test]
fn requestor_mask_selects_rows() {
    let mut script_only = rule(Some("db"), "*", verb::ALL);
    script_only.requestor_mask = requestor::SCRIPT;
    let s = snapshot(vec![
        rule(Some("db"), "_table/contact", verb::GET),
        script_only,
    ]);
    assert!(s.check(ROLE, "db", "_table/contact", Get, Api).is_allowed());
    // The API-only row is not there for a script, so the service's `*` decides.
    assert!(s
        .check(ROLE, "db", "_table/contact", Delete, Script)
        .is_allowed());
    assert_eq!(
        s.check(ROLE, "db", "_table/other", Get, Api),
        Decision::Deny(DenyReason::Requestor)
    );
    let mut both = rule(Some("db"), "*", verb::GET);
    both.requestor_mask = requestor::API | requestor::SCRIPT;
    let s = snapshot(vec![both]);
    assert!(s.check(ROLE, "db", "x", Get, Script).is_allowed());
    let mut neither = rule(Some("db"), "*", verb::GET);
    neither.requestor_mask = 0;
    let s = snapshot(vec![neither]);
    assert_eq!(
        s.check(ROLE, "db", "x", Get, Api),
        Decision::Deny(DenyReason::NoAccess)
    );
}

#[test]
fn inactive_and_unknown_roles_deny_everything() {
    let mut r = rule(None, "*", verb::ALL);
    r.role_id = 2;
    let s = AccessSnapshot::compile(vec![role(2, false)], vec![r], vec![]).unwrap();
    assert_eq!(
        s.check(2, "db", "", Get, Api),
        Decision::Deny(DenyReason::InactiveRole)
    );
    assert_eq!(
        s.check(3, "db", "", Get, Api),
        Decision::Deny(DenyReason::UnknownRole)
    );
    assert_eq!(s.role(2).map(|r| r.is_active), Some(false));
}

#[test]
fn services_and_components_ignore_case() {
    let s = snapshot(vec![rule(Some("DB"), "_Table/Contact", verb::GET)]);
    assert_eq!(verbs(&s, "db", "_table/CONTACT/5"), GET_HEAD);
    assert_eq!(verbs(&s, "Db", "_table/contact"), GET_HEAD);
}

#[test]
fn filters_compile_once_with_lookups_and_their_operator() {
    let and = filtered(
        rule(Some("db"), "_table/contact", verb::GET | verb::PUT),
        &[("owner_id", "=", "{user.id}"), ("status", "!=", "archived")],
    );
    let mut or = filtered(
        rule(Some("db"), "_table/order", verb::GET),
        &[("owner_id", "=", "{user.id}"), ("public", "=", "true")],
    );
    or.filter_op = FilterOp::Or;
    let s = snapshot(vec![and, or]);
    let filter_of = |resource, m| match s.check(ROLE, "db", resource, m, Api) {
        Decision::Allow { filter } => filter.cloned(),
        d => panic!("{d:?}"),
    };
    let expected = parse("owner_id = {user.id} AND status != 'archived'").unwrap();
    assert_eq!(filter_of("_table/contact/5", Get), Some(expected.clone()));
    assert_eq!(filter_of("_table/contact", Put), Some(expected.clone()));
    assert_eq!(filter_of("_table/contact", Head), Some(expected));
    let expected = parse("owner_id = {user.id} OR public = true").unwrap();
    assert_eq!(filter_of("_table/order", Get), Some(expected));
    // Compiled once: every request gets the same expression.
    let a = s.check(ROLE, "db", "_table/contact", Get, Api);
    let b = s.check(ROLE, "db", "_table/contact/7", Put, Api);
    match (a, b) {
        (Decision::Allow { filter: Some(a) }, Decision::Allow { filter: Some(b) }) => {
            assert!(std::ptr::eq(a, b))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rows_at_one_place_or_their_filters_per_verb() {
    let mine = filtered(
        rule(Some("db"), "_table/doc", verb::GET | verb::PUT),
        &[("owner_id", "=", "{user.id}")],
    );
    let public = filtered(
        rule(Some("db"), "_table/doc", verb::GET),
        &[("public", "=", "true")],
    );
    let s = snapshot(vec![
        mine,
        public,
        rule(Some("db"), "_table/doc", verb::DELETE),
    ]);
    let filter_of = |m| match s.check(ROLE, "db", "_table/doc", m, Api) {
        Decision::Allow { filter } => filter.cloned(),
        d => panic!("{d:?}"),
    };
    let either = parse("owner_id = {user.id} OR public = true").unwrap();
    assert_eq!(filter_of(Get), Some(either));
    assert_eq!(filter_of(Put), Some(parse("owner_id = {user.id}").unwrap()));
    assert_eq!(
        filter_of(Delete),
        None,
        "a row without filters opens its verbs"
    );
}
