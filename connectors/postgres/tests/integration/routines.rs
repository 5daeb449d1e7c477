//! Stored procedures and functions, including a streamed set-returning function.

use futures_util::StreamExt;
use percore_connector::{Database, ErrorKind, Value};

use crate::support::{db, run, table};

#[test]
fn procedures_and_functions() {
    run(async {
        let Some(db) = db().await else { return };
        let (setf, scalar, procedure) = (table("series"), table("Twice"), table("proc"));
        db.execute_batch(&format!(
            "CREATE OR REPLACE FUNCTION {setf}(n int) RETURNS TABLE (i int, sq bigint) LANGUAGE sql AS \
               $$ SELECT g, g::bigint * g FROM generate_series(1, n) AS g $$; \
             CREATE OR REPLACE FUNCTION \"{scalar}\"(x numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT x * 2 $$; \
             CREATE OR REPLACE PROCEDURE {procedure}(a int, INOUT total int) LANGUAGE plpgsql AS \
               $$ BEGIN total := a + 1; END $$"
        ))
        .await
        .unwrap();

        let stream = db
            .call_function(&setf, vec![Value::Int(50_000)])
            .await
            .unwrap();
        assert_eq!(&stream.columns[..], ["i".to_string(), "sq".to_string()]);
        let mut rows = stream.rows;
        let mut n = 0;
        while let Some(row) = rows.next().await {
            n += 1;
            assert_eq!(row.unwrap(), vec![Value::Int(n), Value::Int(n * n)]);
        }
        assert_eq!(n, 50_000);

        let stream = db
            .call_function(&scalar, vec![Value::Text("1.25".into())])
            .await
            .unwrap();
        let rows: Vec<_> = stream.rows.collect().await;
        assert_eq!(rows[0].as_ref().unwrap(), &vec![Value::Text("2.50".into())]);

        let out = db
            .call_procedure(&procedure, &[Value::Int(41), Value::Null])
            .await
            .unwrap();
        assert_eq!(&out.columns[..], ["total".to_string()]);
        assert_eq!(out.rows, vec![vec![Value::Int(42)]]);

        let err = db
            .call_procedure("pct_no_such_proc", &[])
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{}", err.message);

        db.execute_batch(&format!(
            "DROP FUNCTION {setf}(int); DROP FUNCTION \"{scalar}\"(numeric); DROP PROCEDURE {procedure}(int, int)"
        ))
        .await
        .unwrap();
    });
}
