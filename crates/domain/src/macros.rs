//! Internal helper macros.

/// Defines a fieldless enum stored as a snake_case string: `ALL`, `as_str`, `parse`, `Display`,
/// `FromStr` and serde (which uses exactly the same strings).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal, $label:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $s:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $s)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// `('a','b')`: the stored strings of the variants where `pred` holds, for an SQL
            /// `IN` list. Status groups are predicates on the enum (exhaustive matches), so a
            /// new variant cannot be left out of a group's SQL by accident.
            pub fn sql_in(pred: fn(Self) -> bool) -> String {
                let items: Vec<String> = Self::ALL
                    .iter()
                    .filter(|v| pred(**v))
                    .map(|v| format!("'{}'", v.as_str()))
                    .collect();
                format!("({})", items.join(","))
            }

            /// The stored (database) string of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $s),+
                }
            }

            /// Parses the stored string (surrounding spaces and letter case are ignored).
            pub fn parse(s: &str) -> Result<Self, $crate::error::DomainError> {
                let wanted = s.trim().to_ascii_lowercase();
                match wanted.as_str() {
                    $($s => Ok(Self::$variant),)+
                    _ => Err($crate::error::DomainError::invalid(
                        $field,
                        format!(
                            "'{}' is not a valid {}; expected one of: {}",
                            s.trim(),
                            $label,
                            [$($s),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// Adds `transition` to a status enum that has `can_transition_to`.
macro_rules! impl_transition {
    ($name:ident, $entity:literal) => {
        impl $name {
            /// Moves to `to` if the workflow allows it; otherwise [`DomainError::IllegalTransition`].
            /// Staying in the same state is refused.
            pub fn transition(self, to: Self) -> Result<Self, $crate::error::DomainError> {
                if self.can_transition_to(to) {
                    Ok(to)
                } else {
                    Err($crate::error::DomainError::IllegalTransition {
                        entity: $entity,
                        from: self.as_str(),
                        to: to.as_str(),
                    })
                }
            }
        }
    };
}
