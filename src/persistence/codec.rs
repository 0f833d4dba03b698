//! The codec of stored state: zlib compression, then AES-GCM encryption, both as
//! the Python library does them (`ZlibCompressor`, `AESCipher`), so either side
//! reads what the other stored. The key lives only in memory: nothing here is
//! ever written anywhere.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce, Tag};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::error::{Error, Result};

/// AES-192-GCM with the standard 12-byte nonce (the crate names only 128 and 256).
type Aes192Gcm = AesGcm<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>;

const NONCE: usize = 12;
const TAG: usize = 16;
/// zlib level 6, the default of Python's `zlib.compress`.
const LEVEL: u8 = 6;
/// The most a stored state may inflate to: a bound against zlib bombs.
pub const MAX_INFLATED: usize = 512 << 20;

/// What happens to state bytes between the transcoder and the recorder.
#[derive(Clone, Default)]
pub struct Codec {
    compress: bool,
    cipher: Option<Cipher>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec").field("compress", &self.compress).field("encrypt", &self.cipher.is_some()).finish()
    }
}

impl Codec {
    /// Stores state as the transcoder writes it.
    pub fn plain() -> Self {
        Codec::default()
    }

    /// Compresses state with zlib (the Python library's `ZlibCompressor`).
    pub fn compressed(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Encrypts state with AES-GCM under `key_b64`: standard base64 of a 16, 24
    /// or 32-byte key, as the Python library's `CIPHER_KEY`.
    pub fn encrypted(mut self, key_b64: &str) -> Result<Self> {
        self.cipher = Some(Cipher::new(key_b64)?);
        Ok(self)
    }

    pub fn compresses(&self) -> bool {
        self.compress
    }

    pub fn encrypts(&self) -> bool {
        self.cipher.is_some()
    }

    /// Transcoded bytes to stored bytes: compress, then encrypt with a fresh nonce.
    pub fn encode(&self, bytes: Vec<u8>) -> Result<Vec<u8>> {
        let bytes = if self.compress { miniz_oxide::deflate::compress_to_vec_zlib(&bytes, LEVEL) } else { bytes };
        match &self.cipher {
            Some(cipher) => cipher.encrypt(&fresh_nonce()?, bytes),
            None => Ok(bytes),
        }
    }

    /// Stored bytes to transcoded bytes: decrypt, then inflate.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>> {
        let bytes = match &self.cipher {
            Some(cipher) => std::borrow::Cow::Owned(cipher.decrypt(bytes)?),
            None => std::borrow::Cow::Borrowed(bytes),
        };
        if !self.compress {
            return Ok(bytes);
        }
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&bytes, MAX_INFLATED).map(std::borrow::Cow::Owned).map_err(|e| {
            let message = format!("the state is not a zlib stream (or inflates past {MAX_INFLATED} bytes): {:?}", e.status);
            // Neither a zlib stream's header nor text, with no cipher set: most likely a missing key.
            let zlib = bytes.len() >= 2 && bytes[0] & 0x0f == 8 && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0;
            match self.cipher {
                None if !zlib && std::str::from_utf8(&bytes).is_err() => {
                    Error::Cipher(format!("{message}; is it encrypted? open with its cipher key"))
                }
                _ => Error::corrupt(message),
            }
        })
    }
}

/// AES-GCM with a key of one of the three sizes.
#[derive(Clone)]
pub struct Cipher(Aes);

#[derive(Clone)]
enum Aes {
    A128(Aes128Gcm),
    A192(Aes192Gcm),
    A256(Aes256Gcm),
}

impl Cipher {
    /// A cipher for a standard-base64 key of 16, 24 or 32 bytes.
    pub fn new(key_b64: &str) -> Result<Self> {
        let key = STANDARD
            .decode(key_b64.trim())
            .map_err(|_| Error::Cipher("the cipher key is not standard base64 (as Python's CIPHER_KEY)".into()))?;
        let aes = match key.len() {
            16 => Aes::A128(Aes128Gcm::new_from_slice(&key).expect("16 bytes")),
            24 => Aes::A192(Aes192Gcm::new_from_slice(&key).expect("24 bytes")),
            32 => Aes::A256(Aes256Gcm::new_from_slice(&key).expect("32 bytes")),
            n => return Err(Error::Cipher(format!("the cipher key has {n} bytes: AES takes 16, 24 or 32"))),
        };
        Ok(Cipher(aes))
    }

    /// `nonce | tag | ciphertext`, the Python library's layout.
    pub fn encrypt(&self, nonce: &[u8; NONCE], mut bytes: Vec<u8>) -> Result<Vec<u8>> {
        let at = Nonce::from_slice(nonce);
        let tag = match &self.0 {
            Aes::A128(c) => c.encrypt_in_place_detached(at, b"", &mut bytes),
            Aes::A192(c) => c.encrypt_in_place_detached(at, b"", &mut bytes),
            Aes::A256(c) => c.encrypt_in_place_detached(at, b"", &mut bytes),
        }
        .map_err(|_| Error::invalid("the state is too large to encrypt"))?;
        let mut out = Vec::with_capacity(NONCE + TAG + bytes.len());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&tag);
        out.extend_from_slice(&bytes);
        Ok(out)
    }

    /// Checks the tag and decrypts; a wrong key or altered bytes is an [`Error::Cipher`].
    pub fn decrypt(&self, stored: &[u8]) -> Result<Vec<u8>> {
        if stored.len() < NONCE + TAG {
            return Err(Error::Cipher(format!("{} bytes cannot be AES-GCM state (nonce and tag take 28): is it encrypted?", stored.len())));
        }
        let (nonce, rest) = stored.split_at(NONCE);
        let (tag, ciphertext) = rest.split_at(TAG);
        let mut bytes = ciphertext.to_vec();
        let (at, tag) = (Nonce::from_slice(nonce), Tag::from_slice(tag));
        match &self.0 {
            Aes::A128(c) => c.decrypt_in_place_detached(at, b"", &mut bytes, tag),
            Aes::A192(c) => c.decrypt_in_place_detached(at, b"", &mut bytes, tag),
            Aes::A256(c) => c.decrypt_in_place_detached(at, b"", &mut bytes, tag),
        }
        .map_err(|_| Error::Cipher("the state does not decrypt with this key (a wrong key, or the bytes were altered)".into()))?;
        Ok(bytes)
    }
}

/// Twelve random bytes from the platform (the browser's `crypto.getRandomValues`).
fn fresh_nonce() -> Result<[u8; NONCE]> {
    let mut nonce = [0; NONCE];
    getrandom::fill(&mut nonce).map_err(|e| Error::Storage(format!("no random numbers for a nonce: {e}")))?;
    Ok(nonce)
}
