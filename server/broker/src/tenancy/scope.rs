//! Who is calling and what they may do: `Principal`, `Scope` and the one `authorize` check
//! both transports call before touching anything.
//!
//! Owns the scope grammar and the isolation rule: a principal acts only in its own tenant
//! unless it holds `admin`, and a tenant it may not see answers exactly like a missing one.
//! Must not know how a credential was verified (weir-api does that) or any transport.

use std::fmt;

use crate::{BrokerError, TenantId};

/// What a scope allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Every tenant, its keys and quotas, and everything inside every tenant.
    Admin,
    /// Fetch and describe topics.
    TopicsRead,
    /// Produce to topics.
    TopicsWrite,
    /// Create, change and delete topics.
    TopicsAdmin,
    /// Describe groups and read their committed offsets.
    GroupsRead,
    /// Join groups, commit offsets, reset and delete groups.
    GroupsWrite,
    /// Create, list and revoke the API keys of the principal's own tenant (never granting more
    /// than the creator holds).
    KeysAdmin,
}

impl Permission {
    const ALL: [(Permission, &'static str); 7] = [
        (Permission::Admin, "admin"),
        (Permission::TopicsRead, "topics:read"),
        (Permission::TopicsWrite, "topics:write"),
        (Permission::TopicsAdmin, "topics:admin"),
        (Permission::GroupsRead, "groups:read"),
        (Permission::GroupsWrite, "groups:write"),
        (Permission::KeysAdmin, "keys:admin"),
    ];

    /// The scope name, e.g. `topics:read`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("", |(_, s)| s)
    }

    fn takes_pattern(self) -> bool {
        !matches!(self, Permission::Admin | Permission::KeysAdmin)
    }
}

/// Which names a scope covers: every name, names starting with a prefix, or one name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NamePattern {
    /// Every name.
    Any,
    /// Names starting with this (written `prefix*`).
    Prefix(String),
    /// Exactly this name.
    Exact(String),
}

impl NamePattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Any => true,
            NamePattern::Prefix(p) => name.starts_with(p.as_str()),
            NamePattern::Exact(n) => n == name,
        }
    }

    /// Whether every name this pattern matches is matched by `wider`.
    fn within(&self, wider: &NamePattern) -> bool {
        match (wider, self) {
            (NamePattern::Any, _) => true,
            (_, NamePattern::Any) => false,
            (NamePattern::Prefix(w), NamePattern::Prefix(n) | NamePattern::Exact(n)) => {
                n.starts_with(w.as_str())
            }
            (NamePattern::Exact(w), NamePattern::Exact(n)) => w == n,
            (NamePattern::Exact(_), NamePattern::Prefix(_)) => false,
        }
    }
}

/// One granted permission, optionally narrowed to topic or group names:
/// `topics:read`, `topics:write:orders-*` (prefix) or `groups:read:billing` (one name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// What it allows.
    pub permission: Permission,
    /// On which names.
    pub pattern: NamePattern,
}

/// Longest scope string accepted, in bytes.
pub const SCOPE_BYTES_MAX: usize = 300;

impl Scope {
    /// Parses `permission[:pattern]`, where a pattern is a name or a prefix ending in `*`.
    pub fn parse(s: &str) -> Result<Scope, BrokerError> {
        let invalid =
            |why: &str| BrokerError::InvalidRequest(format!("invalid scope {s:?}: {why}"));
        if s.len() > SCOPE_BYTES_MAX {
            return Err(invalid("too long"));
        }
        let (permission, rest) = Permission::ALL
            .iter()
            .filter_map(|(p, name)| s.strip_prefix(name).map(|rest| (*p, rest)))
            .find(|(_, rest)| rest.is_empty() || rest.starts_with(':'))
            .ok_or_else(|| {
                invalid("expected admin, keys:admin, topics:read|write|admin or groups:read|write")
            })?;
        let pattern = match rest.strip_prefix(':') {
            None => NamePattern::Any,
            Some(_) if !permission.takes_pattern() => {
                return Err(invalid("this permission takes no name pattern"));
            }
            Some("*") => NamePattern::Any,
            Some(p) => {
                let (name, prefix) = match p.strip_suffix('*') {
                    Some(name) => (name, true),
                    None => (p, false),
                };
                let ok = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
                if !ok {
                    return Err(invalid(
                        "a pattern is a name of a-z, A-Z, 0-9, '.', '_', '-', optionally ending in '*'",
                    ));
                }
                if prefix {
                    NamePattern::Prefix(name.to_owned())
                } else {
                    NamePattern::Exact(name.to_owned())
                }
            }
        };
        Ok(Scope {
            permission,
            pattern,
        })
    }

    /// Whether holding `self` implies holding `other`.
    fn covers(&self, other: &Scope) -> bool {
        self.permission == Permission::Admin
            || (self.permission == other.permission && other.pattern.within(&self.pattern))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.permission.as_str())?;
        match &self.pattern {
            NamePattern::Any => Ok(()),
            NamePattern::Prefix(p) => write!(f, ":{p}*"),
            NamePattern::Exact(n) => write!(f, ":{n}"),
        }
    }
}

/// Longest list of scopes on one credential.
pub const SCOPES_MAX: usize = 64;

/// Parses a list of scopes (from a key request, or a JWT `scope` claim split on spaces).
pub fn parse_scopes<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Scope>, BrokerError> {
    let scopes = items
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(Scope::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if scopes.len() > SCOPES_MAX {
        return Err(BrokerError::InvalidRequest(format!(
            "{} scopes exceed the limit of {SCOPES_MAX}",
            scopes.len()
        )));
    }
    Ok(scopes)
}

/// Something a request wants to do, with the name it does it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read records or describe a topic.
    ReadTopic(&'a str),
    /// Produce to a topic.
    WriteTopic(&'a str),
    /// Create, change or delete a topic.
    AdminTopic(&'a str),
    /// Create, change or delete some topic (checked before the name is known).
    AdminTopics,
    /// List the tenant's topics (each listed topic is filtered by `ReadTopic` by the caller).
    ListTopics,
    /// Describe a group or read its offsets.
    ReadGroup(&'a str),
    /// Join, commit, reset or delete a group.
    WriteGroup(&'a str),
    /// List the tenant's groups (filtered by `ReadGroup` by the caller).
    ListGroups,
    /// Create, list or revoke the tenant's API keys.
    ManageKeys,
    /// Read the tenant's quotas and usage: any principal of the tenant may.
    ReadTenant,
    /// Anything under `/v1/admin` and changing quotas.
    Administer,
}

/// How a principal proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key, by id.
    ApiKey(String),
    /// A JWT from this issuer.
    Jwt {
        /// `iss` claim.
        issuer: String,
        /// `exp` claim: seconds since the Unix epoch.
        expires_at: u64,
        /// The tenant incarnation of a token this server issued (`tin`); `None` for
        /// trusted external issuers.
        incarnation: Option<u64>,
    },
    /// Authentication is off (`--auth none`): everyone is an administrator.
    Anonymous,
}

/// A verified caller. Only weir-api builds one, after checking a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable id of the caller: `key:<id>` for API keys, the `sub` claim for JWTs.
    pub subject: String,
    /// The tenant the credential belongs to.
    pub tenant: TenantId,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// How it was verified.
    pub credential: Credential,
}

impl Principal {
    /// The caller of a server running with authentication off.
    pub fn anonymous(tenant: TenantId) -> Principal {
        Principal {
            subject: "anonymous".into(),
            tenant,
            scopes: vec![Scope {
                permission: Permission::Admin,
                pattern: NamePattern::Any,
            }],
            credential: Credential::Anonymous,
        }
    }

    /// Whether the principal holds `admin`.
    pub fn is_admin(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s.permission == Permission::Admin)
    }

    /// Whether the principal may see `tenant` at all.
    pub fn sees(&self, tenant: &TenantId) -> bool {
        self.is_admin() || &self.tenant == tenant
    }

    /// The one authorization check of every request, on both transports. A tenant the
    /// principal may not see is reported exactly as a tenant that does not exist.
    pub fn authorize(&self, tenant: &TenantId, action: Action<'_>) -> Result<(), BrokerError> {
        if !self.sees(tenant) {
            return Err(BrokerError::TenantNotFound(tenant.to_string()));
        }
        if self.is_admin() || action == Action::ReadTenant || self.allows(action) {
            return Ok(());
        }
        let (needed, name) = needs(action);
        Err(BrokerError::Forbidden(match name {
            Some(name) => format!(
                "{} does not hold {} for {name:?}",
                self.subject,
                needed.as_str()
            ),
            None => format!("{} does not hold {}", self.subject, needed.as_str()),
        }))
    }

    /// Whether a scope grants `action` (ignoring the tenant).
    pub fn allows(&self, action: Action<'_>) -> bool {
        let (needed, name) = needs(action);
        self.scopes.iter().any(|s| {
            s.permission == Permission::Admin
                || (s.permission == needed && name.is_none_or(|n| s.pattern.matches(n)))
        })
    }

    /// Refuses scopes the principal could not use itself: nobody hands out more than it holds.
    pub fn may_grant(&self, scopes: &[Scope]) -> Result<(), BrokerError> {
        match scopes
            .iter()
            .find(|wanted| !self.scopes.iter().any(|held| held.covers(wanted)))
        {
            None => Ok(()),
            Some(s) => Err(BrokerError::Forbidden(format!(
                "{} cannot grant {s}: it does not hold it",
                self.subject
            ))),
        }
    }
}

/// The permission an action needs, and the name it is checked against.
fn needs(action: Action<'_>) -> (Permission, Option<&str>) {
    match action {
        Action::ReadTopic(n) => (Permission::TopicsRead, Some(n)),
        Action::WriteTopic(n) => (Permission::TopicsWrite, Some(n)),
        Action::AdminTopic(n) => (Permission::TopicsAdmin, Some(n)),
        Action::AdminTopics => (Permission::TopicsAdmin, None),
        Action::ListTopics => (Permission::TopicsRead, None),
        Action::ReadGroup(n) => (Permission::GroupsRead, Some(n)),
        Action::WriteGroup(n) => (Permission::GroupsWrite, Some(n)),
        Action::ListGroups => (Permission::GroupsRead, None),
        Action::ManageKeys => (Permission::KeysAdmin, None),
        Action::ReadTenant => (Permission::TopicsRead, None),
        Action::Administer => (Permission::Admin, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(tenant: &str, scopes: &[&str]) -> Principal {
        Principal {
            subject: "t".into(),
            tenant: TenantId::parse(tenant).unwrap(),
            scopes: parse_scopes(scopes.iter().copied()).unwrap(),
            credential: Credential::ApiKey("k".into()),
        }
    }

    #[test]
    fn scopes_parse_and_print_back() {
        for s in [
            "admin",
            "keys:admin",
            "topics:read",
            "topics:write:orders-*",
            "groups:read:billing",
        ] {
            assert_eq!(Scope::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "",
            "topics",
            "topics:",
            "topics:readx",
            "admin:x",
            "topics:read:a b",
            "topics:read:*x",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn patterns_narrow_permissions() {
        let p = principal("a", &["topics:read:orders-*", "topics:write:audit"]);
        let a = TenantId::parse("a").unwrap();
        assert!(p.authorize(&a, Action::ReadTopic("orders-eu")).is_ok());
        assert!(p.authorize(&a, Action::ReadTopic("payments")).is_err());
        assert!(p.authorize(&a, Action::WriteTopic("audit")).is_ok());
        assert!(p.authorize(&a, Action::WriteTopic("audit2")).is_err());
        assert!(p.authorize(&a, Action::WriteTopic("orders-eu")).is_err());
        assert!(p.authorize(&a, Action::Administer).is_err());
    }

    #[test]
    fn another_tenant_looks_missing_and_admin_sees_all() {
        let p = principal("a", &["topics:read"]);
        let b = TenantId::parse("b").unwrap();
        let err = p.authorize(&b, Action::ReadTopic("x")).unwrap_err();
        assert!(matches!(err, BrokerError::TenantNotFound(_)));
        let admin = principal("a", &["admin"]);
        assert!(admin.authorize(&b, Action::WriteTopic("x")).is_ok());
    }

    #[test]
    fn nobody_grants_more_than_it_holds() {
        let p = principal("a", &["keys:admin", "topics:read:orders*"]);
        let ok = parse_scopes(["topics:read:orders-eu", "topics:read:orders*"]).unwrap();
        assert!(p.may_grant(&ok).is_ok());
        for wider in [
            "topics:read",
            "topics:read:o*",
            "topics:write:orders",
            "admin",
        ] {
            let s = parse_scopes([wider]).unwrap();
            assert!(p.may_grant(&s).is_err(), "{wider} granted");
        }
    }
}
