//! `percore config` output: the effective configuration as TOML with secrets masked, so it can
//! be pasted into a ticket.

use super::Config;

const MASK: &str = "********";

pub fn masked_toml(config: &Config) -> String {
    let mut value = match toml::Value::try_from(config) {
        Ok(v) => v,
        Err(e) => return format!("# could not render the configuration: {e}\n"),
    };
    mask(&mut value, "");
    toml::to_string_pretty(&value).unwrap_or_default()
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "password", "token", "api_key", "private_key"]
        .iter()
        .any(|s| key.contains(s))
}

fn mask(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::Table(t) => t.iter_mut().for_each(|(k, v)| mask(v, k)),
        toml::Value::Array(a) => a.iter_mut().for_each(|v| mask(v, key)),
        toml::Value::String(s) if is_secret_key(key) && !s.is_empty() => *s = MASK.into(),
        toml::Value::String(s) => *s = mask_url_password(s),
        _ => {}
    }
}

/// `postgres://user:pw@host/db` -> `postgres://user:********@host/db`.
pub(crate) fn mask_url_password(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return s.to_string();
    };
    let rest = &s[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return s.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{}://{user}:{MASK}{}", &s[..scheme_end], &rest[at..]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_passwords() {
        assert_eq!(
            mask_url_password("postgres://u:pw@h/db"),
            "postgres://u:********@h/db"
        );
        assert_eq!(mask_url_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url_password("./data"), "./data");
    }

    #[test]
    fn renders_defaults() {
        let text = masked_toml(&Config::default());
        assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
        assert!(text.contains("[http]"));
    }
}
