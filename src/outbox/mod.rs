//! The durable outbox (docs/SUBMISSION.md). Being written (issue 5).
