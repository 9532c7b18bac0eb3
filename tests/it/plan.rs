//! Integration tests for the plan workflow.
