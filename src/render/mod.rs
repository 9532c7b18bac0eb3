//! Renderings of a [`crate::plan::Plan`]: human (Terraform's grammar and a release view), JSON
//! (versioned schema) and markdown (a pull-request comment). Renderers read only the plan.
