//! Deterministic synthetic events. STUB: to be implemented.
