//! `system/environment` (what this server is) and `system/event` (the events scripts can hook).

use serde_json::{json, Value as Json};

use crate::envelope::ApiError;
use crate::http::Response;
use crate::runtime::Worker;

pub fn get(w: &Worker) -> Response {
    let snapshot = w.snapshot();
    let system_db = crate::system::url(&snapshot.config);
    let system_db = system_db.split(':').next().unwrap_or_default();
    Response::json_value(
        200,
        &json!({
            "platform": {
                "name": "percore",
                "version": env!("CARGO_PKG_VERSION"),
                "is_hosted": false,
                "cores": w.shared.cpus.len(),
                "system_database": system_db,
                "uptime_seconds": w.shared.started.elapsed().as_secs(),
            },
            "server": {
                "server_os": std::env::consts::OS,
                "machine": std::env::consts::ARCH,
            },
        }),
    )
}

const VERBS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const PHASES: [&str; 2] = ["pre_process", "post_process"];

fn each_verb(out: &mut Vec<String>, path: &str) {
    for verb in VERBS {
        for phase in PHASES {
            out.push(format!("{path}.{verb}.{phase}"));
        }
    }
}

/// Every event an event script can be written for, in DreamFactory's dotted names: per service,
/// its root and `_table`, then each table by name (and the generic `{table_name}` form).
pub async fn events(w: &Worker) -> Result<Response, ApiError> {
    let snapshot = w.snapshot();
    let mut names = Vec::new();
    for def in snapshot.services.values().filter(|d| d.config.is_active) {
        let svc = &def.name;
        each_verb(&mut names, svc);
        each_verb(&mut names, &format!("{svc}._table"));
        each_verb(&mut names, &format!("{svc}._table.{{table_name}}"));
        let Ok(instance) = w.services.instance(def, &snapshot.config.data_dir) else {
            continue;
        };
        // A database that is down lists its generic events only.
        if let Ok(tables) = instance.table_names().await {
            for t in tables.iter() {
                each_verb(&mut names, &format!("{svc}._table.{t}"));
            }
        }
    }
    names.sort();
    let resource: Vec<Json> = names.into_iter().map(Json::String).collect();
    Ok(Response::json_value(200, &json!({ "resource": resource })))
}
