//! Serving https and wss directly, as the Evolution API does with `SERVER_TYPE=https`: the
//! certificate chain of `SSL_CONF_FULLCHAIN` and the private key of `SSL_CONF_PRIVKEY`, both PEM,
//! read once at start. Behind a reverse proxy that terminates TLS, keep `SERVER_TYPE=http`.
//! Also how a setting's PEM file is read, for these and the relay's `RELAY_CA_FILE`.

use std::{path::Path, sync::Arc};

use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};

/// Why the gateway cannot serve https with the files it was given.
#[derive(Debug, thiserror::Error)]
pub enum ServerTlsError {
    /// `SERVER_TYPE=https` without one of the two files.
    #[error("SERVER_TYPE=https needs {0} (a PEM file)")]
    Missing(&'static str),
    /// A file could not be read, or holds nothing usable.
    #[error(transparent)]
    File(#[from] PemFileError),
    /// rustls refused the pair (a key that is not the certificate's, say).
    #[error("SSL_CONF_FULLCHAIN and SSL_CONF_PRIVKEY: {0}")]
    Pair(#[from] rustls::Error),
}

/// A PEM file named by a setting that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{var} {path}: {reason}")]
pub struct PemFileError {
    /// The variable that named the file.
    pub var: &'static str,
    /// The file.
    pub path: String,
    /// What was wrong with it.
    pub reason: String,
}

impl PemFileError {
    pub(crate) fn new(var: &'static str, path: &Path, reason: impl Into<String>) -> PemFileError {
        PemFileError {
            var,
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}

/// Every certificate of the PEM file `path` that the setting `var` names; at least one.
pub(crate) fn pem_certificates(
    var: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, PemFileError> {
    let pem = std::fs::read(path).map_err(|e| PemFileError::new(var, path, e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PemFileError::new(var, path, format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(PemFileError::new(var, path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// The TLS settings of the listener: the chain of `fullchain` (the server's certificate first)
/// and the key of `privkey`, offering HTTP/1.1 by ALPN.
pub fn server_config(
    fullchain: Option<&Path>,
    privkey: Option<&Path>,
) -> Result<Arc<ServerConfig>, ServerTlsError> {
    let fullchain = fullchain.ok_or(ServerTlsError::Missing("SSL_CONF_FULLCHAIN"))?;
    let privkey = privkey.ok_or(ServerTlsError::Missing("SSL_CONF_PRIVKEY"))?;

    let chain = pem_certificates("SSL_CONF_FULLCHAIN", fullchain)?;
    let key_error = |reason: String| PemFileError::new("SSL_CONF_PRIVKEY", privkey, reason);
    let pem = std::fs::read(privkey).map_err(|e| key_error(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| key_error(format!("no PEM private key in it: {e}")))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn each_wrong_setting_names_its_variable() {
        let dir = std::env::temp_dir().join(format!("gw-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let chain = write(&dir, "chain.pem", &cert.pem());
        let privkey = write(&dir, "key.pem", &key.serialize_pem());
        let other = write(
            &dir,
            "other.pem",
            &rcgen::KeyPair::generate().unwrap().serialize_pem(),
        );
        let junk = write(&dir, "junk.pem", "not pem\n");
        let missing = dir.join("missing.pem");

        assert!(server_config(Some(&chain), Some(&privkey)).is_ok());
        let err = |c: Option<&Path>, k: Option<&Path>| server_config(c, k).unwrap_err().to_string();
        assert!(err(None, Some(&privkey)).contains("needs SSL_CONF_FULLCHAIN"));
        assert!(err(Some(&chain), None).contains("needs SSL_CONF_PRIVKEY"));
        assert!(err(Some(&missing), Some(&privkey)).starts_with("SSL_CONF_FULLCHAIN "));
        assert!(err(Some(&junk), Some(&privkey)).contains("no PEM certificate"));
        assert!(err(Some(&chain), Some(&junk)).starts_with("SSL_CONF_PRIVKEY "));
        let mismatch = err(Some(&chain), Some(&other));
        assert!(
            mismatch.starts_with("SSL_CONF_FULLCHAIN and SSL_CONF_PRIVKEY: "),
            "{mismatch}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
