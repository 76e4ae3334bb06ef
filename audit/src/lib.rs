//! The auditor's toolkit (docs/AUDIT.md).
//!
//! An audit bundle ([`bundle`]) is what a hub exports: plain files an auditor can read with
//! ordinary tools. The audit trusts nothing the hub says about itself: it rebuilds the log from
//! the entries, holds the hub's signed tree heads to it and to tree heads obtained elsewhere
//! (hospitals' outboxes, receipts), verifies every record at its own time, and reports what it
//! found ([`report`]).

pub mod bundle;
pub mod completeness;
pub mod html;
pub mod log;
pub mod records;
pub mod report;
pub mod run;
