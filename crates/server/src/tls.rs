//! TLS for the connection to the server (SYNC.md §3.1, §7): rustls with the `ring` provider
//! through `tokio-postgres-rustls`. The roots are the Mozilla set (`webpki-roots`), the
//! platform's own certificates (`rustls-native-certs`: a clinic behind a TLS-inspecting proxy
//! has its proxy's CA there) and the CA file the URL names (`sslrootcert=`).
//!
//! What is verified is [`Security`]'s to say, decided by `ServerUrl::parse`; this module only
//! builds the connector for it.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::admin::Security;

/// The roots a verified connection trusts: the Mozilla set, the platform's, then `extra`.
pub(crate) fn roots(extra: &[CertificateDer<'static>]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // A platform store that cannot be read (or holds a certificate rustls cannot use) leaves
    // the Mozilla set and the URL's CA: errors here are not worth refusing the connection.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| format!("a certificate of sslrootcert cannot be a root: {e}"))?;
    }
    Ok(roots)
}

/// The connector for `security` (any but [`Security::Plain`], which needs none).
pub(crate) fn connector(
    security: Security,
    extra: &[CertificateDer<'static>],
) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(ring_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let chain = match security {
        Security::Plain => return Err("a plain connection has no TLS to set up".into()),
        Security::Unverified => None,
        Security::VerifyCa | Security::VerifyFull => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots(extra)?), provider.clone())
                .build()
                .map_err(|e| format!("TLS set-up: {e}"))?,
        ),
    };
    let config = match chain {
        Some(full) if security == Security::VerifyFull => {
            builder.with_webpki_verifier(full).with_no_client_auth()
        }
        chain => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Lenient { chain, provider }))
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The `ring` provider (SYNC.md §7: no C toolchain or cmake beyond what SQLCipher needs, which
/// aws-lc-rs would add). rustls 0.23.48 deprecates it for lacking post-quantum key exchange
/// (X25519MLKEM768); the classical groups it offers are what PostgreSQL servers offer today.
/// Named here rather than installed process-wide, so no other crate's choice can change it.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The verifier of `verify-ca` (`chain`: the web PKI verifier — chain up to a trusted root,
/// validity dates — with its host name error alone forgiven) and of `require`, which
/// `ServerUrl::parse` allows on loopback only (no `chain`: any certificate). Both still check
/// the handshake's signatures.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // The web PKI verifier checks the chain first and the name last, so a name error
        // means everything else held.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
