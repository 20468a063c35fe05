//! Names validated once at the edge: tenant ids and topic names.
//!
//! Owns the naming rules. A `TenantId` in a request handler means "a tenant the caller may act
//! as" only once the api layer has checked the credential; this module only checks spelling.

use std::fmt;

use crate::BrokerError;

/// Longest tenant name, in bytes.
pub const TENANT_NAME_BYTES_MAX: usize = 63;
/// Longest topic name, in bytes (Kafka's limit).
pub const TOPIC_NAME_BYTES_MAX: usize = 249;

/// A tenant name: lowercase ASCII letters, digits and `-`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Checks the spelling of a tenant name.
    pub fn parse(name: &str) -> Result<Self, BrokerError> {
        let ok = !name.is_empty()
            && name.len() <= TENANT_NAME_BYTES_MAX
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if ok {
            Ok(TenantId(name.to_owned()))
        } else {
            Err(BrokerError::InvalidName {
                kind: "tenant",
                name: name.to_owned(),
                rule: "1 to 63 characters of a-z, 0-9 and '-', not starting with '-'",
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A topic name: Kafka's rules (ASCII letters, digits, `.`, `_`, `-`; not `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(String);

impl TopicName {
    /// Checks the spelling of a topic name.
    pub fn parse(name: &str) -> Result<Self, BrokerError> {
        let ok = !name.is_empty()
            && name.len() <= TOPIC_NAME_BYTES_MAX
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(TopicName(name.to_owned()))
        } else {
            Err(BrokerError::InvalidName {
                kind: "topic",
                name: name.to_owned(),
                rule: "1 to 249 characters of a-z, A-Z, 0-9, '.', '_' and '-', not '.' or '..'",
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_their_rules() {
        assert!(TenantId::parse("default").is_ok());
        assert!(TenantId::parse("team-7").is_ok());
        for bad in ["", "-x", "Upper", "a_b", "a/b", &"a".repeat(64)] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TopicName::parse("orders.v1_EU-west").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "ü", &"a".repeat(250)] {
            assert!(TopicName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
