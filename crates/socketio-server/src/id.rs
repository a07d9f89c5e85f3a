//! Random ids for sockets and recovery sessions: 15 random bytes as 20 URL-safe base64 characters,
//! the shape of the reference's ids.

use base64::Engine as _;

pub(crate) fn random_id() -> String {
    let bytes: [u8; 15] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_twenty_url_safe_characters_and_differ() {
        let a = super::random_id();
        let b = super::random_id();
        assert_eq!(a.len(), 20);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }
}
