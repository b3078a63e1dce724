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
    let config = match security {
        Security::Plain => return Err("a plain connection has no TLS to set up".into()),
        Security::Unverified => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth(),
        Security::VerifyCa | Security::VerifyFull => {
            let full = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(extra)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("TLS set-up: {e}"))?;
            if security == Security::VerifyFull {
                builder.with_webpki_verifier(full).with_no_client_auth()
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(full)))
                    .with_no_client_auth()
            }
        }
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

/// `verify-ca`: the chain up to a trusted root (and the validity dates), not the host name.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The web PKI verifier checks the chain first and the name last, so a name error
        // means everything else held.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
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
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require`, on loopback only (`ServerUrl::parse` refuses it for any other host): encrypted,
/// any certificate accepted; the handshake's signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
