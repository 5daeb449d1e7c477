use std::os::unix::fs::PermissionsExt;

use super::*;

const RSA_PRIVATE: &[u8] = include_bytes!("../testdata/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../testdata/rsa_public.pem");
const RSA_PUBLIC_PKCS1: &[u8] = include_bytes!("../testdata/rsa_public_pkcs1.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../testdata/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../testdata/ec_public.pem");
const EC2_PUBLIC: &[u8] = include_bytes!("../testdata/ec2_public.pem");

#[test]
fn rsa_keys_load_and_name_themselves_alike() {
    let signing = SigningKey::from_pem(KeyAlg::RS256, RSA_PRIVATE, RSA_PUBLIC).unwrap();
    let public = VerifyKey::from_public_pem(KeyAlg::RS256, RSA_PUBLIC).unwrap();
    assert_eq!(
        (signing.kid(), signing.alg()),
        (public.kid(), KeyAlg::RS256)
    );
    // The same key in its PKCS#1 wrapper (`BEGIN RSA PUBLIC KEY`) has the same id.
    let pkcs1 = VerifyKey::from_public_pem(KeyAlg::RS256, RSA_PUBLIC_PKCS1).unwrap();
    assert_eq!(pkcs1.kid(), public.kid());
}

#[test]
fn key_ids_name_the_key_not_the_file() {
    let signing = SigningKey::from_pem(KeyAlg::ES256, EC_PRIVATE, EC_PUBLIC).unwrap();
    let public = VerifyKey::from_public_pem(KeyAlg::ES256, EC_PUBLIC).unwrap();
    assert_eq!(signing.kid(), public.kid());
    assert_eq!(signing.kid().len(), 16, "8 bytes in hex");
    let crlf = String::from_utf8(EC_PUBLIC.to_vec())
        .unwrap()
        .replace('\n', "\r\n");
    let same = VerifyKey::from_public_pem(KeyAlg::ES256, crlf.as_bytes()).unwrap();
    assert_eq!(same.kid(), public.kid());
    let other = VerifyKey::from_public_pem(KeyAlg::ES256, EC2_PUBLIC).unwrap();
    assert_ne!(other.kid(), public.kid());
    let secret = generate_secret();
    assert_eq!(SigningKey::hs256(&secret).unwrap().kid(), key_id(&secret));
}

#[test]
fn key_construction_rejects_bad_input() {
    assert!(matches!(
        SigningKey::hs256(b"short"),
        Err(KeyError::WeakSecret(5))
    ));
    assert!(matches!(
        SigningKey::from_pem(KeyAlg::ES256, EC_PRIVATE, EC2_PUBLIC),
        Err(KeyError::Mismatch)
    ));
    assert!(matches!(
        SigningKey::from_pem(KeyAlg::RS256, EC_PRIVATE, EC_PUBLIC),
        Err(KeyError::Pem { .. })
    ));
    assert!(matches!(
        VerifyKey::from_public_pem(KeyAlg::HS256, EC_PUBLIC),
        Err(KeyError::NotPem)
    ));
    let missing = Path::new("/nonexistent/percore/key.pem");
    assert!(matches!(
        VerifyKey::from_public_pem_file(KeyAlg::ES256, missing),
        Err(KeyError::Io { .. })
    ));
}

#[test]
fn secret_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwt.secret");
    let first = load_or_create_secret(&path).unwrap();
    assert_eq!(first.len(), 32);
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(load_or_create_secret(&path).unwrap(), first);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    fs::write(&path, "not hex\n").unwrap();
    assert!(matches!(
        load_or_create_secret(&path),
        Err(KeyError::SecretFile { .. })
    ));
    fs::write(&path, format!("{}\n", to_hex(&[7; 16]))).unwrap();
    assert!(
        matches!(
            load_or_create_secret(&path),
            Err(KeyError::SecretFile { .. })
        ),
        "too short"
    );
}

#[test]
fn pem_files_load_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = (dir.path().join("k.pem"), dir.path().join("k.pub"));
    fs::write(&private, EC_PRIVATE).unwrap();
    fs::write(&public, EC_PUBLIC).unwrap();
    let signing = SigningKey::from_pem_files(KeyAlg::ES256, &private, &public).unwrap();
    let verify = VerifyKey::from_public_pem_file(KeyAlg::ES256, &public).unwrap();
    assert_eq!(signing.kid(), verify.kid());
}
