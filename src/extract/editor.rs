//! Editor kind. STUB: to be implemented.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditorKind {
    Ip,
    Temp,
    Named,
}

impl EditorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EditorKind::Ip => "ip",
            EditorKind::Temp => "temp",
            EditorKind::Named => "named",
        }
    }
}

pub fn editor_kind(_user: &str) -> EditorKind {
    EditorKind::Named
}
