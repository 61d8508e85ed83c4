# dsvmpool provisioning of a Windows instance (run once per instance by the Custom Script
# extension, as SYSTEM): map the shared workspace for every user of the machine as a persistent
# SMB global mapping. The key is either passed in (-StorageKey, from the extension's protected
# settings) or read with the instance's managed identity; it is never written to a file.
$ErrorActionPreference = 'Stop'
$RemotePath = "\\$StorageHost\$ShareName"

function Get-ManagedIdentityToken([string]$Resource) {
    $uri = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$Resource"
    (Invoke-RestMethod -Headers @{ Metadata = 'true' } -Uri $uri -TimeoutSec 20).access_token
}

function Get-StorageKey {
    if ($KeyVaultSecretUrl) {
        $token = Get-ManagedIdentityToken $KeyVaultResource
        $secret = Invoke-RestMethod -Headers @{ Authorization = "Bearer $token" } -Uri "$($KeyVaultSecretUrl)?api-version=7.4"
        return $secret.value
    }
    $sub = $SubscriptionId
    if (-not $sub) {
        $meta = Invoke-RestMethod -Headers @{ Metadata = 'true' } -Uri 'http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01'
        $sub = $meta.subscriptionId
    }
    $token = Get-ManagedIdentityToken "$ArmEndpoint/"
    $id = "/subscriptions/$sub/resourceGroups/$StorageResourceGroup/providers/Microsoft.Storage/storageAccounts/$StorageAccount"
    $keys = Invoke-RestMethod -Method Post -Headers @{ Authorization = "Bearer $token" } -Uri "$ArmEndpoint$($id)/listKeys?api-version=2023-05-01"
    return $keys.keys[0].value
}

if (Get-SmbGlobalMapping -RemotePath $RemotePath -ErrorAction SilentlyContinue) {
    Write-Output "dsvmpool: $RemotePath is already mapped"
    exit 0
}
$key = $StorageKey
for ($attempt = 1; -not $key; $attempt++) {
    try {
        $key = Get-StorageKey
    } catch {
        if ($attempt -ge 40) { throw "dsvmpool: could not read the storage key: $($_.Exception.Message)" }
        # The identity's role assignment may still be propagating.
        Start-Sleep -Seconds 30
    }
}
$secure = ConvertTo-SecureString -String $key -AsPlainText -Force
$credential = New-Object System.Management.Automation.PSCredential ("localhost\$StorageAccount", $secure)
New-SmbGlobalMapping -RemotePath $RemotePath -Credential $credential -LocalPath "$($DriveLetter):" -Persistent $true -RequirePrivacy $true | Out-Null
New-Item -ItemType Directory -Force -Path "$($DriveLetter):\notebooks\$AdminUser" | Out-Null
Write-Output "dsvmpool: mapped $RemotePath as $($DriveLetter): for every user"
