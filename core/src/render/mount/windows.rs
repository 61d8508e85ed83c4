//! Windows pools: a small PowerShell provisioning script.
//!
//! A persistent, system-wide SMB mapping of the share (`New-SmbGlobalMapping` with a
//! credential object: the key is never on a command line), and for every local profile a
//! `notebooks\remote` link to `<drive>:\notebooks\<user>`, renewed at every logon by a
//! scheduled task so users who sign in later get theirs. With `managed_identity` the key
//! comes from the instance metadata service and Key Vault (or ARM `listKeys`); with
//! `account_key` its base64 encoding reaches the script on PowerShell's standard input (the
//! extension's protected command writes it there; it is never on PowerShell's command line)
//! and arrives as `-EncodedStorageKey`. Whatever the source, a key that is not the base64 of 64
//! bytes is refused. Idempotent: a second run changes nothing.

use super::ps_quote;
use crate::spec::{CredentialMethod, SecretRef, ValidPool};

/// Drive letter of the share on Windows instances.
pub const DRIVE: &str = "S:";

/// The PowerShell script for a Windows pool; `host` as in [`super::plan`].
pub fn render(pool: &ValidPool, host: &str) -> String {
    let spec = pool.spec();
    let st = &spec.storage;
    let account = pool.storage_account().unwrap_or_default();
    let cloud = spec.cloud;
    let (vault_url, vault_resource) = match (&st.key, pool.credential()) {
        (Some(SecretRef::KeyVault { key_vault }), CredentialMethod::ManagedIdentity) => {
            let mut url = format!(
                "https://{}.{}/secrets/{}",
                key_vault.vault_name(),
                cloud.key_vault_suffix(),
                key_vault.secret
            );
            if let Some(v) = &key_vault.version {
                url = format!("{url}/{v}");
            }
            (url, format!("https://{}", cloud.key_vault_suffix()))
        }
        _ => (String::new(), String::new()),
    };
    let rg = st
        .account
        .resource_group
        .clone()
        .unwrap_or_else(|| spec.resource_group.clone());
    let remote = format!(r"\\{host}\{}", st.share.name);
    let settings = [
        ("Pool", pool.name().to_string()),
        ("Account", account.to_string()),
        ("RemotePath", remote),
        ("Drive", DRIVE.to_string()),
        ("KeyVaultSecretUrl", vault_url),
        ("KeyVaultResource", vault_resource),
        ("ArmEndpoint", cloud.management_endpoint().to_string()),
        ("AccountResourceGroup", rg),
    ];
    let mut out = format!(
        "# dsvmpool {}: provisioning of Windows pool {}.\n\
         # Run as SYSTEM by the Custom Script extension; safe to run again.\n\
         param([string]$EncodedStorageKey = '', [switch]$LinksOnly)\n\
         $ErrorActionPreference = 'Stop'\n",
        crate::VERSION,
        ps_quote(pool.name())
    );
    for (k, v) in settings {
        out.push_str(&format!("${k} = {}\n", ps_quote(&v)));
    }
    out.push_str(SCRIPT_BODY);
    out
}

const SCRIPT_BODY: &str = r#"
function Write-Log([string]$Message) {
    $line = "dsvmpool: $Message"
    Write-Output $line
    if (-not [Diagnostics.EventLog]::SourceExists('dsvmpool')) { New-EventLog -LogName Application -Source 'dsvmpool' }
    Write-EventLog -LogName Application -Source 'dsvmpool' -EventId 1 -Message $line
}

function Test-StorageKey([string]$Key) {
    # a storage account key is the base64 of 64 bytes: 88 characters ending in == (never shown)
    if ($Key -cnotmatch '^[A-Za-z0-9+/]{85}[AQgw]==\z') { throw 'what arrived is not a storage account key (base64 of 64 bytes)' }
    return $Key
}

function Get-StorageKey {
    if ($EncodedStorageKey) {
        # account_key: the key's base64 encoding, read from standard input by the launch command
        $k = ''
        try { $k = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($EncodedStorageKey.Trim())) } catch { $k = '' }
        return Test-StorageKey $k
    }
    $imds = 'http://169.254.169.254/metadata'
    $h = @{ Metadata = 'true' }
    if ($KeyVaultSecretUrl) {
        $t = Invoke-RestMethod -Headers $h -Uri "$imds/identity/oauth2/token?api-version=2018-02-01&resource=$KeyVaultResource"
        return Test-StorageKey (Invoke-RestMethod -Headers @{ Authorization = "Bearer $($t.access_token)" } -Uri "$($KeyVaultSecretUrl)?api-version=7.4").value
    }
    $c = Invoke-RestMethod -Headers $h -Uri "$imds/instance/compute?api-version=2021-02-01"
    $t = Invoke-RestMethod -Headers $h -Uri "$imds/identity/oauth2/token?api-version=2018-02-01&resource=$ArmEndpoint/"
    $u = "$ArmEndpoint/subscriptions/$($c.subscriptionId)/resourceGroups/$AccountResourceGroup/providers/Microsoft.Storage/storageAccounts/$Account/listKeys?api-version=2023-05-01"
    return Test-StorageKey (Invoke-RestMethod -Method Post -Headers @{ Authorization = "Bearer $($t.access_token)" } -Uri $u).keys[0].value
}

function Add-NotebookLinks {
    # every local profile gets notebooks\remote -> S:\notebooks\<user> (folder created on first use)
    Get-ChildItem 'C:\Users' -Directory | Where-Object { $_.Name -notin @('Public', 'Default', 'Default User', 'All Users') } | ForEach-Object {
        $user = $_.Name
        $target = Join-Path "$Drive\notebooks" $user
        $link = Join-Path $_.FullName 'notebooks\remote'
        if (-not (Test-Path $target)) {
            New-Item -ItemType Directory -Path $target -Force | Out-Null
            $acl = Get-Acl $target
            $acl.SetAccessRuleProtection($true, $false)
            foreach ($who in @($user, 'BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM')) {
                $acl.AddAccessRule((New-Object Security.AccessControl.FileSystemAccessRule($who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
            }
            Set-Acl $target $acl
        }
        $item = Get-Item $link -ErrorAction SilentlyContinue
        if ($item -and $item.LinkType -eq 'SymbolicLink' -and $item.Target -contains $target) { return }
        if ($item) { Write-Log "$link exists and is not the link; left alone"; return }
        New-Item -ItemType Directory -Path (Split-Path $link) -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path $link -Target $target | Out-Null
        Write-Log "linked $link -> $target"
    }
}

if (-not $LinksOnly) {
    $mapping = Get-SmbGlobalMapping -RemotePath $RemotePath -ErrorAction SilentlyContinue
    if (-not $mapping -or $mapping.Status -ne 'OK') {
        if ($mapping) { Remove-SmbGlobalMapping -RemotePath $RemotePath -Force }
        $delay = 5
        for ($attempt = 1; ; $attempt++) {
            try {
                $secure = ConvertTo-SecureString -String (Get-StorageKey) -AsPlainText -Force
                $cred = New-Object Management.Automation.PSCredential("localhost\$Account", $secure)
                New-SmbGlobalMapping -RemotePath $RemotePath -Credential $cred -LocalPath $Drive -Persistent $true | Out-Null
                Write-Log "mapped $RemotePath as $Drive"
                break
            } catch {
                if ($attempt -ge 6) { Write-Log "cannot map $RemotePath : $($_.Exception.Message)"; exit 4 }
                Write-Log "mapping failed (attempt $attempt); next try in $delay s"
                Start-Sleep -Seconds $delay
                $delay = [Math]::Min($delay * 2, 60)
            }
        }
    }
    New-Item -ItemType Directory -Path "$Drive\notebooks" -Force | Out-Null
    # keep a copy for the logon task (the body only: the key is a parameter, never stored)
    $dest = 'C:\ProgramData\dsvmpool\provision.ps1'
    New-Item -ItemType Directory -Path (Split-Path $dest) -Force | Out-Null
    Set-Content -Path $dest -Value $MyInvocation.MyCommand.ScriptBlock.ToString() -Encoding UTF8
    if (-not (Get-ScheduledTask -TaskName 'dsvmpool-notebooks' -ErrorAction SilentlyContinue)) {
        $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -ExecutionPolicy Bypass -File `"$dest`" -LinksOnly"
        Register-ScheduledTask -TaskName 'dsvmpool-notebooks' -Action $action -Trigger (New-ScheduledTaskTrigger -AtLogOn) -User 'SYSTEM' -RunLevel Highest | Out-Null
    }
}
Add-NotebookLinks
Write-Log 'provisioning finished'
exit 0
"#;
