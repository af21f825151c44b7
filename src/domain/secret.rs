//! [`Secret`]: a password, client secret or token held in memory. Invariants: its text never
//! appears in `Debug` or `Display` output (both print `[redacted]`), its buffer is zeroed when
//! dropped, and it deliberately implements neither `Serialize` nor `Deserialize`, so it can never
//! be written to or read from a configuration file by accident. Equality runs in time that
//! depends only on the lengths, never on where the contents differ.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string that is redacted when printed and zeroed when dropped.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of a secret string without copying it.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The secret text, for handing to the one API that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    /// Constant-time for equal lengths; a length mismatch returns `false` immediately.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn equality_compares_contents() {
        let a = Secret::new("correct horse".to_owned());
        assert_eq!(a, a.clone());
        assert_eq!(a, Secret::from("correct horse".to_owned()));
        assert_ne!(a, Secret::new("correct horsf".to_owned()));
        assert_ne!(a, Secret::new("correct hors".to_owned()));
        assert_ne!(a, Secret::new(String::new()));
        assert_eq!(Secret::new(String::new()), Secret::new(String::new()));
        assert!(Secret::new(String::new()).is_empty());
    }

    /// `Probe::<T>::SERIALIZE` resolves to the inherent `true` only when `T: Serialize`, else to
    /// the blanket trait's `false`; likewise for `Deserialize`.
    struct Probe<T>(std::marker::PhantomData<T>);
    trait Fallback {
        const SERIALIZE: bool = false;
        const DESERIALIZE: bool = false;
    }
    impl<T> Fallback for Probe<T> {}
    impl<T: serde::Serialize> Probe<T> {
        const SERIALIZE: bool = true;
    }
    impl<T: serde::de::DeserializeOwned> Probe<T> {
        const DESERIALIZE: bool = true;
    }

    #[test]
    fn never_serializes_or_deserializes() {
        // Checked at compile time; the first line proves the probe can see real impls.
        const { assert!(Probe::<String>::SERIALIZE && Probe::<String>::DESERIALIZE) };
        const { assert!(!Probe::<Secret>::SERIALIZE && !Probe::<Secret>::DESERIALIZE) };
    }
}
