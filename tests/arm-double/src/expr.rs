//! ARM template expressions: `"[concat(parameters('a'), '-x')]"`.
//!
//! A parser for the expression grammar (function calls, string and integer literals, property
//! access and indexing) and an evaluator for the pure functions a template renderer uses.
//! Functions that need deployment-time state (`reference`, `list*`) are answered by a
//! [`Runtime`] when one is available and are *opaque* otherwise: the caller keeps the original
//! string, as the ARM engine does when it cannot evaluate something before deployment.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::collections::HashMap;

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// Needs deployment-time state (`reference()`, `listKeys()`, ...): keep the text as is.
    Opaque(String),
    /// The expression is wrong (the ARM `InvalidTemplate` class of error).
    Invalid(String),
}

impl EvalError {
    fn invalid(msg: impl Into<String>) -> Self {
        EvalError::Invalid(msg.into())
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Opaque(func) => write!(
                f,
                "the template function '{func}' is not expected at this location"
            ),
            EvalError::Invalid(m) => f.write_str(m),
        }
    }
}

/// Deployment-time lookups for `reference()` and `list*()`.
pub trait Runtime {
    /// The resource id a `reference()` argument names (an id, or a resource name in the template).
    fn resolve(&self, name_or_id: &str) -> Option<String>;
    /// `reference(id, apiVersion, 'Full')`: the resource body (full) or its properties.
    fn reference(&self, id: &str, full: bool) -> Option<Value>;
    /// `listKeys(id, apiVersion)` and friends.
    fn list(&self, function: &str, id: &str) -> Option<Value>;
}

/// The context an expression is evaluated in.
pub struct Scope<'a> {
    /// Evaluated parameter values by name.
    pub params: &'a Map<String, Value>,
    /// The template's `variables` section, unevaluated.
    pub variables: &'a Map<String, Value>,
    /// `resourceGroup()`.
    pub resource_group: Value,
    /// `subscription()`.
    pub subscription: Value,
    /// `deployment()`.
    pub deployment: Value,
    /// `environment()`.
    pub environment: Value,
    /// State lookups; `None` makes `reference()`/`list*()` opaque.
    pub runtime: Option<&'a dyn Runtime>,
    /// Whether `utcNow()`/`newGuid()` are allowed (parameter default values only).
    pub in_parameter_default: bool,
    var_cache: RefCell<HashMap<String, Value>>,
    var_stack: RefCell<Vec<String>>,
}

impl<'a> Scope<'a> {
    /// A scope over the given parameters and variables.
    pub fn new(params: &'a Map<String, Value>, variables: &'a Map<String, Value>) -> Self {
        Scope {
            params,
            variables,
            resource_group: Value::Null,
            subscription: Value::Null,
            deployment: Value::Null,
            environment: Value::Null,
            runtime: None,
            in_parameter_default: false,
            var_cache: RefCell::new(HashMap::new()),
            var_stack: RefCell::new(Vec::new()),
        }
    }

    fn subscription_id(&self) -> String {
        self.subscription["subscriptionId"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn resource_group_name(&self) -> String {
        self.resource_group["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Call(String, Vec<Expr>),
    Prop(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

/// Whether a JSON string is a template expression (`[...]`, but not the `[[` escape).
pub fn is_expression(s: &str) -> bool {
    s.starts_with('[') && s.ends_with(']') && !s.starts_with("[[")
}

/// The literal value of a non-expression string (`[[x]` means the literal `[x]`).
pub fn literal(s: &str) -> String {
    if s.starts_with("[[") {
        s[1..].to_string()
    } else {
        s.to_string()
    }
}

struct Parser<'s> {
    src: &'s str,
    chars: Vec<char>,
    pos: usize,
}

impl<'s> Parser<'s> {
    fn err(&self, what: &str) -> EvalError {
        EvalError::invalid(format!(
            "The language expression '{}' is not valid: {} at position {}.",
            self.src, what, self.pos
        ))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), EvalError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{c}'")))
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.chars.len()
            && (self.chars[self.pos].is_ascii_alphanumeric() || self.chars[self.pos] == '_')
        {
            self.pos += 1;
        }
        if self.pos > start && !self.chars[start].is_ascii_digit() {
            Some(self.chars[start..self.pos].iter().collect())
        } else {
            self.pos = start;
            None
        }
    }

    fn primary(&mut self) -> Result<Expr, EvalError> {
        match self.peek() {
            Some('\'') => {
                self.pos += 1;
                let mut s = String::new();
                loop {
                    match self.chars.get(self.pos) {
                        None => return Err(self.err("unterminated string literal")),
                        Some('\'') => {
                            if self.chars.get(self.pos + 1) == Some(&'\'') {
                                s.push('\'');
                                self.pos += 2;
                            } else {
                                self.pos += 1;
                                break;
                            }
                        }
                        Some(c) => {
                            s.push(*c);
                            self.pos += 1;
                        }
                    }
                }
                Ok(Expr::Str(s))
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.chars.len() && self.chars[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                text.parse::<i64>()
                    .map(Expr::Int)
                    .map_err(|_| self.err("invalid integer literal"))
            }
            Some(_) => {
                let name = self
                    .ident()
                    .ok_or_else(|| self.err("expected a function call"))?;
                if self.peek() == Some('(') {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() == Some(')') {
                        self.pos += 1;
                    } else {
                        loop {
                            args.push(self.expr()?);
                            match self.peek() {
                                Some(',') => self.pos += 1,
                                Some(')') => {
                                    self.pos += 1;
                                    break;
                                }
                                _ => return Err(self.err("expected ',' or ')'")),
                            }
                        }
                    }
                    Ok(Expr::Call(name, args))
                } else {
                    match name.to_ascii_lowercase().as_str() {
                        "true" => Ok(Expr::Bool(true)),
                        "false" => Ok(Expr::Bool(false)),
                        "null" => Ok(Expr::Null),
                        _ => Err(self.err(&format!("'{name}' is not a function call"))),
                    }
                }
            }
            None => Err(self.err("unexpected end of expression")),
        }
    }

    fn expr(&mut self) -> Result<Expr, EvalError> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    self.skip_ws();
                    let start = self.pos;
                    while self.pos < self.chars.len()
                        && (self.chars[self.pos].is_alphanumeric()
                            || self.chars[self.pos] == '_'
                            || self.chars[self.pos] == '$'
                            || self.chars[self.pos] == '-')
                    {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        return Err(self.err("expected a property name after '.'"));
                    }
                    let prop: String = self.chars[start..self.pos].iter().collect();
                    e = Expr::Prop(Box::new(e), prop);
                }
                Some('[') => {
                    self.pos += 1;
                    let idx = self.expr()?;
                    self.expect(']')?;
                    e = Expr::Index(Box::new(e), Box::new(idx));
                }
                _ => return Ok(e),
            }
        }
    }
}

fn parse(src: &str) -> Result<Expr, EvalError> {
    let inner = &src[1..src.len() - 1];
    let mut p = Parser {
        src,
        chars: inner.chars().collect(),
        pos: 0,
    };
    let e = p.expr()?;
    if p.peek().is_some() {
        return Err(p.err("unexpected text after the expression"));
    }
    Ok(e)
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Evaluates a JSON string: an expression is evaluated, anything else is a literal.
pub fn eval_str(s: &str, scope: &Scope<'_>) -> Result<Value, EvalError> {
    if is_expression(s) {
        let e = parse(s)?;
        eval(&e, scope)
    } else {
        Ok(Value::String(literal(s)))
    }
}

/// Evaluates every expression in a JSON tree. Opaque expressions fail the whole evaluation.
pub fn eval_value(v: &Value, scope: &Scope<'_>) -> Result<Value, EvalError> {
    walk(v, scope, false)
}

/// Evaluates every expression in a JSON tree, keeping opaque ones (`reference()` before
/// deployment) as their original text.
pub fn eval_value_lenient(v: &Value, scope: &Scope<'_>) -> Result<Value, EvalError> {
    walk(v, scope, true)
}

fn walk(v: &Value, scope: &Scope<'_>, lenient: bool) -> Result<Value, EvalError> {
    match v {
        Value::String(s) => match eval_str(s, scope) {
            Err(EvalError::Opaque(_)) if lenient => Ok(Value::String(s.clone())),
            other => other,
        },
        Value::Array(a) => a
            .iter()
            .map(|x| walk(x, scope, lenient))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                let key = if is_expression(k) {
                    match eval_str(k, scope)? {
                        Value::String(s) => s,
                        other => to_text(&other),
                    }
                } else {
                    literal(k)
                };
                out.insert(key, walk(x, scope, lenient)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// ARM's string conversion (`string()`, `concat()`, `format()`).
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "String",
        Value::Number(_) => "Integer",
        Value::Bool(_) => "Boolean",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
        Value::Null => "Null",
    }
}

fn get_prop<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let o = v.as_object()?;
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn eval(e: &Expr, scope: &Scope<'_>) -> Result<Value, EvalError> {
    match e {
        Expr::Str(s) => Ok(Value::String(s.clone())),
        Expr::Int(i) => Ok(json!(i)),
        Expr::Bool(b) => Ok(Value::Bool(*b)),
        Expr::Null => Ok(Value::Null),
        Expr::Prop(base, prop) => {
            let b = eval(base, scope)?;
            match get_prop(&b, prop) {
                Some(v) => Ok(v.clone()),
                None => Err(EvalError::invalid(format!(
                    "The language expression property '{prop}' doesn't exist, available properties are '{}'.",
                    b.as_object()
                        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                ))),
            }
        }
        Expr::Index(base, idx) => {
            let b = eval(base, scope)?;
            let i = eval(idx, scope)?;
            match (&b, &i) {
                (Value::Array(a), Value::Number(n)) => {
                    let n = n.as_i64().unwrap_or(-1);
                    if n < 0 || n as usize >= a.len() {
                        Err(EvalError::invalid(format!(
                            "The language expression array index '{n}' is out of bounds."
                        )))
                    } else {
                        Ok(a[n as usize].clone())
                    }
                }
                (Value::Object(_), Value::String(k)) => get_prop(&b, k).cloned().ok_or_else(|| {
                    EvalError::invalid(format!(
                        "The language expression property '{k}' doesn't exist."
                    ))
                }),
                _ => Err(EvalError::invalid(format!(
                    "The language expression cannot index a value of type '{}' with a value of type '{}'.",
                    type_name(&b),
                    type_name(&i)
                ))),
            }
        }
        Expr::Call(name, args) => call(name, args, scope),
    }
}

/// Pure ARM functions this evaluator does not implement, and deployment-time functions:
/// opaque (kept as text) in resource properties.
const OPAQUE_FUNCTIONS: &[&str] = &[
    "reference",
    "pickzones",
    "providers",
    "managementgroup",
    "managementgroupresourceid",
    "datetimeadd",
    "datetimefromepoch",
    "datetimetoepoch",
    "uri",
    "uricomponent",
    "uricomponenttostring",
    "datauri",
    "datauritostring",
    "filter",
    "map",
    "reduce",
    "sort",
    "lambda",
    "lambdavariables",
    "toobject",
    "tryget",
    "objectkeys",
    "shallowmerge",
    "indexfromend",
    "tryindexfromend",
    "mapvalues",
    "groupby",
    "parsecidr",
    "cidrsubnet",
    "cidrhost",
    "externalinput",
    "copyindex",
];

fn arg_str(func: &str, v: &Value) -> Result<String, EvalError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(EvalError::invalid(format!(
            "The template language function '{func}' expects its parameter to be of type 'String'. The provided value is of type '{}'.",
            type_name(other)
        ))),
    }
}

fn arg_int(func: &str, v: &Value) -> Result<i64, EvalError> {
    v.as_i64().ok_or_else(|| {
        EvalError::invalid(format!(
            "The template language function '{func}' expects its parameter to be an integer. The provided value is of type '{}'.",
            type_name(v)
        ))
    })
}

fn arity(func: &str, args: &[Value], min: usize, max: usize) -> Result<(), EvalError> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(EvalError::invalid(format!(
            "Unable to evaluate template language function '{func}': it expects {expected} parameter(s), {} were provided.",
            args.len()
        )));
    }
    Ok(())
}

/// A deterministic 64-bit hash (FNV-1a), the basis of `uniqueString()` and `guid()`.
pub fn hash64(data: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in data.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // final avalanche (splitmix64)
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// `uniqueString()`: 13 characters of base32 (`a-z2-7`), deterministic in its arguments.
pub fn unique_string(parts: &[String]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let joined = parts.join("-");
    let h = hash64(&joined, 0);
    let extra = hash64(&joined, 1);
    let mut out = String::with_capacity(13);
    for i in 0..12 {
        out.push(ALPHABET[((h >> (i * 5)) & 31) as usize] as char);
    }
    out.push(ALPHABET[(extra & 31) as usize] as char);
    out
}

/// `guid()`: a UUID-formatted deterministic hash of its arguments.
pub fn deterministic_guid(parts: &[String]) -> String {
    let joined = parts.join("-");
    let a = hash64(&joined, 2);
    let b = hash64(&joined, 3);
    let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
    let mut bytes: [u8; 16] = bytes.try_into().unwrap_or([0; 16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// `resourceId()`-style id from a type (`Ns/t1/t2`) and names.
pub fn build_resource_id(
    prefix: &str,
    rtype: &str,
    names: &[String],
    func: &str,
) -> Result<String, EvalError> {
    let type_segments: Vec<&str> = rtype.split('/').filter(|s| !s.is_empty()).collect();
    let name_segments: Vec<&str> = names
        .iter()
        .flat_map(|n| n.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    if type_segments.len() < 2 || name_segments.len() != type_segments.len() - 1 {
        return Err(EvalError::invalid(format!(
            "Unable to evaluate template language function '{func}': the type '{rtype}' requires {} resource name segment(s), {} were given.",
            type_segments.len().saturating_sub(1),
            name_segments.len()
        )));
    }
    let mut id = format!("{prefix}/providers/{}", type_segments[0]);
    for (t, n) in type_segments[1..].iter().zip(name_segments) {
        id.push('/');
        id.push_str(t);
        id.push('/');
        id.push_str(n);
    }
    Ok(id)
}

fn compare(func: &str, a: &Value, b: &Value) -> Result<std::cmp::Ordering, EvalError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(EvalError::invalid(format!(
            "The template language function '{func}' expects two integers or two strings."
        ))),
    }
}

fn call(name: &str, arg_exprs: &[Expr], scope: &Scope<'_>) -> Result<Value, EvalError> {
    let lname = name.to_ascii_lowercase();
    // lazily evaluated
    if lname == "if" {
        if arg_exprs.len() != 3 {
            return Err(EvalError::invalid(
                "Unable to evaluate template language function 'if': it expects 3 parameters.",
            ));
        }
        let cond = eval(&arg_exprs[0], scope)?;
        let cond = match cond {
            Value::Bool(b) => b,
            other => {
                return Err(EvalError::invalid(format!(
                    "The template language function 'if' expects its first parameter to be of type 'Boolean'. The provided value is of type '{}'.",
                    type_name(&other)
                )));
            }
        };
        return eval(&arg_exprs[if cond { 1 } else { 2 }], scope);
    }
    let args = arg_exprs
        .iter()
        .map(|a| eval(a, scope))
        .collect::<Result<Vec<_>, _>>()?;
    let f = name;
    match lname.as_str() {
        "parameters" => {
            arity(f, &args, 1, 1)?;
            let p = arg_str(f, &args[0])?;
            scope
                .params
                .get(&p)
                .or_else(|| {
                    scope
                        .params
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&p))
                        .map(|(_, v)| v)
                })
                .cloned()
                .ok_or_else(|| {
                    EvalError::invalid(format!(
                        "The template parameter '{p}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details."
                    ))
                })
        }
        "variables" => {
            arity(f, &args, 1, 1)?;
            let v = arg_str(f, &args[0])?;
            let key = scope
                .variables
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&v))
                .cloned()
                .ok_or_else(|| {
                    EvalError::invalid(format!(
                        "The template variable '{v}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details."
                    ))
                })?;
            if let Some(cached) = scope.var_cache.borrow().get(&key) {
                return Ok(cached.clone());
            }
            if scope.var_stack.borrow().contains(&key) {
                return Err(EvalError::invalid(format!(
                    "The template variable '{key}' has a circular reference."
                )));
            }
            scope.var_stack.borrow_mut().push(key.clone());
            let result = walk(&scope.variables[&key], scope, false);
            scope.var_stack.borrow_mut().pop();
            let value = result?;
            scope.var_cache.borrow_mut().insert(key, value.clone());
            Ok(value)
        }
        "concat" => {
            if args.first().is_some_and(Value::is_array) {
                let mut out = Vec::new();
                for a in &args {
                    match a {
                        Value::Array(items) => out.extend(items.iter().cloned()),
                        other => {
                            return Err(EvalError::invalid(format!(
                                "The template language function 'concat' expects all its parameters to be arrays or all to be strings; got '{}'.",
                                type_name(other)
                            )));
                        }
                    }
                }
                Ok(Value::Array(out))
            } else {
                Ok(Value::String(args.iter().map(to_text).collect()))
            }
        }
        "format" => {
            arity(f, &args, 1, usize::MAX)?;
            let fmt = arg_str(f, &args[0])?;
            let mut out = String::new();
            let chars: Vec<char> = fmt.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                match chars[i] {
                    '{' if chars.get(i + 1) == Some(&'{') => {
                        out.push('{');
                        i += 2;
                    }
                    '}' if chars.get(i + 1) == Some(&'}') => {
                        out.push('}');
                        i += 2;
                    }
                    '{' => {
                        let end = chars[i..].iter().position(|c| *c == '}').map(|p| p + i);
                        let Some(end) = end else {
                            return Err(EvalError::invalid(format!(
                                "The format string '{fmt}' is not valid."
                            )));
                        };
                        let spec: String = chars[i + 1..end].iter().collect();
                        let index_text = spec.split([':', ',']).next().unwrap_or("");
                        let index: usize = index_text.trim().parse().map_err(|_| {
                            EvalError::invalid(format!("The format string '{fmt}' is not valid."))
                        })?;
                        let value = args.get(index + 1).ok_or_else(|| {
                            EvalError::invalid(format!(
                                "The format string '{fmt}' refers to argument {index}, which was not provided."
                            ))
                        })?;
                        out.push_str(&to_text(value));
                        i = end + 1;
                    }
                    c => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            Ok(Value::String(out))
        }
        "resourceid" => {
            arity(f, &args, 2, usize::MAX)?;
            let strs = args
                .iter()
                .map(|a| arg_str(f, a))
                .collect::<Result<Vec<_>, _>>()?;
            let type_index = strs.iter().position(|s| s.contains('/')).ok_or_else(|| {
                EvalError::invalid(
                    "Unable to evaluate template language function 'resourceId': function requires exactly one multi-segmented argument which must be resource type including resource provider namespace.",
                )
            })?;
            let (sub, rg) = match type_index {
                0 => (scope.subscription_id(), scope.resource_group_name()),
                1 => (scope.subscription_id(), strs[0].clone()),
                2 => (strs[0].clone(), strs[1].clone()),
                _ => {
                    return Err(EvalError::invalid(
                        "Unable to evaluate template language function 'resourceId': too many arguments before the resource type.",
                    ));
                }
            };
            build_resource_id(
                &format!("/subscriptions/{sub}/resourceGroups/{rg}"),
                &strs[type_index],
                &strs[type_index + 1..],
                "resourceId",
            )
            .map(Value::String)
        }
        "subscriptionresourceid" => {
            arity(f, &args, 2, usize::MAX)?;
            let strs = args
                .iter()
                .map(|a| arg_str(f, a))
                .collect::<Result<Vec<_>, _>>()?;
            let type_index = strs.iter().position(|s| s.contains('/')).unwrap_or(0);
            let sub = if type_index == 1 {
                strs[0].clone()
            } else {
                scope.subscription_id()
            };
            build_resource_id(
                &format!("/subscriptions/{sub}"),
                &strs[type_index],
                &strs[type_index + 1..],
                "subscriptionResourceId",
            )
            .map(Value::String)
        }
        "tenantresourceid" => {
            arity(f, &args, 2, usize::MAX)?;
            let strs = args
                .iter()
                .map(|a| arg_str(f, a))
                .collect::<Result<Vec<_>, _>>()?;
            build_resource_id("", &strs[0], &strs[1..], "tenantResourceId").map(Value::String)
        }
        "extensionresourceid" => {
            arity(f, &args, 3, usize::MAX)?;
            let strs = args
                .iter()
                .map(|a| arg_str(f, a))
                .collect::<Result<Vec<_>, _>>()?;
            build_resource_id(
                strs[0].trim_end_matches('/'),
                &strs[1],
                &strs[2..],
                "extensionResourceId",
            )
            .map(Value::String)
        }
        "resourcegroup" => {
            arity(f, &args, 0, 0)?;
            Ok(scope.resource_group.clone())
        }
        "subscription" => {
            arity(f, &args, 0, 0)?;
            Ok(scope.subscription.clone())
        }
        "deployment" => {
            arity(f, &args, 0, 0)?;
            Ok(scope.deployment.clone())
        }
        "environment" => {
            arity(f, &args, 0, 0)?;
            Ok(scope.environment.clone())
        }
        "tenant" => {
            arity(f, &args, 0, 0)?;
            Ok(json!({
                "tenantId": scope.subscription["tenantId"],
                "countryCode": "US",
                "displayName": "Test tenant"
            }))
        }
        "tolower" => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(arg_str(f, &args[0])?.to_lowercase()))
        }
        "toupper" => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(arg_str(f, &args[0])?.to_uppercase()))
        }
        "trim" => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(arg_str(f, &args[0])?.trim().to_string()))
        }
        "uniquestring" => {
            arity(f, &args, 1, usize::MAX)?;
            let strs = args
                .iter()
                .map(|a| arg_str(f, a))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::String(unique_string(&strs)))
        }
        "guid" => {
            arity(f, &args, 1, usize::MAX)?;
            let strs = args
                .iter()
                .map(|a| arg_str(f, a))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::String(deterministic_guid(&strs)))
        }
        "substring" => {
            arity(f, &args, 2, 3)?;
            let s: Vec<char> = arg_str(f, &args[0])?.chars().collect();
            let start = arg_int(f, &args[1])?;
            let len = match args.get(2) {
                Some(v) => arg_int(f, v)?,
                None => s.len() as i64 - start,
            };
            if start < 0 || len < 0 || (start + len) as usize > s.len() {
                return Err(EvalError::invalid(format!(
                    "The index and length parameters must refer to a location within the string. The index parameter: '{start}', the length parameter: '{len}', the length of the string parameter: '{}'.",
                    s.len()
                )));
            }
            Ok(Value::String(
                s[start as usize..(start + len) as usize].iter().collect(),
            ))
        }
        "replace" => {
            arity(f, &args, 3, 3)?;
            Ok(Value::String(
                arg_str(f, &args[0])?.replace(&arg_str(f, &args[1])?, &arg_str(f, &args[2])?),
            ))
        }
        "split" => {
            arity(f, &args, 2, 2)?;
            let s = arg_str(f, &args[0])?;
            let delims: Vec<String> = match &args[1] {
                Value::Array(a) => a.iter().map(to_text).collect(),
                other => vec![arg_str(f, other)?],
            };
            let mut parts = vec![s];
            for d in delims.iter().filter(|d| !d.is_empty()) {
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(d.as_str()).map(str::to_string).collect::<Vec<_>>())
                    .collect();
            }
            Ok(Value::Array(parts.into_iter().map(Value::String).collect()))
        }
        "join" => {
            arity(f, &args, 2, 2)?;
            let items = args[0].as_array().ok_or_else(|| {
                EvalError::invalid("The template language function 'join' expects an array.")
            })?;
            let sep = arg_str(f, &args[1])?;
            Ok(Value::String(
                items.iter().map(to_text).collect::<Vec<_>>().join(&sep),
            ))
        }
        "startswith" | "endswith" | "indexof" | "lastindexof" => {
            arity(f, &args, 2, 2)?;
            let s = arg_str(f, &args[0])?.to_lowercase();
            let t = arg_str(f, &args[1])?.to_lowercase();
            Ok(match lname.as_str() {
                "startswith" => Value::Bool(s.starts_with(&t)),
                "endswith" => Value::Bool(s.ends_with(&t)),
                "indexof" => json!(
                    s.find(&t)
                        .map(|i| s[..i].chars().count() as i64)
                        .unwrap_or(-1)
                ),
                _ => json!(
                    s.rfind(&t)
                        .map(|i| s[..i].chars().count() as i64)
                        .unwrap_or(-1)
                ),
            })
        }
        "contains" => {
            arity(f, &args, 2, 2)?;
            Ok(Value::Bool(match (&args[0], &args[1]) {
                (Value::String(s), v) => s.contains(&to_text(v)),
                (Value::Array(a), v) => a.contains(v),
                (Value::Object(o), v) => {
                    let k = to_text(v);
                    o.keys().any(|x| x.eq_ignore_ascii_case(&k))
                }
                _ => false,
            }))
        }
        "length" => {
            arity(f, &args, 1, 1)?;
            Ok(json!(match &args[0] {
                Value::String(s) => s.chars().count(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                other => {
                    return Err(EvalError::invalid(format!(
                        "The template language function 'length' cannot take a value of type '{}'.",
                        type_name(other)
                    )));
                }
            }))
        }
        "empty" => {
            arity(f, &args, 1, 1)?;
            Ok(Value::Bool(match &args[0] {
                Value::String(s) => s.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                Value::Null => true,
                _ => false,
            }))
        }
        "first" | "last" => {
            arity(f, &args, 1, 1)?;
            Ok(match &args[0] {
                Value::String(s) => {
                    let c = if lname == "first" {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    };
                    Value::String(c.map(String::from).unwrap_or_default())
                }
                Value::Array(a) => if lname == "first" {
                    a.first()
                } else {
                    a.last()
                }
                .cloned()
                .unwrap_or(Value::Null),
                other => {
                    return Err(EvalError::invalid(format!(
                        "The template language function '{f}' cannot take a value of type '{}'.",
                        type_name(other)
                    )));
                }
            })
        }
        "take" | "skip" => {
            arity(f, &args, 2, 2)?;
            let n = arg_int(f, &args[1])?.max(0) as usize;
            Ok(match &args[0] {
                Value::String(s) => Value::String(if lname == "take" {
                    s.chars().take(n).collect()
                } else {
                    s.chars().skip(n).collect()
                }),
                Value::Array(a) => Value::Array(if lname == "take" {
                    a.iter().take(n).cloned().collect()
                } else {
                    a.iter().skip(n).cloned().collect()
                }),
                other => {
                    return Err(EvalError::invalid(format!(
                        "The template language function '{f}' cannot take a value of type '{}'.",
                        type_name(other)
                    )));
                }
            })
        }
        "union" => {
            arity(f, &args, 1, usize::MAX)?;
            if args.iter().all(Value::is_object) {
                let mut out = Map::new();
                for a in &args {
                    for (k, v) in a.as_object().into_iter().flatten() {
                        out.insert(k.clone(), v.clone());
                    }
                }
                Ok(Value::Object(out))
            } else if args.iter().all(Value::is_array) {
                let mut out: Vec<Value> = Vec::new();
                for a in &args {
                    for v in a.as_array().into_iter().flatten() {
                        if !out.contains(v) {
                            out.push(v.clone());
                        }
                    }
                }
                Ok(Value::Array(out))
            } else {
                Err(EvalError::invalid(
                    "The template language function 'union' expects all parameters to be objects or all to be arrays.",
                ))
            }
        }
        "intersection" => {
            arity(f, &args, 2, usize::MAX)?;
            if args.iter().all(Value::is_array) {
                let first = args[0].as_array().cloned().unwrap_or_default();
                Ok(Value::Array(
                    first
                        .into_iter()
                        .filter(|v| {
                            args[1..]
                                .iter()
                                .all(|a| a.as_array().is_some_and(|a| a.contains(v)))
                        })
                        .collect(),
                ))
            } else if args.iter().all(Value::is_object) {
                let first = args[0].as_object().cloned().unwrap_or_default();
                Ok(Value::Object(
                    first
                        .into_iter()
                        .filter(|(k, v)| args[1..].iter().all(|a| a.get(k) == Some(v)))
                        .collect(),
                ))
            } else {
                Err(EvalError::invalid(
                    "The template language function 'intersection' expects all parameters to be objects or all to be arrays.",
                ))
            }
        }
        "createarray" => Ok(Value::Array(args)),
        "array" => {
            arity(f, &args, 1, 1)?;
            Ok(match &args[0] {
                Value::Array(_) => args[0].clone(),
                other => Value::Array(vec![other.clone()]),
            })
        }
        "createobject" => {
            if args.len() % 2 != 0 {
                return Err(EvalError::invalid(
                    "The template language function 'createObject' expects an even number of parameters.",
                ));
            }
            let mut out = Map::new();
            for pair in args.chunks(2) {
                out.insert(arg_str(f, &pair[0])?, pair[1].clone());
            }
            Ok(Value::Object(out))
        }
        "items" => {
            arity(f, &args, 1, 1)?;
            let o = args[0].as_object().ok_or_else(|| {
                EvalError::invalid("The template language function 'items' expects an object.")
            })?;
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by_key(|k| k.to_lowercase());
            Ok(Value::Array(
                keys.into_iter()
                    .map(|k| json!({"key": k, "value": o[k]}))
                    .collect(),
            ))
        }
        "coalesce" => Ok(args
            .into_iter()
            .find(|v| !v.is_null())
            .unwrap_or(Value::Null)),
        "equals" => {
            arity(f, &args, 2, 2)?;
            Ok(Value::Bool(args[0] == args[1]))
        }
        "not" => {
            arity(f, &args, 1, 1)?;
            match args[0] {
                Value::Bool(b) => Ok(Value::Bool(!b)),
                _ => Err(EvalError::invalid(
                    "The template language function 'not' expects a boolean.",
                )),
            }
        }
        "and" | "or" => {
            arity(f, &args, 2, usize::MAX)?;
            let bools = args
                .iter()
                .map(|a| {
                    a.as_bool().ok_or_else(|| {
                        EvalError::invalid(format!(
                            "The template language function '{f}' expects boolean parameters."
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Bool(if lname == "and" {
                bools.iter().all(|b| *b)
            } else {
                bools.iter().any(|b| *b)
            }))
        }
        "less" | "lessorequals" | "greater" | "greaterorequals" => {
            arity(f, &args, 2, 2)?;
            let o = compare(f, &args[0], &args[1])?;
            use std::cmp::Ordering::*;
            Ok(Value::Bool(match lname.as_str() {
                "less" => o == Less,
                "lessorequals" => o != Greater,
                "greater" => o == Greater,
                _ => o != Less,
            }))
        }
        "json" => {
            arity(f, &args, 1, 1)?;
            let s = arg_str(f, &args[0])?;
            serde_json::from_str(&s).map_err(|e| {
                EvalError::invalid(format!(
                    "The template language function 'json' has an invalid parameter: {e}."
                ))
            })
        }
        "string" => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(to_text(&args[0])))
        }
        "int" => {
            arity(f, &args, 1, 1)?;
            match &args[0] {
                Value::Number(n) => Ok(json!(
                    n.as_i64().unwrap_or(n.as_f64().unwrap_or(0.0) as i64)
                )),
                Value::String(s) => s.trim().parse::<i64>().map(|i| json!(i)).map_err(|_| {
                    EvalError::invalid(format!(
                        "The template language function 'int' cannot convert '{s}' to an integer."
                    ))
                }),
                other => Err(EvalError::invalid(format!(
                    "The template language function 'int' cannot convert a value of type '{}'.",
                    type_name(other)
                ))),
            }
        }
        "bool" => {
            arity(f, &args, 1, 1)?;
            match &args[0] {
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::Number(n) => Ok(Value::Bool(n.as_i64() != Some(0))),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
                other => Err(EvalError::invalid(format!(
                    "The template language function 'bool' cannot convert '{}' to a boolean.",
                    to_text(other)
                ))),
            }
        }
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        "add" | "sub" | "mul" | "div" | "mod" => {
            arity(f, &args, 2, 2)?;
            let a = arg_int(f, &args[0])?;
            let b = arg_int(f, &args[1])?;
            if (lname == "div" || lname == "mod") && b == 0 {
                return Err(EvalError::invalid(format!(
                    "The template language function '{f}' cannot divide by zero."
                )));
            }
            Ok(json!(match lname.as_str() {
                "add" => a.wrapping_add(b),
                "sub" => a.wrapping_sub(b),
                "mul" => a.wrapping_mul(b),
                "div" => a / b,
                _ => a % b,
            }))
        }
        "min" | "max" => {
            let ints: Vec<i64> = if args.len() == 1 && args[0].is_array() {
                args[0]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| arg_int(f, v))
                    .collect::<Result<_, _>>()?
            } else {
                args.iter()
                    .map(|v| arg_int(f, v))
                    .collect::<Result<_, _>>()?
            };
            let r = if lname == "min" {
                ints.iter().min()
            } else {
                ints.iter().max()
            };
            r.map(|v| json!(v)).ok_or_else(|| {
                EvalError::invalid(format!(
                    "The template language function '{f}' needs a value."
                ))
            })
        }
        "range" => {
            arity(f, &args, 2, 2)?;
            let start = arg_int(f, &args[0])?;
            let count = arg_int(f, &args[1])?;
            if !(0..=10_000).contains(&count) {
                return Err(EvalError::invalid(
                    "The template language function 'range' expects a count between 0 and 10000.",
                ));
            }
            Ok(Value::Array(
                (start..start + count).map(|i| json!(i)).collect(),
            ))
        }
        "padleft" => {
            arity(f, &args, 2, 3)?;
            let s = to_text(&args[0]);
            let total = arg_int(f, &args[1])?.max(0) as usize;
            let pad = match args.get(2) {
                Some(v) => arg_str(f, v)?.chars().next().unwrap_or(' '),
                None => ' ',
            };
            let n = s.chars().count();
            let mut out: String = std::iter::repeat_n(pad, total.saturating_sub(n)).collect();
            out.push_str(&s);
            Ok(Value::String(out))
        }
        "base64" => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(arg_str(f, &args[0])?),
            ))
        }
        "base64tostring" | "base64tojson" => {
            arity(f, &args, 1, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(arg_str(f, &args[0])?)
                .map_err(|e| {
                    EvalError::invalid(format!("The template language function '{f}': {e}."))
                })?;
            let s = String::from_utf8_lossy(&bytes).to_string();
            if lname == "base64tojson" {
                serde_json::from_str(&s).map_err(|e| {
                    EvalError::invalid(format!("The template language function '{f}': {e}."))
                })
            } else {
                Ok(Value::String(s))
            }
        }
        "utcnow" | "newguid" => {
            if !scope.in_parameter_default {
                return Err(EvalError::invalid(format!(
                    "The template function '{f}' is not expected at this location. It can only be used with parameter default values."
                )));
            }
            if lname == "newguid" {
                Ok(Value::String(uuid::Uuid::new_v4().to_string()))
            } else {
                Ok(Value::String(crate::clock::stamp(
                    time::OffsetDateTime::now_utc(),
                )))
            }
        }
        "reference" => {
            arity(f, &args, 1, 3)?;
            let Some(rt) = scope.runtime else {
                return Err(EvalError::Opaque(f.to_string()));
            };
            let target = arg_str(f, &args[0])?;
            let full = args
                .get(2)
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("full"));
            let id = rt.resolve(&target).ok_or_else(|| {
                EvalError::invalid(format!(
                    "The template reference '{target}' is not valid: could not find template resource or resource copy with this name."
                ))
            })?;
            rt.reference(&id, full)
                .ok_or_else(|| EvalError::invalid(format!("The Resource '{id}' was not found.")))
        }
        _ if lname.starts_with("list") => {
            arity(f, &args, 1, 3)?;
            let Some(rt) = scope.runtime else {
                return Err(EvalError::Opaque(f.to_string()));
            };
            let target = arg_str(f, &args[0])?;
            let id = rt.resolve(&target).unwrap_or(target);
            rt.list(&lname, &id)
                .ok_or_else(|| EvalError::Opaque(f.to_string()))
        }
        _ if OPAQUE_FUNCTIONS.contains(&lname.as_str()) => Err(EvalError::Opaque(f.to_string())),
        _ => Err(EvalError::invalid(format!(
            "The template function '{f}' is not valid. Please see https://aka.ms/arm-functions for usage details."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_fixture<'a>(
        params: &'a Map<String, Value>,
        vars: &'a Map<String, Value>,
    ) -> Scope<'a> {
        let mut s = Scope::new(params, vars);
        s.resource_group = json!({
            "id": "/subscriptions/sub1/resourceGroups/rg1",
            "name": "rg1",
            "location": "westeurope"
        });
        s.subscription =
            json!({"id": "/subscriptions/sub1", "subscriptionId": "sub1", "tenantId": "t1"});
        s
    }

    fn ev(expr: &str) -> Result<Value, EvalError> {
        let params = json!({"name": "Pool", "count": 3, "flag": true});
        let vars = json!({
            "prefix": "[toLower(parameters('name'))]",
            "vnet": "[concat(variables('prefix'), '-vnet')]",
            "loop": "[variables('loop')]"
        });
        let p = params.as_object().unwrap();
        let v = vars.as_object().unwrap();
        let s = scope_fixture(p, v);
        eval_str(expr, &s)
    }

    #[test]
    fn evaluates_common_functions() {
        assert_eq!(ev("[variables('vnet')]").unwrap(), json!("pool-vnet"));
        assert_eq!(ev("[format('{0}-{1}', 'a', 7)]").unwrap(), json!("a-7"));
        assert_eq!(
            ev("[resourceGroup().location]").unwrap(),
            json!("westeurope")
        );
        assert_eq!(
            ev("[subscription().subscriptionId]").unwrap(),
            json!("sub1")
        );
        assert_eq!(
            ev("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]").unwrap(),
            json!(
                "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
            )
        );
        assert_eq!(
            ev("[resourceId('Microsoft.Network/loadBalancers/', 'lb')]").unwrap(),
            json!(
                "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb"
            )
        );
        assert_eq!(ev("[substring('abcdef', 1, 3)]").unwrap(), json!("bcd"));
        assert_eq!(
            ev("[if(equals(parameters('count'), 3), 'yes', json('null'))]").unwrap(),
            json!("yes")
        );
        assert_eq!(
            ev("[if(parameters('flag'), json('null'), 'x')]").unwrap(),
            Value::Null
        );
        assert_eq!(ev("[createObject('a', 1).a]").unwrap(), json!(1));
        assert_eq!(ev("[createArray(1, 2, 3)[1]]").unwrap(), json!(2));
        assert_eq!(
            ev("[concat('it''s ', string(true))]").unwrap(),
            json!("it's True")
        );
        assert_eq!(ev("[add(parameters('count'), 2)]").unwrap(), json!(5));
        assert_eq!(
            ev("[[not an expression]").unwrap(),
            json!("[not an expression]")
        );
        assert_eq!(ev("plain").unwrap(), json!("plain"));
    }

    #[test]
    fn unique_string_is_deterministic_and_arm_shaped() {
        let a = ev("[uniqueString(resourceGroup().id)]").unwrap();
        let b = ev("[uniqueString(resourceGroup().id)]").unwrap();
        assert_eq!(a, b);
        let s = a.as_str().unwrap();
        assert_eq!(s.len(), 13);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
        assert_ne!(a, ev("[uniqueString('other')]").unwrap());
    }

    #[test]
    fn runtime_functions_are_opaque_without_state() {
        assert_eq!(
            ev("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'p')).ipAddress]"),
            Err(EvalError::Opaque("reference".into()))
        );
        assert!(matches!(
            ev("[listKeys('x', '2023-05-01').keys[0].value]"),
            Err(EvalError::Opaque(_))
        ));
    }

    #[test]
    fn errors_are_reported_not_panicked() {
        for bad in [
            "[parameters('missing')]",
            "[variables('loop')]",
            "[substring('abc', 2, 5)]",
            "[noSuchFunction()]",
            "[concat('a']",
            "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'only-one')]",
            "[utcNow()]",
        ] {
            assert!(
                matches!(ev(bad), Err(EvalError::Invalid(_))),
                "{bad} should be invalid: {:?}",
                ev(bad)
            );
        }
    }
}
