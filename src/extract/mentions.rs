//! Mentions in edit summaries. STUB: to be implemented.
pub fn mentions(_summary: &str) -> Vec<String> {
    Vec::new()
}
