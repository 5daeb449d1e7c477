//! The DreamFactory study's scenarios against `/api/v2/{service}/_table/contact`.

use crate::cli::{LoadOpts, ScenarioArgs, ScenarioTarget};
use crate::error::{read_file, write_file, Error, Result};
use crate::request::ids::{Dist, IdSource};
use crate::request::Paths;
use crate::runner::{self, Defaults, Finished, RequestSpec};
use crate::target::{query, Url};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioName {
    /// GET one record by random id (5000 requests, 100 users).
    SimpleGet,
    /// Filter age>=30, order by last_name, 1000 records (1000 requests, 100 users).
    ComplexGet,
    /// Create one record per request (1000 requests, 100 users).
    Post,
    /// Delete the records `post` created (one request each).
    Delete,
}

impl ScenarioName {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioName::SimpleGet => "simple-get",
            ScenarioName::ComplexGet => "complex-get",
            ScenarioName::Post => "post",
            ScenarioName::Delete => "delete",
        }
    }
}

/// A scenario made concrete: requests plus default size.
pub struct Scenario {
    pub spec: RequestSpec,
    pub defaults: Defaults,
}

const POST_BODY: &str = r#"{"resource":[{"first_name":"Load","last_name":"Test{id}","email":"load{id}@example.com","city":"Lisbon","age":42,"score":50.5,"created_at":"2024-01-01 12:00:00","notes":"created by loadgen post scenario"}]}"#;

pub fn build(
    name: ScenarioName,
    t: &ScenarioTarget,
    base_override: Option<&str>,
) -> Result<Scenario> {
    let base = Url::parse(base_override.unwrap_or(&t.base))?;
    let table = format!("/api/v2/{}/_table/{}", t.service, t.table);
    let bad_ids = || Error::Arg(format!("--ids {:?}: expected LO..HI", t.ids));
    let (method, paths, body, defaults) = match name {
        ScenarioName::SimpleGet => (
            "GET",
            Paths::Template {
                path: format!("{table}/{{id}}"),
                ids: IdSource::parse_range(&t.ids, t.dist).ok_or_else(bad_ids)?,
            },
            None,
            (5000, 100),
        ),
        ScenarioName::ComplexGet => (
            "GET",
            Paths::Fixed(format!(
                "{table}{}",
                query(&[
                    ("filter", "age>=30"),
                    ("order", "last_name"),
                    ("limit", "1000")
                ])
            )),
            None,
            (1000, 100),
        ),
        ScenarioName::Post => (
            "POST",
            Paths::Fixed(table.clone()),
            Some(POST_BODY.as_bytes().to_vec()),
            (1000, 100),
        ),
        ScenarioName::Delete => {
            let ids = read_ids(&t.ids_file)?;
            let n = ids.len() as u64;
            let paths = Paths::Template {
                path: format!("{table}/{{id}}"),
                ids: IdSource::List {
                    ids: Arc::new(ids),
                    dist: Dist::Seq,
                },
            };
            ("DELETE", paths, None, (n, 100))
        }
    };
    Ok(Scenario {
        spec: RequestSpec {
            label: name.as_str().to_string(),
            url: base,
            method: method.into(),
            paths,
            body,
            capture_ids: name == ScenarioName::Post,
        },
        defaults: Defaults {
            requests: defaults.0,
            users: defaults.1,
        },
    })
}

fn read_ids(path: &std::path::Path) -> Result<Vec<u64>> {
    let text = String::from_utf8_lossy(&read_file(path)?).into_owned();
    let ids: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(Error::Arg(format!(
            "{}: no ids (run the post scenario first)",
            path.display()
        )));
    }
    Ok(ids)
}

/// Runs a scenario and, for `post`, saves the created ids for `delete`.
pub fn run_scenario(
    name: ScenarioName,
    t: &ScenarioTarget,
    opts: &LoadOpts,
    base: Option<&str>,
) -> Result<Finished> {
    let sc = build(name, t, base)?;
    let headers = runner::headers(opts, &sc.spec.url)?;
    let mut headers = headers;
    if sc.spec.body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let done = runner::execute(&sc.spec, opts, sc.defaults, &headers, None)?;
    if name == ScenarioName::Post {
        let text: String = done.ids.iter().map(|id| format!("{id}\n")).collect();
        write_file(&t.ids_file, text)?;
    }
    Ok(done)
}

/// `loadgen scenario`.
pub fn run_command(args: ScenarioArgs) -> Result<()> {
    let done = run_scenario(args.name, &args.target, &args.load, None)?;
    print!("{}", done.report.summary());
    if args.name == ScenarioName::Post {
        println!(
            "Created ids:   {} (saved to {})",
            done.ids.len(),
            args.target.ids_file.display()
        );
    }
    runner::write_outputs(&args.load, &done.report)
}
