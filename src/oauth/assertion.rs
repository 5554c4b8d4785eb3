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
