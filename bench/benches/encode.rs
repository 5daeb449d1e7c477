//! JSON encoding of query results: 1000 `contact` rows (the complex-GET page) through the
//! encoder the database API streams with, reported as MB/s, beside serde_json building the same
//! document from `serde_json::Value`s (the obvious alternative).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use percore::services::db::encode::RowEncoder;
use percore_connector::Value;

fn rows() -> (Vec<String>, Vec<Vec<Value>>) {
    let columns = [
        "id",
        "first_name",
        "last_name",
        "email",
        "city",
        "age",
        "score",
        "created_at",
        "notes",
    ]
    .map(String::from)
    .to_vec();
    let rows = (1..=1000)
        .map(|i: i64| {
            vec![
                Value::Int(i),
                Value::Text("Grace".into()),
                Value::Text(format!("Last{:04}", i * 7919 % 5000)),
                Value::Text(format!("user{i}@example.com")),
                Value::Text(format!("City{:02}", i * 31 % 50)),
                Value::Int(18 + i * 17 % 73),
                Value::Float((i * 7919 % 100_000) as f64 / 1000.0),
                Value::Text("2021-03-04 05:06:07".into()),
                Value::Text("n".repeat(100)),
            ]
        })
        .collect();
    (columns, rows)
}

fn encode(c: &mut Criterion) {
    let (columns, rows) = rows();
    let encoder = RowEncoder::new(&columns);
    let mut out = Vec::with_capacity(512 * 1024);
    for row in &rows {
        encoder.write(&mut out, row);
    }
    let mut g = c.benchmark_group("encode_1000_contacts");
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("row_encoder", |b| {
        b.iter(|| {
            out.clear();
            out.extend_from_slice(b"{\"resource\":[");
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encoder.write(&mut out, black_box(row));
            }
            out.extend_from_slice(b"]}");
            out.len()
        })
    });
    g.bench_function("serde_json_values", |b| {
        b.iter(|| {
            let list: Vec<serde_json::Value> =
                rows.iter().map(|r| encoder.to_json(&columns, r)).collect();
            serde_json::to_vec(&serde_json::json!({ "resource": list }))
                .unwrap()
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
