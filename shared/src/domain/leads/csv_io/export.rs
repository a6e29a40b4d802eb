//! Writing leads as CSV: one row per lead, cells a spreadsheet would run guarded.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use super::*;
use crate::domain::leads::{FirstTouch, LeadView};

/// Export header, in order.
pub const EXPORT_COLUMNS: [&str; 18] = [
    "lead_id",
    "phone",
    "user_id",
    "name",
    "stage",
    "owner",
    "tags",
    "created_at",
    "last_inbound_at",
    "source_type",
    "source_id",
    "ctwa_clid",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "version",
];

/// `'`-prefixes a cell a spreadsheet would run as a formula.
fn guard(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Writes a header and one row per lead ([`EXPORT_COLUMNS`]); tags joined with `;`.
pub fn export_csv<'a, W: Write>(
    leads: impl Iterator<Item = &'a LeadView>,
    w: W,
) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(EXPORT_COLUMNS)?;
    for lead in leads {
        let touch = |field: fn(&FirstTouch) -> &Option<String>| {
            lead.first_touch
                .as_ref()
                .and_then(|t| field(t).as_deref())
                .unwrap_or("")
        };
        let tags = lead.tags.join(";");
        let created_at = rfc3339(lead.created_at);
        let last_inbound_at = lead.last_inbound_at.map(rfc3339).unwrap_or_default();
        let version = lead.version.to_string();
        let cells: [&str; 18] = [
            &lead.lead_id,
            lead.phone.as_deref().unwrap_or(""),
            lead.user_id.as_deref().unwrap_or(""),
            lead.profile_name.as_deref().unwrap_or(""),
            &lead.stage,
            lead.owner.as_deref().unwrap_or(""),
            &tags,
            &created_at,
            &last_inbound_at,
            touch(|t| &t.source_type),
            touch(|t| &t.source_id),
            touch(|t| &t.ctwa_clid),
            touch(|t| &t.utm_source),
            touch(|t| &t.utm_medium),
            touch(|t| &t.utm_campaign),
            touch(|t| &t.utm_content),
            touch(|t| &t.utm_term),
            &version,
        ];
        for cell in cells {
            out.write_field(guard(cell).as_bytes())?;
        }
        out.write_record(std::iter::empty::<&[u8]>())?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::leads::{Lifecycle, ORIGIN_WHATSAPP};
    use std::collections::BTreeMap;

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        ts("2024-06-01T12:00:00Z")
    }

    fn lead(id: &str) -> LeadView {
        LeadView {
            lead_id: id.into(),
            waba_id: Some("1001".into()),
            phone_number_id: Some("1029384756".into()),
            phone: Some(id.into()),
            user_id: None,
            profile_name: Some("Dewi".into()),
            stage: "new".into(),
            owner: None,
            tags: vec![],
            custom_fields: BTreeMap::new(),
            created_at: ts("2024-05-01T10:00:00Z"),
            last_inbound_at: None,
            first_touch: None,
            version: 1,
            origin: ORIGIN_WHATSAPP.into(),
            ids: vec![],
            waba_ids: vec![],
        }
    }

    fn export(leads: &[LeadView]) -> String {
        let mut buf = Vec::new();
        export_csv(leads.iter(), &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn export_writes_header_and_rows() {
        let mut l = lead("6281234567");
        l.tags = vec!["b2b".into(), "vip".into()];
        l.owner = Some("alice".into());
        l.last_inbound_at = Some(ts("2024-05-02T08:30:00.5Z"));
        l.version = 7;
        l.first_touch = Some(FirstTouch {
            source_type: Some("ad".into()),
            source_id: Some("120201234".into()),
            ctwa_clid: Some("ARAk".into()),
            utm_campaign: Some("spring, sale".into()),
            ..FirstTouch::default()
        });
        assert_eq!(
            export(&[l]),
            "lead_id,phone,user_id,name,stage,owner,tags,created_at,last_inbound_at,source_type,source_id,ctwa_clid,utm_source,utm_medium,utm_campaign,utm_content,utm_term,version\n\
             6281234567,6281234567,,Dewi,new,alice,b2b;vip,2024-05-01T10:00:00Z,2024-05-02T08:30:00.500Z,ad,120201234,ARAk,,,\"spring, sale\",,,7\n"
        );
        assert_eq!(export(&[]).lines().count(), 1);
    }

    #[test]
    fn export_escapes_formula_cells() {
        let mut l = lead("6281234567");
        l.profile_name = Some("=HYPERLINK(\"http://x\")".into());
        l.owner = Some("@bob".into());
        l.tags = vec!["-vip".into()];
        l.first_touch = Some(FirstTouch {
            utm_source: Some("+ads".into()),
            utm_term: Some("\tshoes".into()),
            utm_content: Some("\rx".into()),
            utm_medium: Some("cpc-2".into()),
            ..FirstTouch::default()
        });
        let text = export(&[l]);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "6281234567", "digits-only phones are untouched");
        assert_eq!(&row[3], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&row[5], "'@bob");
        assert_eq!(&row[6], "'-vip");
        assert_eq!(&row[12], "'+ads");
        assert_eq!(&row[13], "cpc-2", "only the first character matters");
        assert_eq!(&row[15], "'\rx");
        assert_eq!(&row[16], "'\tshoes");
    }

    #[test]
    fn export_then_import_round_trips() {
        let mut a = lead("6281234567");
        a.stage = "qualified".into();
        a.owner = Some("@alice".into());
        a.tags = vec!["-cold".into(), "b2b".into(), "vip".into()];
        a.profile_name = Some("Dewi \"D\"\nSari".into());
        a.first_touch = Some(FirstTouch {
            source_id: Some("120201234".into()),
            source_type: Some("ad".into()),
            ctwa_clid: Some("ARAk".into()),
            utm_source: Some("facebook".into()),
            utm_medium: Some("cpc".into()),
            utm_campaign: Some("=spring_sale".into()),
            utm_content: Some("video,1".into()),
            utm_term: Some("+shoes".into()),
            ..FirstTouch::default()
        });
        let mut b = lead("US.555");
        b.phone = Some("5511987654321".into());
        b.user_id = Some("US.555".into());
        b.stage = "won".into();
        b.last_inbound_at = Some(ts("2024-05-20T10:00:00Z"));
        let mut c = lead("6281234568");
        c.user_id = Some("US.777".into()); // keyed by phone although a BSUID is known
        c.profile_name = None;

        let text = export(&[a.clone(), b.clone(), c.clone()]);
        let o = parse_import(text.as_bytes(), &Lifecycle::default(), now());
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        assert_eq!(o.rows.len(), 3);
        for (row, lead) in o.rows.iter().zip([&a, &b, &c]) {
            assert_eq!(row.lead_id, lead.lead_id);
            assert_eq!(row.phone, lead.phone);
            assert_eq!(row.user_id, lead.user_id);
            assert_eq!(row.name, lead.profile_name);
            assert_eq!(row.stage.as_deref(), Some(lead.stage.as_str()));
            assert_eq!(row.owner, lead.owner);
            assert_eq!(row.tags, lead.tags);
            assert_eq!(row.first_touch, lead.first_touch);
            assert_eq!(row.opt_in, None);
        }
        // The multi-line name shifts physical lines: b starts on line 4.
        assert_eq!(o.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 5]);
    }
}
