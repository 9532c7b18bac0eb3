//! The digest of a load: what a saved plan checks to tell that the spec it was made from is
//! still the one on disk.

use sha2::{Digest, Sha256};

use super::Loader;

impl Loader<'_> {
    /// `sha256:<hex>` over the spec files (sorted by path) and resolved variables (secrets
    /// excepted).
    pub(super) fn digest(&self) -> String {
        let mut h = Sha256::new();
        let mut files: Vec<(&str, &[u8])> = self
            .read_files
            .iter()
            .map(|(path, file, raw)| {
                let bytes = raw
                    .as_deref()
                    .unwrap_or_else(|| self.sources.text(*file).as_bytes());
                (path.as_str(), bytes)
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(b.0));
        for (path, bytes) in files {
            h.update(b"file\0");
            h.update(path.as_bytes());
            h.update(b"\0");
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        h.update(b"env\0");
        h.update(self.env.as_bytes());
        for (k, v) in &self.lowered.vars {
            h.update(b"\0var\0");
            h.update(k.as_bytes());
            h.update(b"=");
            // Secrets stay out: a saved plan checks them on their own (keyed digests), and a
            // hash over them would let anyone holding the spec files test guesses.
            if v.is_sensitive() {
                h.update(b"(sensitive)");
            } else {
                h.update(serde_json::to_string(v).unwrap_or_default().as_bytes());
            }
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}
