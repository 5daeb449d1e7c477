//! The route table, built once at start and read by every core (it is immutable, so sharing it
//! costs nothing). Matching is `matchit`'s radix tree; each route carries the methods it allows
//! so a known path with the wrong method answers 405 with `Allow`, never 404.

use crate::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// A fixed, cheap answer for load balancers' health checks.
    Health,
    Status,
    Metrics,
    /// `GET /api/v2`: the services the caller may see.
    ServiceList,
    /// `/api/v2/{service}/{resource...}`: dispatched to the named service.
    Service,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    endpoint: Endpoint,
    /// Method bits ([`Method::bit`]); HEAD and OPTIONS are implied.
    methods: u8,
}

pub struct Router {
    tree: matchit::Router<Entry>,
}

#[derive(Debug)]
pub struct Matched<'p> {
    pub endpoint: Endpoint,
    /// `Allow` header value for this route.
    pub allow: &'static str,
    /// Raw (still percent-encoded) path parameters; empty when the route has none.
    pub service: &'p str,
    pub resource: &'p str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed { allow: &'static str },
}

const READ: u8 = 1; // GET
const ALL_VERBS: u8 = 1 | 2 | 4 | 8 | 16;

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    pub fn new() -> Self {
        let mut tree = matchit::Router::new();
        let routes = [
            ("/healthz", Endpoint::Health, READ),
            ("/status", Endpoint::Status, READ),
            ("/metrics", Endpoint::Metrics, READ),
            ("/api/v2", Endpoint::ServiceList, READ),
            ("/api/v2/{service}", Endpoint::Service, ALL_VERBS),
            (
                "/api/v2/{service}/{*resource}",
                Endpoint::Service,
                ALL_VERBS,
            ),
        ];
        for (path, endpoint, methods) in routes {
            // The table is static; a conflict is a programming error caught by the tests.
            tree.insert(path, Entry { endpoint, methods })
                .unwrap_or_else(|e| panic!("route table: {path}: {e}"));
        }
        Router { tree }
    }

    /// Matches a raw path. A trailing slash is ignored (`/api/v2/` is `/api/v2`). HEAD routes
    /// as GET; OPTIONS matches any route.
    pub fn route<'p>(&self, path: &'p str, method: Method) -> Result<Matched<'p>, RouteError> {
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let found = self.tree.at(trimmed).map_err(|_| RouteError::NotFound)?;
        let entry = *found.value;
        let allow = allow_header(entry.methods);
        let bit = match method {
            Method::Head => Method::Get.bit(),
            m => m.bit(),
        };
        if method != Method::Options && entry.methods & bit == 0 {
            return Err(RouteError::MethodNotAllowed { allow });
        }
        let param = |name| found.params.get(name).unwrap_or("");
        Ok(Matched {
            endpoint: entry.endpoint,
            allow,
            service: param("service"),
            resource: param("resource"),
        })
    }
}

fn allow_header(methods: u8) -> &'static str {
    if methods == READ {
        "GET, HEAD, OPTIONS"
    } else {
        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_services_and_resources() {
        let r = Router::new();
        let m = r
            .route("/api/v2/db/_table/contact/5", Method::Patch)
            .unwrap();
        assert_eq!(
            (m.endpoint, m.service, m.resource),
            (Endpoint::Service, "db", "_table/contact/5")
        );
        let m = r.route("/api/v2/db/", Method::Get).unwrap();
        assert_eq!((m.service, m.resource), ("db", ""));
        assert_eq!(
            r.route("/api/v2/", Method::Head).unwrap().endpoint,
            Endpoint::ServiceList
        );
    }

    #[test]
    fn wrong_method_is_405_and_unknown_path_404() {
        let r = Router::new();
        assert_eq!(
            r.route("/status", Method::Post).unwrap_err(),
            RouteError::MethodNotAllowed {
                allow: "GET, HEAD, OPTIONS"
            }
        );
        assert_eq!(
            r.route("/nope", Method::Get).unwrap_err(),
            RouteError::NotFound
        );
        assert!(r.route("/status", Method::Options).is_ok());
    }
}
