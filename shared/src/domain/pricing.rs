//! Free vs paid, derived from what Meta reported on the status (never from our own rules,
//! which Meta changes): PMP `type` regular = paid, `free_*` = free; otherwise `billable`.

use super::webhook::Pricing;

/// `Some(true)` paid, `Some(false)` free, `None` when the pricing object does not say.
pub fn classify(p: &Pricing<'_>) -> Option<bool> {
    match p.pricing_type.as_deref() {
        Some("regular") => Some(true),
        Some(t) if t.starts_with("free_") => Some(false),
        // Unknown or missing type (CBP, or a value Meta adds later): fall back to billable.
        _ => p.billable,
    }
}

/// `authentication-international` (status webhooks) and `authentication_international`
/// (analytics) are the same category; store one spelling.
pub fn normalise_category(c: &str) -> std::borrow::Cow<'_, str> {
    if c.contains('-') {
        c.replace('-', "_").into()
    } else {
        c.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::Text;
    const B: fn(&'static str) -> Text<'static> = Text::from;

    fn p(model: &'static str, t: Option<&'static str>, billable: Option<bool>) -> Pricing<'static> {
        Pricing {
            model: Some(B(model)),
            pricing_type: t.map(B),
            category: Some(B("utility")),
            billable,
        }
    }

    #[test]
    fn pmp_type_decides() {
        assert_eq!(classify(&p("PMP", Some("regular"), Some(true))), Some(true));
        assert_eq!(
            classify(&p("PMP", Some("free_customer_service"), Some(false))),
            Some(false)
        );
        assert_eq!(
            classify(&p("PMP", Some("free_entry_point"), None)),
            Some(false)
        );
        // `type` wins over a contradicting billable.
        assert_eq!(
            classify(&p("PMP", Some("regular"), Some(false))),
            Some(true)
        );
        assert_eq!(
            classify(&p("PMP", Some("free_group_customer_service"), Some(true))),
            Some(false)
        );
    }

    #[test]
    fn cbp_and_unknown_types_use_billable() {
        assert_eq!(classify(&p("CBP", None, Some(true))), Some(true));
        assert_eq!(classify(&p("CBP", None, Some(false))), Some(false));
        assert_eq!(
            classify(&p("PMP", Some("something_new"), Some(true))),
            Some(true)
        );
        assert_eq!(classify(&p("PMP", None, None)), None);
    }

    #[test]
    fn category_spellings() {
        assert_eq!(
            normalise_category("authentication-international"),
            "authentication_international"
        );
        assert_eq!(normalise_category("marketing"), "marketing");
    }
}
