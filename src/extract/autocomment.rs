//! Autocomments. STUB: to be implemented.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Autocomment {
    pub section: Option<String>,
    pub machine: Option<String>,
    pub rest: String,
}

pub fn autocomment(summary: &str) -> Autocomment {
    Autocomment {
        section: None,
        machine: None,
        rest: summary.to_owned(),
    }
}
