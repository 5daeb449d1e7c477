//! Tables as the connector introspects them, in the vocabulary of DreamFactory's `_schema` API.

/// DreamFactory's abstract column types, which `_schema` speaks in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    Id,
    Integer,
    BigInt,
    Boolean,
    Float,
    Double,
    Decimal,
    String,
    Text,
    Binary,
    Date,
    Time,
    DateTime,
    Timestamp,
    Json,
    Other,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Id => "id",
            ColumnType::Integer => "integer",
            ColumnType::BigInt => "bigint",
            ColumnType::Boolean => "boolean",
            ColumnType::Float => "float",
            ColumnType::Double => "double",
            ColumnType::Decimal => "decimal",
            ColumnType::String => "string",
            ColumnType::Text => "text",
            ColumnType::Binary => "binary",
            ColumnType::Date => "date",
            ColumnType::Time => "time",
            ColumnType::DateTime => "datetime",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Json => "json",
            ColumnType::Other => "string",
        }
    }

    pub fn parse(s: &str) -> Option<ColumnType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "id" | "pk" => ColumnType::Id,
            "integer" | "int" => ColumnType::Integer,
            "bigint" => ColumnType::BigInt,
            "boolean" | "bool" => ColumnType::Boolean,
            "float" => ColumnType::Float,
            "double" => ColumnType::Double,
            "decimal" | "money" => ColumnType::Decimal,
            "string" => ColumnType::String,
            "text" => ColumnType::Text,
            "binary" => ColumnType::Binary,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "datetime" => ColumnType::DateTime,
            "timestamp" | "timestamp_on_create" | "timestamp_on_update" => ColumnType::Timestamp,
            "json" => ColumnType::Json,
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ColumnType::Id
                | ColumnType::Integer
                | ColumnType::BigInt
                | ColumnType::Float
                | ColumnType::Double
                | ColumnType::Decimal
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    /// The database's own type name, e.g. `character varying(255)`.
    pub db_type: String,
    pub length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    pub allow_null: bool,
    /// The default as the database reports it (an expression, not a value).
    pub default: Option<String>,
    pub auto_increment: bool,
    pub is_primary_key: bool,
    pub is_unique: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub column: String,
    pub ref_table: String,
    pub ref_column: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary-key columns in key order (several for a composite key).
    pub primary_key: Vec<String>,
    /// Foreign keys declared on this table.
    pub foreign_keys: Vec<ForeignKey>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
