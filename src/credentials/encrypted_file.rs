//! `EncryptedFileStore`: the headless default backend, an XChaCha20-Poly1305 encrypted file.
//!
//! Layout in the state directory: `credentials.key` holds 32 random key bytes (mode 0600,
//! created once, race-free); `credentials.enc` is `HSCRED1\n` (8-byte magic, which names the
//! format version) + a 24-byte random nonce + the AEAD ciphertext of a JSON object mapping secret
//! names to values, with the magic as associated data so the header is authenticated too.
//! Invariants: every write uses a fresh random nonce and replaces the file atomically (0600 temp
//! file, fsync, rename); every load refuses a key file that is group/other accessible or owned
//! by someone other than root or us; a missing credentials file is an empty store, but a
//! credentials file without its key is an error (a new key is never generated over existing
//! data); damaged input of any kind is an error naming the file, never a panic; plaintext JSON
//! lives only in `Zeroizing` buffers. Read-modify-write operations hold an exclusive `flock` on
//! `credentials.lock` so concurrent writers cannot lose each other's updates.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::private_file::{
    check_private, create_atomic, create_new_private, ensure_dir, open_if_exists, read_limited,
    write_atomic,
};
use super::{CredentialBackend, CredentialError, validate_name};
use crate::domain::Secret;

/// Magic and format version at the start of the credentials file (authenticated as AAD).
const MAGIC: &[u8; 8] = b"HSCRED1\n";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
const HEADER_LEN: usize = MAGIC.len() + NONCE_LEN;
/// Refuse to load credentials files larger than this (ours are a few KiB).
const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

/// File name of the encrypted secrets inside the state directory.
pub const CREDENTIALS_FILE: &str = "credentials.enc";
/// File name of the key inside the state directory.
pub const KEY_FILE: &str = "credentials.key";
/// File name of the lock file serialising writers.
pub const LOCK_FILE: &str = "credentials.lock";

/// Secrets stored in `<state_dir>/credentials.enc`, encrypted with `<state_dir>/credentials.key`.
#[derive(Debug, Clone)]
pub struct EncryptedFileStore {
    dir: PathBuf,
    credentials: PathBuf,
    key: PathBuf,
}

impl EncryptedFileStore {
    /// A store in `state_dir`. Nothing is read or created until the first operation.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.to_owned(),
            credentials: state_dir.join(CREDENTIALS_FILE),
            key: state_dir.join(KEY_FILE),
        }
    }

    /// Path of the encrypted credentials file.
    pub fn credentials_path(&self) -> &Path {
        &self.credentials
    }

    /// Path of the key file.
    pub fn key_path(&self) -> &Path {
        &self.key
    }

    fn location(&self) -> String {
        format!(
            "the encrypted credentials file {}",
            self.credentials.display()
        )
    }

    /// Reads and checks the key file; `Ok(None)` when it does not exist.
    fn read_key(&self) -> Result<Option<Zeroizing<[u8; KEY_LEN]>>, CredentialError> {
        let Some(mut file) = open_if_exists(&self.key, "open the key file")? else {
            return Ok(None);
        };
        let meta = file.metadata().map_err(|source| CredentialError::Io {
            action: "inspect the key file",
            path: self.key.clone(),
            source,
        })?;
        check_private(&meta, &self.key, "key file")?;
        let invalid = |len: u64| CredentialError::InvalidKey {
            key: self.key.clone(),
            credentials: self.credentials.clone(),
            len,
        };
        let bytes = read_limited(&mut file, &self.key, "read the key file", KEY_LEN as u64)?
            .ok_or_else(|| invalid(meta.len()))?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(invalid(bytes.len() as u64));
        }
        key.copy_from_slice(&bytes);
        Ok(Some(key))
    }

    /// Returns the key, creating it (32 random bytes, mode 0600) if there is none yet.
    fn read_or_create_key(&self) -> Result<Zeroizing<[u8; KEY_LEN]>, CredentialError> {
        if let Some(key) = self.read_key()? {
            return Ok(key);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(&mut key[..]).map_err(|e| CredentialError::Random(e.to_string()))?;
        if create_atomic(&self.key, &key[..], "create the key file")? {
            tracing::info!(key = %self.key.display(), "created a new credentials key");
            return Ok(key);
        }
        // Another process created it between our read and our create: use theirs.
        self.read_key()?.ok_or_else(|| CredentialError::Io {
            action: "read the key file",
            path: self.key.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        })
    }

    /// Loads and decrypts all secrets. A missing credentials file is an empty store.
    fn load(&self) -> Result<BTreeMap<String, Secret>, CredentialError> {
        let data = match open_if_exists(&self.credentials, "open the credentials file")? {
            None => None,
            Some(mut file) => Some(
                read_limited(
                    &mut file,
                    &self.credentials,
                    "read the credentials file",
                    MAX_FILE_LEN,
                )?
                .ok_or_else(|| self.corrupt("it is larger than 16 MiB"))?,
            ),
        };
        // The key is checked on every load, even when there is nothing to decrypt yet.
        let key = self.read_key()?;
        let Some(data) = data else {
            return Ok(BTreeMap::new());
        };
        let (nonce, ciphertext) = self.parse(&data)?;
        let key = key.ok_or_else(|| CredentialError::KeyMissing {
            credentials: self.credentials.clone(),
            key: self.key.clone(),
        })?;
        let cipher = self.cipher(&key[..])?;
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        cipher
            .decrypt_in_place(&nonce, MAGIC, &mut *plaintext)
            .map_err(|_| CredentialError::Decrypt {
                credentials: self.credentials.clone(),
                key: self.key.clone(),
            })?;
        let map: BTreeMap<String, String> = serde_json::from_slice(&plaintext)
            .map_err(|_| self.corrupt("the decrypted content is not a list of secrets"))?;
        Ok(map
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect())
    }

    fn corrupt(&self, problem: &'static str) -> CredentialError {
        CredentialError::Corrupt {
            path: self.credentials.clone(),
            problem,
        }
    }

    /// Splits the file into nonce and ciphertext after checking the header.
    fn parse<'a>(&self, data: &'a [u8]) -> Result<(XNonce, &'a [u8]), CredentialError> {
        if data.is_empty() {
            return Err(self.corrupt("the file is empty"));
        }
        let prefix = &data[..data.len().min(MAGIC.len())];
        if prefix != &MAGIC[..prefix.len()] {
            // Same family, other version digit: a newer format, not damage.
            if data.len() >= MAGIC.len()
                && data[..6] == MAGIC[..6]
                && data[7] == b'\n'
                && data[6].is_ascii_alphanumeric()
            {
                return Err(CredentialError::UnsupportedVersion {
                    path: self.credentials.clone(),
                    version: char::from(data[6]),
                });
            }
            return Err(self.corrupt(
                "it does not start with the hybridsync credentials header, so it is not a \
                 hybridsync credentials file",
            ));
        }
        if data.len() < HEADER_LEN + TAG_LEN {
            return Err(self.corrupt("it is truncated"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&data[MAGIC.len()..HEADER_LEN]);
        Ok((XNonce::from(nonce), &data[HEADER_LEN..]))
    }

    /// The AEAD for `key` (which must be `KEY_LEN` bytes).
    fn cipher(&self, key: &[u8]) -> Result<XChaCha20Poly1305, CredentialError> {
        XChaCha20Poly1305::new_from_slice(key).map_err(|_| CredentialError::InvalidKey {
            key: self.key.clone(),
            credentials: self.credentials.clone(),
            len: KEY_LEN as u64,
        })
    }

    /// Encrypts all secrets under a fresh nonce and atomically replaces the credentials file.
    fn save(&self, secrets: &BTreeMap<String, Secret>) -> Result<(), CredentialError> {
        ensure_dir(&self.dir)?;
        let key = self.read_or_create_key()?;
        let cipher = self.cipher(&key[..])?;
        let view: BTreeMap<&str, &str> = secrets
            .iter()
            .map(|(name, secret)| (name.as_str(), secret.expose()))
            .collect();
        // Size the buffer exactly first, so it is never reallocated (a reallocation would leave
        // an un-zeroed copy of the plaintext behind in freed memory).
        let mut counter = ByteCounter(0);
        serde_json::to_writer(&mut counter, &view)
            .map_err(|_| self.encrypt_error("the secrets cannot be serialised"))?;
        let mut buf = Zeroizing::new(Vec::with_capacity(counter.0 + TAG_LEN));
        serde_json::to_writer(&mut *buf, &view)
            .map_err(|_| self.encrypt_error("the secrets cannot be serialised"))?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| CredentialError::Random(e.to_string()))?;
        let nonce = XNonce::from(nonce);
        cipher
            .encrypt_in_place(&nonce, MAGIC, &mut *buf)
            .map_err(|_| self.encrypt_error("the data is too large"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + buf.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        write_atomic(&self.credentials, &out, "write the credentials file")
    }

    fn encrypt_error(&self, reason: &'static str) -> CredentialError {
        CredentialError::Encrypt {
            path: self.credentials.clone(),
            reason,
        }
    }

    /// Takes the exclusive writer lock (released when the returned file is dropped).
    fn lock(&self) -> Result<File, CredentialError> {
        ensure_dir(&self.dir)?;
        let path = self.dir.join(LOCK_FILE);
        let io_err = |source| CredentialError::Io {
            action: "lock",
            path: path.clone(),
            source,
        };
        let file = match create_new_private(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                File::options().write(true).open(&path).map_err(io_err)?
            }
            Err(e) => return Err(io_err(e)),
        };
        file.lock().map_err(io_err)?;
        Ok(file)
    }

    /// Runs `change` on the loaded secrets under the writer lock, then saves them.
    fn modify<T>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, Secret>) -> Result<T, CredentialError>,
    ) -> Result<T, CredentialError> {
        let _lock = self.lock()?;
        let mut secrets = self.load()?;
        let result = change(&mut secrets)?;
        self.save(&secrets)?;
        Ok(result)
    }
}

/// An `io::Write` that only counts bytes.
struct ByteCounter(usize);

impl Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl CredentialBackend for EncryptedFileStore {
    fn name(&self) -> &'static str {
        "encrypted-file"
    }

    fn get(&self, name: &str) -> Result<Secret, CredentialError> {
        validate_name(name)?;
        self.load()?
            .remove(name)
            .ok_or_else(|| CredentialError::NotFound {
                name: name.to_owned(),
                location: self.location(),
            })
    }

    fn set(&self, name: &str, secret: &Secret) -> Result<(), CredentialError> {
        validate_name(name)?;
        self.modify(|secrets| {
            secrets.insert(name.to_owned(), Secret::new(secret.expose().to_owned()));
            Ok(())
        })?;
        tracing::debug!(name, file = %self.credentials.display(), "stored secret");
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), CredentialError> {
        validate_name(name)?;
        self.modify(|secrets| {
            secrets
                .remove(name)
                .map(drop)
                .ok_or_else(|| CredentialError::NotFound {
                    name: name.to_owned(),
                    location: self.location(),
                })
        })?;
        tracing::debug!(name, file = %self.credentials.display(), "deleted secret");
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, CredentialError> {
        Ok(self.load()?.into_keys().collect())
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, Permissions};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use proptest::prelude::*;

    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.to_owned())
    }

    fn store_with_one() -> (tempfile::TempDir, EncryptedFileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = EncryptedFileStore::new(dir.path());
        store.set("ad-bind", &secret("hunter2")).unwrap();
        (dir, store)
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = EncryptedFileStore::new(dir.path());
        assert_eq!(store.list().unwrap(), Vec::<String>::new());
        store.set("ad-bind", &secret("hunter2")).unwrap();
        store
            .set("graph.client_secret", &secret("ünïcode \"quoted\"\n"))
            .unwrap();
        store.set("ad-bind", &secret("hunter3")).unwrap();
        assert_eq!(store.get("ad-bind").unwrap().expose(), "hunter3");
        assert_eq!(store.list().unwrap(), ["ad-bind", "graph.client_secret"]);

        let reopened = EncryptedFileStore::new(dir.path());
        assert_eq!(reopened.get("ad-bind").unwrap().expose(), "hunter3");
        assert_eq!(
            reopened.get("graph.client_secret").unwrap().expose(),
            "ünïcode \"quoted\"\n"
        );
        reopened.delete("ad-bind").unwrap();
        assert_eq!(store.list().unwrap(), ["graph.client_secret"]);
        let err = store.get("ad-bind").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no secret named 'ad-bind' in the encrypted credentials file {}: store it first, \
                 or correct the reference in the configuration",
                store.credentials_path().display()
            )
        );
        assert!(matches!(
            store.delete("ad-bind"),
            Err(CredentialError::NotFound { .. })
        ));
        assert!(matches!(
            store.set("a/b", &secret("x")),
            Err(CredentialError::InvalidName { .. })
        ));
        // The secret is nowhere in the file in clear.
        let raw = fs::read(store.credentials_path()).unwrap();
        assert!(raw.starts_with(MAGIC));
        assert!(!raw.windows(6).any(|w| w == b"hunter"));
    }

    #[test]
    fn fresh_nonce_on_every_save() {
        let (_dir, store) = store_with_one();
        let first = fs::read(store.credentials_path()).unwrap();
        store.set("ad-bind", &secret("hunter2")).unwrap();
        let second = fs::read(store.credentials_path()).unwrap();
        assert_eq!(first.len(), second.len());
        assert_ne!(first[8..32], second[8..32], "nonce reused");
        assert_ne!(first[32..], second[32..]);
    }

    #[test]
    fn created_files_are_0600() {
        let (dir, store) = store_with_one();
        assert_eq!(mode(store.key_path()), 0o600);
        assert_eq!(mode(store.credentials_path()), 0o600);
        assert_eq!(mode(&dir.path().join(LOCK_FILE)), 0o600);
        assert_eq!(fs::metadata(store.key_path()).unwrap().len(), 32);
    }

    #[test]
    fn state_dir_is_created_0700() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("var/lib/hybridsync");
        let store = EncryptedFileStore::new(&state);
        store.set("x", &secret("y")).unwrap();
        assert_eq!(mode(&state), 0o700);
    }

    #[test]
    fn wrong_key_is_explained() {
        let (_dir, store) = store_with_one();
        let mut other = [0u8; 32];
        getrandom::fill(&mut other).unwrap();
        fs::write(store.key_path(), other).unwrap();
        let err = store.get("ad-bind").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "credentials file {} cannot be decrypted with key {}: the key file does not \
                 belong to this credentials file or one of them was altered; restore both from \
                 the same backup",
                store.credentials_path().display(),
                store.key_path().display()
            )
        );
        // A failed load must not let a write replace the existing file.
        assert!(store.set("other", &secret("x")).is_err());
    }

    #[test]
    fn damaged_files_are_explained() {
        let (_dir, store) = store_with_one();
        let good = fs::read(store.credentials_path()).unwrap();
        let path = store.credentials_path().to_owned();
        let shown = path.display().to_string();
        let check = |bytes: &[u8], expected: &str| {
            fs::write(&path, bytes).unwrap();
            let msg = store.get("ad-bind").unwrap_err().to_string();
            assert!(msg.contains(expected), "{msg}");
            assert!(msg.contains(&shown), "{msg}");
            assert!(store.list().is_err());
        };
        // Flipped bytes anywhere: header, nonce, ciphertext, tag.
        for i in [0, 5, 8, 20, 40, good.len() - 1] {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            let expected = if i < 8 {
                "is damaged"
            } else {
                "cannot be decrypted"
            };
            check(&bad, expected);
        }
        check(&good[..good.len() - 1], "cannot be decrypted");
        check(&good[..HEADER_LEN + TAG_LEN - 1], "it is truncated");
        check(&good[..4], "is damaged");
        check(b"", "(the file is empty)");
        check(b"{\"ad-bind\":\"x\"}", "not a hybridsync credentials file");
        let mut newer = good.clone();
        newer[6] = b'2';
        check(&newer, "uses format version '2'");
        assert_eq!(
            {
                fs::write(&path, b"").unwrap();
                store.get("x").unwrap_err().to_string()
            },
            format!(
                "credentials file {shown} is damaged (the file is empty): restore it from a \
                 backup, or move it away and store the secrets again"
            )
        );
    }

    #[test]
    fn key_file_problems() {
        let (_dir, store) = store_with_one();
        let key = store.key_path().to_owned();
        fs::set_permissions(&key, Permissions::from_mode(0o644)).unwrap();
        let err = store.get("ad-bind").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "key file {0} has mode 644, which gives access to users other than its owner: \
                 run `chmod 600 {0}`",
                key.display()
            )
        );
        // Refused for writes too, and also when there is no credentials file yet.
        assert!(store.set("x", &secret("y")).is_err());
        fs::remove_file(store.credentials_path()).unwrap();
        assert!(matches!(
            store.list(),
            Err(CredentialError::InsecurePermissions { mode: 0o644, .. })
        ));

        fs::set_permissions(&key, Permissions::from_mode(0o600)).unwrap();
        fs::write(&key, [1u8; 31]).unwrap();
        assert!(
            store
                .list()
                .unwrap_err()
                .to_string()
                .contains("is not a valid key (31 bytes, expected 32)")
        );
    }

    #[test]
    fn missing_key_never_replaced_over_existing_data() {
        let (_dir, store) = store_with_one();
        fs::remove_file(store.key_path()).unwrap();
        let err = store.set("other", &secret("x")).unwrap_err();
        assert!(matches!(err, CredentialError::KeyMissing { .. }), "{err}");
        assert!(!store.key_path().exists());
        assert!(err.to_string().contains("is missing: restore the key file"));
    }

    #[test]
    fn errors_and_debug_never_show_secrets() {
        let (_dir, store) = store_with_one();
        let mut other = [0u8; 32];
        getrandom::fill(&mut other).unwrap();
        fs::write(store.key_path(), other).unwrap();
        let err = store.get("ad-bind").unwrap_err();
        assert!(!format!("{err} {err:?} {store:?}").contains("hunter2"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_credentials_file_never_panics(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            with_magic in any::<bool>(),
        ) {
            let (_dir, store) = store_with_one();
            let mut data = if with_magic { MAGIC.to_vec() } else { Vec::new() };
            data.extend_from_slice(&bytes);
            fs::write(store.credentials_path(), &data).unwrap();
            prop_assert!(store.get("ad-bind").is_err());
            prop_assert!(store.list().is_err());
        }
    }
}
