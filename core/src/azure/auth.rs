//! Credentials, from the official `azure_identity` crate.
//!
//! [`AuthMethod`] selects one credential or the usual chain ([`AuthMethod::Auto`]):
//! environment service principal (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`),
//! workload identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity, then the Azure CLI
//! login. The chain keeps the first credential that returns a token.
//!
//! The client talks to credentials through [`TokenProvider`], so a provider can be swapped
//! (e.g. in tests of the retry logic). Tokens are [`SecretString`]s: never in `Debug`, logs or
//! errors.

use super::models::SecretString;
use crate::error::{Diagnostic, Error, Result};
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies bearer tokens to the client.
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A token for `scope` (e.g. `https://management.azure.com/.default`).
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<SecretString>>;
    /// The service rejected the last token (401): drop cached tokens so the next call gets a
    /// fresh one.
    fn invalidate(&self);
}

/// How dsvmpool authenticates (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// The chain: environment, workload identity, managed identity, Azure CLI.
    #[default]
    Auto,
    /// A service principal with a client secret, from [`AuthOptions`] or the environment.
    Environment,
    /// Workload identity federation (Kubernetes, CI): a federated token file.
    WorkloadIdentity,
    /// The managed identity of the Azure VM / App Service running dsvmpool.
    ManagedIdentity,
    /// The account logged in with `az login`.
    AzureCli,
}

impl AuthMethod {
    /// Every method, in chain order after `Auto`.
    pub const ALL: [AuthMethod; 5] = [
        AuthMethod::Auto,
        AuthMethod::Environment,
        AuthMethod::WorkloadIdentity,
        AuthMethod::ManagedIdentity,
        AuthMethod::AzureCli,
    ];

    /// The `--auth` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Auto => "auto",
            AuthMethod::Environment => "env",
            AuthMethod::WorkloadIdentity => "workload-identity",
            AuthMethod::ManagedIdentity => "managed-identity",
            AuthMethod::AzureCli => "azure-cli",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "default" => AuthMethod::Auto,
            "env" | "environment" | "client-secret" | "service-principal" => {
                AuthMethod::Environment
            }
            "workload-identity" | "workload" => AuthMethod::WorkloadIdentity,
            "managed-identity" | "msi" => AuthMethod::ManagedIdentity,
            "azure-cli" | "cli" | "az" => AuthMethod::AzureCli,
            _ => {
                return Err(Error::invalid(
                    crate::Diagnostic::error(
                        "auth",
                        "auth-method",
                        format!("unknown authentication method `{s}`"),
                    )
                    .hint("use one of auto, env, workload-identity, managed-identity, azure-cli"),
                ));
            }
        })
    }
}

/// Credential settings. Unset values come from the usual environment variables.
#[derive(Clone, Default)]
pub struct AuthOptions {
    /// Which credential.
    pub method: AuthMethod,
    /// Tenant (`AZURE_TENANT_ID`).
    pub tenant_id: Option<String>,
    /// Client id of the service principal, workload identity or user-assigned managed
    /// identity (`AZURE_CLIENT_ID`).
    pub client_id: Option<String>,
    /// Client secret (`AZURE_CLIENT_SECRET`).
    pub client_secret: Option<SecretString>,
    /// Federated token file (`AZURE_FEDERATED_TOKEN_FILE`).
    pub federated_token_file: Option<PathBuf>,
}

impl fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthOptions")
            .field("method", &self.method)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("federated_token_file", &self.federated_token_file)
            .finish()
    }
}

/// Where the credential gets its tokens, and over which HTTP client.
#[derive(Clone)]
pub struct TokenEndpoint {
    /// Entra ID authority host, e.g. `https://login.microsoftonline.com` (https only).
    pub authority_host: Url,
    /// HTTP client for the token endpoint; `None` uses the `azure_core` default. Set it to a
    /// client that trusts a test CA when the authority is a local test server.
    pub http_client: Option<reqwest::Client>,
}

type Factory = Box<dyn Fn() -> azure_core::Result<Arc<dyn TokenCredential>> + Send + Sync>;

struct Candidate {
    name: &'static str,
    factory: Factory,
    current: Mutex<Option<Arc<dyn TokenCredential>>>,
    /// Checked before the first use in a chain (managed identity: is IMDS there at all?).
    probe: Option<Probe>,
}

#[derive(Clone, Copy)]
enum Probe {
    Imds,
}

impl Candidate {
    fn credential(&self) -> azure_core::Result<Arc<dyn TokenCredential>> {
        let mut cur = self.current.lock().expect("credential lock");
        if let Some(c) = cur.as_ref() {
            return Ok(c.clone());
        }
        let c = (self.factory)()?;
        *cur = Some(c.clone());
        Ok(c)
    }
}

/// A credential backed by `azure_identity` (one method, or the chain).
pub struct Credential {
    method: AuthMethod,
    candidates: Vec<Candidate>,
    selected: Mutex<Option<usize>>,
    /// The last token of each scope, reused until five minutes before it expires (the Azure CLI
    /// credential does not cache, and running `az` per request would be slow).
    cache: Mutex<Vec<CachedToken>>,
}

struct CachedToken {
    scope: String,
    token: SecretString,
    expires_on: azure_core::time::OffsetDateTime,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.candidates.iter().map(|c| c.name).collect();
        f.debug_struct("Credential")
            .field("method", &self.method)
            .field("candidates", &names)
            .finish()
    }
}

/// A source of environment variables (the process environment, or a map in tests).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment (empty values count as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Credential {
    /// Builds the credential for `options`, reading unset values from the process
    /// environment.
    pub fn new(options: &AuthOptions, endpoint: &TokenEndpoint) -> Result<Self> {
        Self::with_env(options, endpoint, &process_env)
    }

    /// Like [`Credential::new`] with an explicit environment.
    pub fn with_env(
        options: &AuthOptions,
        endpoint: &TokenEndpoint,
        env: EnvLookup<'_>,
    ) -> Result<Self> {
        super::requests::require_https(&endpoint.authority_host, "authority_host")?;
        let client_options = client_options(endpoint);
        let get = |opt: &Option<String>, var: &str| opt.clone().or_else(|| env(var));
        let tenant = get(&options.tenant_id, "AZURE_TENANT_ID");
        let client = get(&options.client_id, "AZURE_CLIENT_ID");
        let secret = options
            .client_secret
            .clone()
            .or_else(|| env("AZURE_CLIENT_SECRET").map(SecretString::new));
        let token_file = options
            .federated_token_file
            .clone()
            .or_else(|| env("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from));
        let app_service = env("IDENTITY_ENDPOINT").is_some() || env("MSI_ENDPOINT").is_some();

        let service_principal = || -> Result<Candidate> {
            let missing: Vec<&str> = [
                ("AZURE_TENANT_ID", tenant.is_none()),
                ("AZURE_CLIENT_ID", client.is_none()),
                ("AZURE_CLIENT_SECRET", secret.is_none()),
            ]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| *n)
            .collect();
            if !missing.is_empty() {
                return Err(Error::Auth(format!(
                    "the environment credential needs a tenant, client id and client secret \
                     (missing: {})",
                    missing.join(", ")
                )));
            }
            let (t, c, s) = (
                tenant.clone().unwrap_or_default(),
                client.clone().unwrap_or_default(),
                secret.clone().unwrap_or_default(),
            );
            let co = client_options.clone();
            Ok(Candidate {
                name: "environment",
                factory: Box::new(move || {
                    let cred = ClientSecretCredential::new(
                        &t,
                        c.clone(),
                        Secret::new(s.expose().to_string()),
                        Some(ClientSecretCredentialOptions {
                            client_options: co.clone(),
                        }),
                    )?;
                    Ok(cred as Arc<dyn TokenCredential>)
                }),
                current: Mutex::new(None),
                probe: None,
            })
        };
        let workload = || -> Result<Candidate> {
            let Some(file) = token_file.clone() else {
                return Err(Error::Auth(
                    "workload identity needs AZURE_FEDERATED_TOKEN_FILE".into(),
                ));
            };
            let (t, c) = (tenant.clone(), client.clone());
            let co = client_options.clone();
            Ok(Candidate {
                name: "workload identity",
                factory: Box::new(move || {
                    let cred =
                        WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                            credential_options: ClientAssertionCredentialOptions {
                                client_options: co.clone(),
                            },
                            client_id: c.clone(),
                            tenant_id: t.clone(),
                            token_file_path: Some(file.clone()),
                        }))?;
                    Ok(cred as Arc<dyn TokenCredential>)
                }),
                current: Mutex::new(None),
                probe: None,
            })
        };
        let managed = |probe: bool| -> Candidate {
            let c = options.client_id.clone();
            Candidate {
                name: "managed identity",
                factory: Box::new(move || {
                    let cred =
                        ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                            user_assigned_id: c.clone().map(UserAssignedId::ClientId),
                            ..Default::default()
                        }))?;
                    Ok(cred as Arc<dyn TokenCredential>)
                }),
                current: Mutex::new(None),
                probe: probe.then_some(Probe::Imds),
            }
        };
        let cli = || -> Candidate {
            let t = options.tenant_id.clone();
            Candidate {
                name: "Azure CLI",
                factory: Box::new(move || {
                    let cred = AzureCliCredential::new(Some(AzureCliCredentialOptions {
                        tenant_id: t.clone(),
                        ..Default::default()
                    }))?;
                    Ok(cred as Arc<dyn TokenCredential>)
                }),
                current: Mutex::new(None),
                probe: None,
            }
        };

        let candidates = match options.method {
            AuthMethod::Environment => vec![service_principal()?],
            AuthMethod::WorkloadIdentity => vec![workload()?],
            AuthMethod::ManagedIdentity => vec![managed(false)],
            AuthMethod::AzureCli => vec![cli()],
            AuthMethod::Auto => {
                let mut v = Vec::new();
                if secret.is_some() {
                    v.push(service_principal()?);
                }
                if token_file.is_some() {
                    v.push(workload()?);
                }
                v.push(managed(!app_service));
                v.push(cli());
                v
            }
        };
        Ok(Self {
            method: options.method,
            candidates,
            selected: Mutex::new(None),
            cache: Mutex::new(Vec::new()),
        })
    }

    /// This credential with only the candidates that get their tokens from the configured
    /// authority host (a service principal, workload identity): for a test server, whose
    /// endpoints must never see an Entra ID token of a managed identity or the Azure CLI.
    pub(crate) fn authority_only(mut self) -> Result<Self> {
        self.candidates
            .retain(|c| matches!(c.name, "environment" | "workload identity"));
        if self.candidates.is_empty() {
            return Err(Error::invalid(
                Diagnostic::error(
                    "auth",
                    "test-endpoint",
                    "a test endpoint is set, and only a test server's own credential may be used \
                     with it (none is configured)",
                )
                .hint(
                    "set the test server's AZURE_TENANT_ID, AZURE_CLIENT_ID and \
                     AZURE_CLIENT_SECRET and use --auth env",
                ),
            ));
        }
        Ok(self)
    }

    /// The method this credential was built for.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// Names of the credentials tried, in order (e.g. `["environment", "Azure CLI"]`).
    pub fn chain(&self) -> Vec<&'static str> {
        self.candidates.iter().map(|c| c.name).collect()
    }

    /// The credential that produced the last token, once one did.
    pub fn selected(&self) -> Option<&'static str> {
        let s = *self.selected.lock().expect("credential lock");
        s.map(|i| self.candidates[i].name)
    }

    async fn get(&self, scope: &str) -> Result<SecretString> {
        {
            let cache = self.cache.lock().expect("credential lock");
            if let Some(c) = cache.iter().find(|c| c.scope == scope)
                && c.expires_on
                    > azure_core::time::OffsetDateTime::now_utc()
                        + azure_core::time::Duration::minutes(5)
            {
                return Ok(c.token.clone());
            }
        }
        let selected = *self.selected.lock().expect("credential lock");
        let order: Vec<usize> = match selected {
            Some(i) => vec![i],
            None => (0..self.candidates.len()).collect(),
        };
        let mut failures = Vec::new();
        for i in order {
            let cand = &self.candidates[i];
            if selected.is_none()
                && let Some(Probe::Imds) = cand.probe
                && !imds_reachable().await
            {
                failures.push(format!(
                    "{}: no instance metadata service (not running on an Azure VM)",
                    cand.name
                ));
                continue;
            }
            let result = match cand.credential() {
                Ok(c) => c.get_token(&[scope], None).await.map_err(|e| describe(&e)),
                Err(e) => Err(describe(&e)),
            };
            match result {
                Ok(tok) => {
                    *self.selected.lock().expect("credential lock") = Some(i);
                    let token = SecretString::new(tok.token.secret().to_string());
                    let mut cache = self.cache.lock().expect("credential lock");
                    cache.retain(|c| c.scope != scope);
                    cache.push(CachedToken {
                        scope: scope.to_string(),
                        token: token.clone(),
                        expires_on: tok.expires_on,
                    });
                    return Ok(token);
                }
                Err(e) => failures.push(format!("{}: {e}", cand.name)),
            }
        }
        let hint = if self.method == AuthMethod::Auto {
            "; choose a method with --auth"
        } else {
            ""
        };
        Err(Error::Auth(if failures.len() == 1 {
            format!("{}{hint}", failures[0])
        } else {
            format!(
                "no credential could get a token ({}){hint}",
                failures.join("; ")
            )
        }))
    }
}

impl TokenProvider for Credential {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<SecretString>> {
        Box::pin(self.get(scope))
    }

    fn invalidate(&self) {
        self.cache.lock().expect("credential lock").clear();
        let selected = *self.selected.lock().expect("credential lock");
        for (i, c) in self.candidates.iter().enumerate() {
            if selected.is_none() || selected == Some(i) {
                *c.current.lock().expect("credential lock") = None;
            }
        }
    }
}

/// An error with its causes, on one line (the causes say *why*: a certificate, a refused
/// connection, the token endpoint's message).
fn describe(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = err
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn client_options(endpoint: &TokenEndpoint) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = endpoint
        .authority_host
        .as_str()
        .trim_end_matches('/')
        .to_string();
    // A token endpoint that fails for a transient reason gets a few quick retries; a
    // permanent failure (bad secret, untrusted certificate) is reported within seconds.
    let retry = RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: azure_core::time::Duration::milliseconds(200),
        max_retries: 3,
        max_total_elapsed: azure_core::time::Duration::seconds(10),
        max_delay: azure_core::time::Duration::seconds(2),
    });
    ClientOptions {
        retry,
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        transport: endpoint
            .http_client
            .clone()
            .map(|c| Transport::new(Arc::new(c))),
        ..Default::default()
    }
}

/// Whether the Azure instance metadata service answers TCP on its link-local address (a
/// quick check so the chain does not wait on IMDS outside Azure).
async fn imds_reachable() -> bool {
    let addr = std::net::SocketAddr::from(([169, 254, 169, 254], 80));
    matches!(
        tokio::time::timeout(
            Duration::from_millis(800),
            tokio::net::TcpStream::connect(addr)
        )
        .await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ep() -> TokenEndpoint {
        TokenEndpoint {
            authority_host: Url::parse("https://login.microsoftonline.com").unwrap(),
            http_client: None,
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn parses_auth_methods() {
        for m in AuthMethod::ALL {
            assert_eq!(m.as_str().parse::<AuthMethod>().unwrap(), m);
        }
        assert_eq!("CLI".parse::<AuthMethod>().unwrap(), AuthMethod::AzureCli);
        let e = "kerberos".parse::<AuthMethod>().unwrap_err();
        assert_eq!(e.validation().unwrap().errors[0].rule, "auth-method");
    }

    #[test]
    fn chain_follows_the_environment() {
        let o = AuthOptions::default();
        let c = Credential::with_env(&o, &ep(), &env(&[])).unwrap();
        assert_eq!(c.chain(), vec!["managed identity", "Azure CLI"]);
        let c = Credential::with_env(
            &o,
            &ep(),
            &env(&[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "s"),
                ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.chain(),
            vec![
                "environment",
                "workload identity",
                "managed identity",
                "Azure CLI"
            ]
        );
        assert_eq!(c.selected(), None);
    }

    #[test]
    fn explicit_methods_need_their_settings() {
        let o = AuthOptions {
            method: AuthMethod::Environment,
            tenant_id: Some("t".into()),
            ..Default::default()
        };
        let e = Credential::with_env(&o, &ep(), &env(&[])).unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("AZURE_CLIENT_ID") && s.contains("AZURE_CLIENT_SECRET"),
            "{s}"
        );
        assert!(!s.contains("AZURE_TENANT_ID"), "{s}");
        let o = AuthOptions {
            method: AuthMethod::WorkloadIdentity,
            ..Default::default()
        };
        assert!(Credential::with_env(&o, &ep(), &env(&[])).is_err());
        let o = AuthOptions {
            method: AuthMethod::AzureCli,
            ..Default::default()
        };
        let c = Credential::with_env(&o, &ep(), &env(&[])).unwrap();
        assert_eq!(c.chain(), vec!["Azure CLI"]);
    }

    #[test]
    fn plain_http_authority_is_refused_and_secrets_are_redacted() {
        let o = AuthOptions {
            method: AuthMethod::Environment,
            tenant_id: Some("t".into()),
            client_id: Some("c".into()),
            client_secret: Some(SecretString::new("very-secret-value")),
            ..Default::default()
        };
        let e = Credential::with_env(
            &o,
            &TokenEndpoint {
                authority_host: Url::parse("http://127.0.0.1:1/").unwrap(),
                http_client: None,
            },
            &env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("https-only"), "{e}");
        assert!(!format!("{o:?}").contains("very-secret-value"));
        let c = Credential::with_env(&o, &ep(), &env(&[])).unwrap();
        assert!(!format!("{c:?}").contains("very-secret-value"));
    }
}
