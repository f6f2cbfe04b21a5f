//! What to encode and how: the encoder's options, read by the pipeline and the
//! converter alike.

use std::sync::Arc;

pub use super::features::{FeatureError, Features};
use crate::btf::Btf;

/// What to encode and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Threads, the calling one included (0: one per CPU); 1 converts and deduplicates
    /// on the calling thread alone. At most one per CPU and one per unit are started,
    /// whatever the number asked.
    pub jobs: usize,
    /// Emit FUNC + FUNC_PROTO for functions.
    pub funcs: bool,
    /// pahole's BTF features (default: pahole 1.30's `--btf_features=default`, as
    /// kernel builds use).
    pub features: Features,
    /// Emit split BTF on this base (kernel modules on vmlinux).
    pub base: Option<Arc<Btf>>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: 0,
            funcs: true,
            features: Features::default(),
            base: None,
            progress: false,
        }
    }
}
