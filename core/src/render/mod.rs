//! Rendering: a [`crate::ValidPool`] becomes the artifacts Azure deploys.
//!
//! Pure: no I/O. Every value that reaches a script was validated by the spec and is quoted for
//! its context here.

pub mod cloud_init;
pub mod mount;

pub use cloud_init::{
    KeyDelivery, ProvisionFile, ProvisionOptions, ProvisioningArtifacts, render_cloud_init,
};
