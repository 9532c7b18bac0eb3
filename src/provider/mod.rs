//! The cloud behind a trait pedestal owns: one operation per resource change, an AWS
//! implementation in `aws/` and an in-memory fake for tests.
