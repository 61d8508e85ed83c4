//! Transport-independent request and reply.

use crate::error::ArmError;
use serde_json::Value;

/// A received request.
#[derive(Clone, Debug)]
pub struct Req {
    /// Uppercase method.
    pub method: String,
    /// Path as sent.
    pub path: String,
    /// Decoded, non-empty path segments.
    pub segments: Vec<String>,
    /// Raw query string.
    pub raw_query: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Req {
    /// Builds a request from its parts.
    pub fn new(
        method: &str,
        path: &str,
        raw_query: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Self {
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let query = form_urlencoded::parse(raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Req {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            segments,
            raw_query: raw_query.to_string(),
            query,
            headers,
            body,
        }
    }

    /// A query parameter by case-insensitive name.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A header by (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; an empty body is `null`.
    pub fn json(&self) -> Result<Value, ArmError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ArmError::new(
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: '{e}'."),
            )
        })
    }

    /// The body as a JSON object (required).
    pub fn json_object(&self) -> Result<serde_json::Map<String, Value>, ArmError> {
        match self.json()? {
            Value::Object(o) => Ok(o),
            Value::Null => Err(ArmError::new(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the request body is missing.",
            )),
            _ => Err(ArmError::new(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the request body must be a JSON object.",
            )),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A reply body.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// JSON.
    Json(Value),
    /// Text with a content type.
    Text(String, &'static str),
}

/// A reply.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
}

impl Reply {
    /// JSON reply.
    pub fn json(status: u16, v: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(v),
        }
    }

    /// Empty reply.
    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// ARM error reply.
    pub fn error(status: u16, e: ArmError) -> Self {
        Reply::json(status, e.body())
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// A header already set.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_queries_decode() {
        let r = Req::new(
            "get",
            "/subscriptions/s/resourceGroups/my%20rg/",
            "api-version=2021-04-01&%24expand=instanceView",
            vec![],
            vec![],
        );
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.segments,
            ["subscriptions", "s", "resourceGroups", "my rg"]
        );
        assert_eq!(r.query("API-VERSION"), Some("2021-04-01"));
        assert_eq!(r.query("$expand"), Some("instanceView"));
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
