//! Integration tests for the apply workflow: the applier and the AWS provider against a real
//! moto server (see `apply/moto.rs`), reading results back through the AWS SDK, and the
//! `pedestal` binary against the same server (see `apply/cli.rs`). One module per topic.

mod cli;
pub mod conformance;
mod contention;
mod crash;
mod ctx;
pub mod figures;
pub mod moto;
mod stack;

mod alarm_rollback;
mod alarms;
mod artifacts;
mod failures;
mod fault_suite;
pub mod faults;
mod flags;
mod gateway;
mod interrupt;
pub mod inventory;
mod lifecycle;
mod lost_responses;
mod ownership;
mod release;
mod releases;
mod request_metrics;
mod revisions;
mod roles;
mod rule_tables;
mod saved_inputs;
mod secrets;
mod storage;
mod strategies;
mod workflow;
