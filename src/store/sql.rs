//! The one SQL builder and bound-value type of every feature: queries are
//! written once with [`SqlBuilder`] placeholders (`?N` for SQLite, `$N` for
//! PostgreSQL) and run by either backend; [`Dialect`] names the few
//! fragments that truly differ.

/// A bound SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
}

/// The backend a query is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `?1`
    Sqlite,
    /// `$1`
    Postgres,
}

impl Dialect {
    /// ` COLLATE "C"` on PostgreSQL, where text order follows the database's
    /// collation; nothing on SQLite, which compares bytes already.
    pub fn byte_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    /// `a = b` for text of any length. PostgreSQL indexes long text (URLs)
    /// by its md5 (a b-tree entry holds at most about 2.7 kB), so the
    /// condition compares the digests first to use those indexes.
    pub fn same_long_text(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{a} = {b}"),
            Dialect::Postgres => format!("md5({a}) = md5({b}) AND {a} = {b}"),
        }
    }
}

/// Builds a query's text and its parameters.
pub struct SqlBuilder {
    dialect: Dialect,
    pub params: Vec<SqlValue>,
}

impl SqlBuilder {
    pub fn new(dialect: Dialect) -> Self {
        SqlBuilder {
            dialect,
            params: Vec::new(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Binds `v` and returns its placeholder.
    pub fn bind(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        let n = self.params.len();
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    pub fn text(&mut self, s: impl Into<String>) -> String {
        self.bind(SqlValue::Text(s.into()))
    }

    pub fn int(&mut self, n: i64) -> String {
        self.bind(SqlValue::Int(n))
    }

    /// Binds every value and returns their placeholders, comma-separated
    /// (the inside of an `IN (…)`).
    pub fn list(&mut self, vs: impl IntoIterator<Item = SqlValue>) -> String {
        vs.into_iter()
            .map(|v| self.bind(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Ends the builder: the SQL text with its parameters.
    pub fn query(self, sql: String) -> Query {
        Query {
            sql,
            params: self.params,
        }
    }
}

/// One query, ready to run.
#[derive(Debug, Clone)]
pub struct Query {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `WHERE a AND b` or an empty string.
pub fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            SqlValue::Int(n) => n.to_sql(),
            SqlValue::Text(s) => s.to_sql(),
        }
    }
}

/// The values as `tokio_postgres` parameters.
pub fn pg_params(values: &[SqlValue]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| match v {
            SqlValue::Int(n) => n as &(dyn tokio_postgres::types::ToSql + Sync),
            SqlValue::Text(s) => s as &(dyn tokio_postgres::types::ToSql + Sync),
        })
        .collect()
}
