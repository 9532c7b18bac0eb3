//! Integration tests for the apply workflow.
