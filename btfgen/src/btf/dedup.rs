//! Type graph deduplication (placeholder; see the dedup issue work).
