//! A local EventStreams for offline use, demos and tests. STUB: to be implemented.
