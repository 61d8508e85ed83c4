//! A small bundled compute price table, so `plan` and the simulator can state what a pool costs.
//!
//! Pay-as-you-go list prices in USD per hour for Linux VMs in one reference region, as captured
//! on [`PRICE_DATE`]. Other regions typically differ by ±20 %; Windows adds a per-vCPU licence
//! surcharge; spot is estimated at a fixed fraction. The figures are estimates for planning,
//! not a quote: `az vm list-skus` and the Azure pricing calculator are authoritative.

use crate::spec::{Os, Priority};

/// Date the table was captured.
pub const PRICE_DATE: &str = "2026-11-01";
/// Region the table's prices are for.
pub const PRICE_REGION: &str = "eastus";
/// Currency.
pub const CURRENCY: &str = "USD";
/// Hours in a month, as Azure bills (730).
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Windows licence surcharge per vCPU-hour.
pub const WINDOWS_PER_VCPU_HOUR: f64 = 0.046;
/// Spot price estimate as a fraction of the pay-as-you-go price.
pub const SPOT_FRACTION: f64 = 0.2;

/// (size, vCPUs, Linux USD per hour).
pub const PRICES: &[(&str, u32, f64)] = &[
    ("Standard_B2s", 2, 0.0416),
    ("Standard_B2ms", 2, 0.0832),
    ("Standard_B4ms", 4, 0.166),
    ("Standard_B8ms", 8, 0.333),
    ("Standard_D2s_v3", 2, 0.096),
    ("Standard_D4s_v3", 4, 0.192),
    ("Standard_D8s_v3", 8, 0.384),
    ("Standard_D16s_v3", 16, 0.768),
    ("Standard_D2s_v5", 2, 0.096),
    ("Standard_D4s_v5", 4, 0.192),
    ("Standard_D8s_v5", 8, 0.384),
    ("Standard_D16s_v5", 16, 0.768),
    ("Standard_D32s_v5", 32, 1.536),
    ("Standard_D2ds_v5", 2, 0.113),
    ("Standard_D4ds_v5", 4, 0.226),
    ("Standard_D8ds_v5", 8, 0.452),
    ("Standard_E2s_v5", 2, 0.126),
    ("Standard_E4s_v5", 4, 0.252),
    ("Standard_E8s_v5", 8, 0.504),
    ("Standard_E16s_v5", 16, 1.008),
    ("Standard_E32s_v5", 32, 2.016),
    ("Standard_F4s_v2", 4, 0.169),
    ("Standard_F8s_v2", 8, 0.338),
    ("Standard_F16s_v2", 16, 0.677),
    ("Standard_NC4as_T4_v3", 4, 0.526),
    ("Standard_NC8as_T4_v3", 8, 0.752),
    ("Standard_NC16as_T4_v3", 16, 1.204),
    ("Standard_NC64as_T4_v3", 64, 4.352),
    ("Standard_NC6s_v3", 6, 3.06),
    ("Standard_NC12s_v3", 12, 6.12),
    ("Standard_NC24ads_A100_v4", 24, 3.673),
    ("Standard_NC48ads_A100_v4", 48, 7.346),
    ("Standard_NV6ads_A10_v5", 6, 0.454),
    ("Standard_NV12ads_A10_v5", 12, 0.908),
];

/// Price of one instance.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct InstancePrice {
    /// USD per hour.
    pub hourly: f64,
    /// vCPUs of the size.
    pub vcpus: u32,
    /// Whether this is an estimate beyond the list price (spot).
    pub estimated: bool,
}

/// Hourly price of one instance of `size`, or `None` if the size is not in the table.
pub fn instance_price(size: &str, os: Os, priority: Priority) -> Option<InstancePrice> {
    let (_, vcpus, linux) = PRICES
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(size))?;
    let mut hourly = *linux;
    if os == Os::Windows {
        hourly += WINDOWS_PER_VCPU_HOUR * f64::from(*vcpus);
    }
    let estimated = priority == Priority::Spot;
    if estimated {
        hourly *= SPOT_FRACTION;
    }
    Some(InstancePrice {
        hourly,
        vcpus: *vcpus,
        estimated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices() {
        let p = instance_price("Standard_D4s_v5", Os::Ubuntu, Priority::Regular).unwrap();
        assert_eq!(p.hourly, 0.192);
        let w = instance_price("standard_d4s_v5", Os::Windows, Priority::Regular).unwrap();
        assert!((w.hourly - (0.192 + 4.0 * 0.046)).abs() < 1e-9);
        let s = instance_price("Standard_D4s_v5", Os::Ubuntu, Priority::Spot).unwrap();
        assert!(s.estimated && (s.hourly - 0.0384).abs() < 1e-9);
        assert!(instance_price("Standard_X1", Os::Ubuntu, Priority::Regular).is_none());
    }
}
