//! Integration tests for the spec workflow.
