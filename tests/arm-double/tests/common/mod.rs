//! Test client: reqwest with rustls, trusting only the double's CA, as a real client would.

#![allow(dead_code)]

use dsvmpool_arm_double::{ArmDouble, Config, Running};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::Duration;

pub const RG_API: &str = "2021-04-01";
pub const DEPLOY_API: &str = "2025-04-01";
pub const COMPUTE_API: &str = "2024-07-01";
pub const INSIGHTS_API: &str = "2022-10-01";
pub const STORAGE_API: &str = "2023-05-01";
pub const NETWORK_API: &str = "2024-05-01";

pub fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/arm")
}

pub fn read_fixture(rel: &str) -> Value {
    let p = fixtures().join(rel);
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

/// A fast double: one simulated second lasts a millisecond.
pub fn fast_config() -> Config {
    Config {
        time_scale: 0.001,
        ..Config::default()
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub sub: String,
    pub token: String,
}

pub fn http_client(ca_pem: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl Client {
    /// Authenticates through the token endpoint with the client-secret flow.
    pub async fn connect(d: &Running) -> Client {
        let http = http_client(&d.ca_pem);
        let resp = http
            .post(&d.token_url)
            .form(&[
                ("client_id", d.client_id.as_str()),
                ("client_secret", d.client_secret.as_str()),
                ("grant_type", "client_credentials"),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        Client {
            http,
            base: d.management_url.trim_end_matches('/').to_string(),
            sub: d.subscription_id.clone(),
            token: v["access_token"].as_str().unwrap().to_string(),
        }
    }

    pub fn rg_path(&self, rg: &str) -> String {
        format!("/subscriptions/{}/resourceGroups/{rg}", self.sub)
    }

    pub fn url(&self, path_or_url: &str, api: Option<&str>) -> String {
        let mut u = if path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.base, path_or_url)
        };
        if let Some(a) = api {
            u.push(if u.contains('?') { '&' } else { '?' });
            u.push_str("api-version=");
            u.push_str(a);
        }
        u
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        api: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.try_send(method, path, api, body, headers)
            .await
            .unwrap()
    }

    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        api: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Resp, reqwest::Error> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .http
            .request(m, self.url(path, api))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str, api: &str) -> Resp {
        self.send("GET", path, Some(api), None, &[]).await
    }

    pub async fn put(&self, path: &str, api: &str, body: Value) -> Resp {
        self.send("PUT", path, Some(api), Some(body), &[]).await
    }

    pub async fn create_rg(&self, rg: &str) {
        let r = self
            .put(&self.rg_path(rg), RG_API, json!({"location": "westeurope"}))
            .await;
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
    }

    /// Waits as the response says (`retry-after-ms`, else `Retry-After`).
    pub async fn wait(r: &Resp) {
        let ms = r
            .header("retry-after-ms")
            .and_then(|v| v.parse::<u64>().ok())
            .or_else(|| {
                r.header("retry-after")
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(|s| s * 1000)
            })
            .unwrap_or(10);
        tokio::time::sleep(Duration::from_millis(ms.max(1))).await;
    }

    /// Polls an `Azure-AsyncOperation` URL until a terminal status; returns the final body.
    pub async fn poll_status(&self, url: &str) -> Value {
        for _ in 0..2000 {
            let r = self.send("GET", url, None, None, &[]).await;
            assert_eq!(r.status, 200, "status poll must answer 200: {}", r.body);
            let s = r.body["status"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if matches!(s.as_str(), "succeeded" | "failed" | "canceled") {
                return r.body;
            }
            Client::wait(&r).await;
        }
        panic!("operation {url} never finished");
    }

    /// Polls a `Location` URL until it stops answering 202; returns the final response.
    pub async fn poll_location(&self, url: &str) -> Resp {
        for _ in 0..2000 {
            let r = self.send("GET", url, None, None, &[]).await;
            if r.status != 202 {
                return r;
            }
            Client::wait(&r).await;
        }
        panic!("operation {url} never finished");
    }

    /// Deploys a template and waits for the deployment to end; returns the final deployment.
    pub async fn deploy(&self, rg: &str, name: &str, template: Value, parameters: Value) -> Value {
        let path = format!(
            "{}/providers/Microsoft.Resources/deployments/{name}",
            self.rg_path(rg)
        );
        let r = self
            .put(
                &path,
                DEPLOY_API,
                json!({"properties": {"mode": "Incremental", "template": template, "parameters": parameters}}),
            )
            .await;
        assert!(
            r.status == 201 || r.status == 200,
            "{} {}",
            r.status,
            r.body
        );
        let url = r
            .header("azure-asyncoperation")
            .expect("Azure-AsyncOperation");
        self.poll_status(&url).await;
        self.get(&path, DEPLOY_API).await.body
    }
}

/// The small template used across tests: a VNet and a public IP in parallel, a load balancer
/// after the IP, a storage account, a scale set after the VNet and load balancer, an
/// autoscale setting after the scale set; outputs use `reference()` and `listKeys()`.
pub fn pool_template() -> Value {
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": {"type": "string"},
            "capacity": {"type": "int", "defaultValue": 2, "minValue": 0, "maxValue": 1000},
            "adminPassword": {"type": "securestring"},
            "withStorage": {"type": "bool", "defaultValue": true}
        },
        "variables": {
            "vnet": "[format('{0}-vnet', parameters('prefix'))]",
            "pip": "[concat(parameters('prefix'), '-pip')]",
            "lb": "[concat(parameters('prefix'), '-lb')]",
            "storage": "[toLower(concat('st', uniqueString(resourceGroup().id)))]",
            "vmss": "[concat(parameters('prefix'), '-vmss')]"
        },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2024-05-01",
                "name": "[variables('vnet')]",
                "location": "[resourceGroup().location]",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]
                }
            },
            {
                "type": "Microsoft.Network/publicIPAddresses",
                "apiVersion": "2024-05-01",
                "name": "[variables('pip')]",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard"},
                "properties": {
                    "publicIPAllocationMethod": "Static",
                    "dnsSettings": {"domainNameLabel": "[toLower(parameters('prefix'))]"}
                }
            },
            {
                "type": "Microsoft.Network/loadBalancers",
                "apiVersion": "2024-05-01",
                "name": "[variables('lb')]",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard"},
                "dependsOn": ["[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]"],
                "properties": {
                    "frontendIPConfigurations": [{
                        "name": "fe",
                        "properties": {"publicIPAddress": {"id": "[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]"}}
                    }]
                }
            },
            {
                "condition": "[parameters('withStorage')]",
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-05-01",
                "name": "[variables('storage')]",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard_LRS"},
                "kind": "StorageV2",
                "properties": {"minimumTlsVersion": "TLS1_2"}
            },
            {
                "type": "Microsoft.Compute/virtualMachineScaleSets",
                "apiVersion": "2024-07-01",
                "name": "[variables('vmss')]",
                "location": "[resourceGroup().location]",
                "dependsOn": [
                    "[resourceId('Microsoft.Network/virtualNetworks', variables('vnet'))]",
                    "[variables('lb')]"
                ],
                "sku": {"name": "Standard_D4s_v5", "tier": "Standard", "capacity": "[parameters('capacity')]"},
                "properties": {
                    "overprovision": false,
                    "upgradePolicy": {"mode": "Manual"},
                    "virtualMachineProfile": {
                        "osProfile": {
                            "computerNamePrefix": "[parameters('prefix')]",
                            "adminUsername": "pooladmin",
                            "adminPassword": "[parameters('adminPassword')]"
                        },
                        "networkProfile": {
                            "networkInterfaceConfigurations": [{
                                "name": "nic",
                                "properties": {
                                    "primary": true,
                                    "ipConfigurations": [{
                                        "name": "ip",
                                        "properties": {
                                            "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnet'), 'default')]"},
                                            "publicIpHint": "[reference(resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))).ipAddress]"
                                        }
                                    }]
                                }
                            }]
                        }
                    }
                }
            },
            {
                "type": "Microsoft.Insights/autoscalesettings",
                "apiVersion": "2022-10-01",
                "name": "[concat(variables('vmss'), '-autoscale')]",
                "location": "[resourceGroup().location]",
                "dependsOn": ["[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('vmss'))]"],
                "properties": {
                    "enabled": true,
                    "targetResourceUri": "[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('vmss'))]",
                    "profiles": [{
                        "name": "default",
                        "capacity": {"minimum": "0", "maximum": "10", "default": "[string(parameters('capacity'))]"},
                        "rules": []
                    }]
                }
            }
        ],
        "outputs": {
            "fqdn": {"type": "string", "value": "[reference(resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))).dnsSettings.fqdn]"},
            "vmssId": {"type": "string", "value": "[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('vmss'))]"},
            "storageKeyLength": {"type": "int", "condition": "[parameters('withStorage')]", "value": "[length(listKeys(resourceId('Microsoft.Storage/storageAccounts', variables('storage')), '2023-05-01').keys[0].value)]"}
        }
    })
}

pub fn pool_parameters(prefix: &str, capacity: i64) -> Value {
    json!({
        "prefix": {"value": prefix},
        "capacity": {"value": capacity},
        "adminPassword": {"value": "S3cret-Passw0rd!"}
    })
}

/// Starts a fast double and an authenticated client.
pub async fn start() -> (Running, Client) {
    start_with(fast_config()).await
}

pub async fn start_with(c: Config) -> (Running, Client) {
    let d = ArmDouble::start(c).unwrap();
    let client = Client::connect(&d).await;
    (d, client)
}
