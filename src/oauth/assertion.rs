//! A signed client assertion (RFC 7523 JWT, RS256) proving the application holds a
//! certificate's private key — Microsoft's recommended client credential.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// Builds the assertion for `client_id` at the token endpoint `audience`, valid for ten
/// minutes from `now` (seconds since the epoch). `jti` makes it single-use.
pub fn client_assertion(
    client_id: &str,
    audience: &str,
    certificate_der: &[u8],
    private_key_pem: &str,
    now: i64,
    jti: &str,
) -> Result<String, String> {
    let key = match PrivateKeyDer::from_pem_slice(private_key_pem.as_bytes())
        .map_err(|e| format!("the private key file holds no PEM private key: {e}"))?
    {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err("the private key must be an RSA key (PKCS#8 or PKCS#1)".to_owned()),
    }
    .map_err(|e| format!("the private key is not a usable RSA key: {e}"))?;
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, certificate_der);
    let sha256 = ring::digest::digest(&ring::digest::SHA256, certificate_der);
    let header = serde_json::json!({
        "alg": "RS256",
        "typ": "JWT",
        "x5t": URL_SAFE_NO_PAD.encode(sha1.as_ref()),
        "x5t#S256": URL_SAFE_NO_PAD.encode(sha256.as_ref()),
    });
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": jti,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .map_err(|_| "cannot sign the client assertion".to_owned())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    /// A throwaway RSA key and self-signed certificate, made with openssl.
    fn key_and_certificate() -> (String, Vec<u8>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        let status = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=cspr test app"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success());
        let der = rustls_pki_types::CertificateDer::from_pem_file(&cert).expect("certificate").to_vec();
        (std::fs::read_to_string(&key).expect("key"), der)
    }

    #[test]
    fn the_assertion_is_a_signed_jwt_naming_the_client_and_the_certificate() {
        let (key, cert) = key_and_certificate();
        let url = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        let jwt = client_assertion("app-id", url, &cert, &key, 1_800_000_000, "n1").expect("signed");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let thumbprint = ring::digest::digest(&ring::digest::SHA256, &cert);
        assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode(thumbprint.as_ref()));
        assert_eq!(claims["aud"], url);
        assert_eq!(claims["iss"], "app-id");
        assert_eq!(claims["sub"], "app-id");
        assert_eq!(claims["exp"], 1_800_000_600);

        let PrivateKeyDer::Pkcs8(der) = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap() else { panic!() };
        let pair = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref());
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).expect("signature verifies");
    }

    #[test]
    fn a_key_that_is_not_rsa_is_refused_in_words() {
        let error = client_assertion("a", "u", b"", "not a key", 0, "n").expect_err("refused");
        assert!(error.contains("no PEM private key"), "{error}");
    }
}
