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
