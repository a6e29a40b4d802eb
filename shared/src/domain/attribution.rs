//! First-touch attribution from a Click-to-WhatsApp referral: the ad, its URL and the UTM
//! parameters parsed from that URL.

use super::webhook::Referral;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub content: Option<String>,
    pub term: Option<String>,
}

impl Utm {
    /// Parses `utm_*` query parameters (percent-decoded; first occurrence wins). URLs that do
    /// not parse (Meta sends short links like `https://fb.me/x`) simply carry no UTM.
    pub fn from_url(url: &str) -> Utm {
        let mut utm = Utm::default();
        let Ok(parsed) = url::Url::parse(url.trim()) else {
            return utm;
        };
        for (k, v) in parsed.query_pairs() {
            let slot = match k.as_ref() {
                "utm_source" => &mut utm.source,
                "utm_medium" => &mut utm.medium,
                "utm_campaign" => &mut utm.campaign,
                "utm_content" => &mut utm.content,
                "utm_term" => &mut utm.term,
                _ => continue,
            };
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v.into_owned());
            }
        }
        utm
    }
}

/// UTM of a referral (from its `source_url`).
pub fn utm_of(referral: &Referral<'_>) -> Utm {
    referral
        .source_url
        .as_deref()
        .map(Utm::from_url)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utm_parameters() {
        let u = Utm::from_url(
            "https://example.com/p?utm_source=facebook&utm_medium=cpc&utm_campaign=spring%20sale&utm_content=ad1&utm_term=shoes&x=1",
        );
        assert_eq!(u.source.as_deref(), Some("facebook"));
        assert_eq!(u.campaign.as_deref(), Some("spring sale"));
        assert_eq!(u.term.as_deref(), Some("shoes"));
    }

    #[test]
    fn short_links_and_garbage_have_no_utm() {
        assert_eq!(Utm::from_url("https://fb.me/3cr4Wqqkv"), Utm::default());
        assert_eq!(Utm::from_url("not a url"), Utm::default());
        assert_eq!(
            Utm::from_url("https://x.io/?utm_campaign=&utm_campaign=b")
                .campaign
                .as_deref(),
            Some("b")
        );
    }
}

/// The main language of the country a phone number's calling code belongs to, for
/// assignment rules by language: WhatsApp webhooks carry no user language, so the country is
/// the best signal there is. Longest prefix first; `None` for codes not listed (rules by
/// country prefix still work for them).
pub fn language_of_phone(phone: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 40] = [
        ("351", "pt"),
        ("244", "pt"),
        ("258", "pt"),
        ("971", "ar"),
        ("966", "ar"),
        ("234", "en"),
        ("254", "en"),
        ("353", "en"),
        ("880", "bn"),
        ("55", "pt"),
        ("62", "id"),
        ("60", "ms"),
        ("34", "es"),
        ("52", "es"),
        ("54", "es"),
        ("56", "es"),
        ("57", "es"),
        ("51", "es"),
        ("58", "es"),
        ("44", "en"),
        ("61", "en"),
        ("64", "en"),
        ("27", "en"),
        ("91", "hi"),
        ("92", "ur"),
        ("49", "de"),
        ("43", "de"),
        ("33", "fr"),
        ("39", "it"),
        ("31", "nl"),
        ("90", "tr"),
        ("20", "ar"),
        ("63", "tl"),
        ("66", "th"),
        ("84", "vi"),
        ("81", "ja"),
        ("82", "ko"),
        ("86", "zh"),
        ("7", "ru"),
        ("1", "en"),
    ];
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    PREFIXES
        .iter()
        .filter(|(p, _)| digits.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, l)| *l)
}

#[cfg(test)]
mod language_tests {
    use super::language_of_phone;

    #[test]
    fn the_calling_code_names_the_country_language() {
        assert_eq!(language_of_phone("5511999990001"), Some("pt"));
        assert_eq!(language_of_phone("+62 811-000-001"), Some("id"));
        assert_eq!(
            language_of_phone("351912345678"),
            Some("pt"),
            "Portugal before 35x"
        );
        assert_eq!(language_of_phone("16505551234"), Some("en"));
        assert_eq!(language_of_phone("5491155550000"), Some("es"));
        assert_eq!(language_of_phone("999"), None);
        assert_eq!(language_of_phone(""), None);
    }
}
