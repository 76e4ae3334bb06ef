//! Transport to the hub (docs/SUBMISSION.md). Being written (issue 5).
