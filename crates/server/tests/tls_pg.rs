//! TLS of the connection to the server (SYNC.md §3.1, §7), against a real PostgreSQL started
//! with `ssl = on` and a certificate from a throwaway CA made here (rcgen):
//!
//! - `verify-full` with the right CA (`sslrootcert=`) and the host name the certificate names
//!   connects, and the session really is TLS (`pg_stat_ssl`), also after the URL went through
//!   `with_user` (what an enrolled PC keeps);
//! - a certificate from another CA is refused, under `verify-full` and `verify-ca`;
//! - a host name the certificate does not name is refused under `verify-full`, accepted under
//!   `verify-ca`;
//! - a server without TLS is refused when TLS is asked for;
//! - the URL rules: a remote host gets `verify-full` by default, `require`/`disable`/`prefer`
//!   are refused for it, an unknown sslmode and a bad `sslrootcert` are refused at parse time.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clinicdesk_pgcluster::{PgCluster, PgOptions, SUPERUSER};
use clinicdesk_server::admin::{AdminError, Client, Security, ServerUrl};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A CA of our own: its certificate (PEM) in a file, and the issuer to sign with.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    file: PathBuf,
}

fn new_ca(dir: &Path, name: &str) -> Result<Ca> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
    let file = dir.join(format!("{name}.pem"));
    std::fs::write(&file, issuer.pem())?;
    Ok(Ca { issuer, file })
}

/// The server's certificate (naming `localhost` only) and key, both PEM, issued by `ca`.
fn server_cert(ca: &Ca) -> Result<(String, String)> {
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca.issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A cluster with `ssl = on` and a certificate for `localhost` from `ca`.
fn tls_cluster(ca: &Ca) -> Result<PgCluster> {
    let (cert, key) = server_cert(ca)?;
    Ok(PgCluster::start_with(
        &PgOptions::new()
            .file("server.crt", cert)
            .file("server.key", key)
            .set("ssl", "on")
            .set("ssl_cert_file", "server.crt")
            .set("ssl_key_file", "server.key"),
    )?)
}

fn url(host: &str, cluster: &PgCluster, params: &str) -> String {
    format!(
        "postgres://{SUPERUSER}@{host}:{}/postgres{params}",
        cluster.port()
    )
}

/// Whether this session is TLS, as the server sees it.
fn session_is_tls(client: &mut Client) -> Result<bool> {
    Ok(client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )?
        .get(0))
}

fn connect(url: &str) -> Result<Client, AdminError> {
    // Trust authentication: the password is not checked.
    ServerUrl::parse(url)?.connect(None, "unused")
}

/// The connection is refused, with `needle` in the reason.
fn refused(url: &str, needle: &str) {
    match connect(url) {
        Ok(_) => panic!("{url}: connected"),
        Err(e @ AdminError::Connect { .. }) => {
            let text = e.to_string();
            eprintln!("refused as expected: {text}");
            assert!(text.contains(needle), "{url}: {text}");
        }
        Err(e) => panic!("{url}: not a connection error: {e}"),
    }
}

fn bad_url(url: &str, needle: &str) {
    match ServerUrl::parse(url) {
        Ok(u) => panic!("{url}: accepted as {u:?}"),
        Err(e @ AdminError::BadUrl(_)) => {
            let text = e.to_string();
            assert!(text.contains(needle), "{url}: {text}");
        }
        Err(e) => panic!("{url}: not a URL error: {e}"),
    }
}

#[test]
fn verify_full_with_the_right_ca_and_host_name_connects_over_tls() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = new_ca(dir.path(), "clinic-ca")?;
    let cluster = tls_cluster(&ca)?;
    let cafile = ca.file.display();

    let full = url(
        "localhost",
        &cluster,
        &format!("?sslmode=verify-full&sslrootcert={cafile}"),
    );
    let parsed = ServerUrl::parse(&full)?;
    assert_eq!(parsed.security(), Security::VerifyFull);
    assert!(session_is_tls(&mut parsed.connect(None, "unused")?)?);

    // What an enrolled PC keeps reconnects the same way.
    let kept = parsed.with_user(SUPERUSER);
    assert_eq!(kept, full);
    let again = ServerUrl::parse(&kept)?;
    assert_eq!(again.security(), Security::VerifyFull);
    assert!(session_is_tls(&mut again.connect(None, "unused")?)?);

    // The CA file alone means verify-full.
    let implied = url("localhost", &cluster, &format!("?sslrootcert={cafile}"));
    assert_eq!(ServerUrl::parse(&implied)?.security(), Security::VerifyFull);
    assert!(session_is_tls(&mut connect(&implied)?)?);

    // verify-ca accepts the right chain too.
    let ca_only = url(
        "localhost",
        &cluster,
        &format!("?sslmode=verify-ca&sslrootcert={cafile}"),
    );
    assert!(session_is_tls(&mut connect(&ca_only)?)?);

    // On loopback, require is TLS without verification, and no sslmode stays plain.
    let require = url("localhost", &cluster, "?sslmode=require");
    assert_eq!(ServerUrl::parse(&require)?.security(), Security::Unverified);
    assert!(session_is_tls(&mut connect(&require)?)?);
    let plain = url("127.0.0.1", &cluster, "");
    assert_eq!(ServerUrl::parse(&plain)?.security(), Security::Plain);
    assert!(!session_is_tls(&mut connect(&plain)?)?);
    Ok(())
}

#[test]
fn a_certificate_from_another_ca_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = new_ca(dir.path(), "clinic-ca")?;
    let other = new_ca(dir.path(), "someone-elses-ca")?;
    let cluster = tls_cluster(&ca)?;
    let wrong = other.file.display();
    for mode in ["verify-full", "verify-ca"] {
        refused(
            &url(
                "localhost",
                &cluster,
                &format!("?sslmode={mode}&sslrootcert={wrong}"),
            ),
            "not signed by a CA this computer trusts",
        );
    }
    // Without sslrootcert only the public and the platform's roots are trusted.
    refused(
        &url("localhost", &cluster, "?sslmode=verify-full"),
        "give the server's CA with sslrootcert=",
    );
    Ok(())
}

#[test]
fn a_host_name_the_certificate_does_not_name_is_refused_by_verify_full_only() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = new_ca(dir.path(), "clinic-ca")?;
    let cluster = tls_cluster(&ca)?;
    let cafile = ca.file.display();
    // The certificate names localhost; 127.0.0.1 is the same server under another name.
    refused(
        &url(
            "127.0.0.1",
            &cluster,
            &format!("?sslmode=verify-full&sslrootcert={cafile}"),
        ),
        "the server's certificate does not name 127.0.0.1",
    );
    let ca_only = url(
        "127.0.0.1",
        &cluster,
        &format!("?sslmode=verify-ca&sslrootcert={cafile}"),
    );
    assert_eq!(ServerUrl::parse(&ca_only)?.security(), Security::VerifyCa);
    assert!(session_is_tls(&mut connect(&ca_only)?)?);
    Ok(())
}

#[test]
fn asking_for_tls_from_a_server_without_it_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = new_ca(dir.path(), "clinic-ca")?;
    let cluster = PgCluster::start()?;
    let cafile = ca.file.display();
    for params in [
        format!("?sslmode=verify-full&sslrootcert={cafile}"),
        "?sslmode=require".to_string(),
    ] {
        refused(
            &url("localhost", &cluster, &params),
            "server does not support TLS (TLS is switched on in the server's postgresql.conf",
        );
    }
    assert!(!session_is_tls(&mut connect(&url(
        "localhost",
        &cluster,
        "?sslmode=prefer"
    ))?)?);
    Ok(())
}

#[test]
fn a_remote_host_needs_a_verified_certificate() -> Result<()> {
    let remote = "postgres://cd_owner@db.example.com:5432/clinicdesk";
    let default = ServerUrl::parse(remote)?;
    assert_eq!(default.security(), Security::VerifyFull);
    assert_eq!(
        default.with_user("cd_dev_1"),
        "postgres://cd_dev_1@db.example.com:5432/clinicdesk?sslmode=verify-full"
    );
    assert_eq!(
        ServerUrl::parse(&format!("{remote}?sslmode=verify-ca"))?.security(),
        Security::VerifyCa
    );
    bad_url(
        &format!("{remote}?sslmode=require"),
        "does not verify the server's certificate, which is not acceptable for patient data",
    );
    for mode in ["disable", "prefer"] {
        bad_url(
            &format!("{remote}?sslmode={mode}"),
            &format!("sslmode={mode} is only for a server on this computer"),
        );
    }
    bad_url(
        "postgres://cd_owner@[2001:db8::1]:5432/clinicdesk?sslmode=disable",
        "only for a server on this computer",
    );
    Ok(())
}

#[test]
fn loopback_without_sslmode_stays_plain_and_round_trips() -> Result<()> {
    for (url, security, kept) in [
        (
            "postgres://cd_owner@127.0.0.1:5433/clinicdesk",
            Security::Plain,
            "postgres://dev@127.0.0.1:5433/clinicdesk",
        ),
        (
            "postgres://cd_owner@localhost/clinicdesk?sslmode=disable",
            Security::Plain,
            "postgres://dev@localhost:5432/clinicdesk?sslmode=disable",
        ),
        (
            "postgres://cd_owner@[::1]:5433/clinicdesk?sslmode=prefer",
            Security::Plain,
            "postgres://dev@[::1]:5433/clinicdesk?sslmode=prefer",
        ),
        (
            "postgres://cd_owner@localhost:5433/clinicdesk?sslmode=require",
            Security::Unverified,
            "postgres://dev@localhost:5433/clinicdesk?sslmode=require",
        ),
    ] {
        let parsed = ServerUrl::parse(url)?;
        assert_eq!(parsed.security(), security, "{url}");
        assert_eq!(parsed.with_user("dev"), kept);
        assert_eq!(ServerUrl::parse(kept)?.security(), security, "{kept}");
    }
    Ok(())
}

#[test]
fn unknown_or_repeated_ssl_settings_are_refused() {
    let base = "postgres://cd_owner@db.example.com:5432/clinicdesk";
    for mode in ["verify_full", "allow", "VERIFY-FULL", ""] {
        bad_url(&format!("{base}?sslmode={mode}"), "unknown sslmode");
    }
    bad_url(
        &format!("{base}?sslmode=verify-full&sslmode=verify-ca"),
        "sslmode is given twice",
    );
    bad_url(
        &format!("{base}?sslrootcert=/a.pem&sslrootcert=/b.pem"),
        "sslrootcert is given twice",
    );
}

#[test]
fn a_bad_sslrootcert_is_refused_when_the_url_is_read() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let base = "postgres://cd_owner@db.example.com:5432/clinicdesk?sslmode=verify-full";
    let missing = dir.path().join("missing.pem");
    bad_url(
        &format!("{base}&sslrootcert={}", missing.display()),
        "sslrootcert",
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "")?;
    bad_url(
        &format!("{base}&sslrootcert={}", empty.display()),
        "holds no certificate",
    );
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
    )?;
    bad_url(
        &format!("{base}&sslrootcert={}", garbage.display()),
        "is not a PEM file of certificates",
    );
    let not_a_ca = dir.path().join("not-a-ca.pem");
    std::fs::write(
        &not_a_ca,
        "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
    )?;
    bad_url(
        &format!("{base}&sslrootcert={}", not_a_ca.display()),
        "cannot be a root",
    );

    // A CA file only means something when the certificate is verified.
    let ca = new_ca(dir.path(), "clinic-ca")?;
    for mode in ["disable", "prefer", "require"] {
        bad_url(
            &format!(
                "postgres://cd_owner@localhost:5432/clinicdesk?sslmode={mode}&sslrootcert={}",
                ca.file.display()
            ),
            "sslrootcert needs a verified connection",
        );
    }

    // A path with spaces and an ampersand, percent-encoded, round-trips as an absolute path.
    let odd_dir = dir.path().join("CA files & more");
    std::fs::create_dir(&odd_dir)?;
    let odd = odd_dir.join("clinic ca.pem");
    std::fs::copy(&ca.file, &odd)?;
    // What a URL needs escaped here: %, space, &.
    let encode = |p: &Path| {
        p.display()
            .to_string()
            .replace('%', "%25")
            .replace(' ', "%20")
            .replace('&', "%26")
    };
    let encoded = encode(&odd);
    let parsed = ServerUrl::parse(&format!(
        "postgres://cd_owner@db.example.com/clinicdesk?sslrootcert={encoded}&sslmode=verify-ca"
    ))?;
    assert_eq!(parsed.security(), Security::VerifyCa);
    let kept = parsed.with_user("dev");
    assert_eq!(
        kept,
        format!(
            "postgres://dev@db.example.com:5432/clinicdesk?sslmode=verify-ca&sslrootcert={}",
            encode(&std::fs::canonicalize(&odd)?)
        )
    );
    assert_eq!(ServerUrl::parse(&kept)?.with_user("dev"), kept);
    Ok(())
}
