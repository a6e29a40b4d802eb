//! Reading a lead import: the header, each row's cells, and the rules a row must meet.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::consent::ConsentSource;
use crate::domain::leads::{
    FirstTouch, Lifecycle, NO_OWNER, TIME_FORMATS, TimeInput, normalize_phone, normalize_tags,
};

/// Import columns besides `custom.<field>`.
const IMPORT_COLUMNS: &[&str] = &[
    "phone",
    "user_id",
    "lead_id",
    "name",
    "stage",
    "owner",
    "tags",
    "source_id",
    "source_type",
    "ctwa_clid",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "opt_in_categories",
    "opt_in_source",
    "opt_in_proof",
    "opt_in_at",
    "phone_number_id",
    "created_at",
    "last_inbound_at",
    "version",
];

/// Separators inside `tags` and `opt_in_categories` cells.
const LIST_SEPARATORS: [char; 2] = [';', '|'];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Known(&'static str),
    Custom(String),
}

/// A row's cells by column, cleaned.
#[derive(Default)]
struct Cells<'a> {
    known: HashMap<&'static str, &'a str>,
    custom: BTreeMap<String, String>,
}

impl<'a> Cells<'a> {
    fn get(&self, column: &str) -> Option<&'a str> {
        self.known.get(column).copied()
    }
}

/// Trimmed, with the export's anti-formula `'` removed; `None` when empty.
fn clean(raw: &str) -> Option<&str> {
    let v = raw.trim();
    let v = match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) => rest.trim(),
        _ => v,
    };
    (!v.is_empty()).then_some(v)
}

fn parse_header(fields: &[&str]) -> Result<Vec<Column>, Vec<String>> {
    let mut columns = Vec::with_capacity(fields.len());
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut seen: Vec<String> = Vec::with_capacity(fields.len());
    for (i, raw) in fields.iter().enumerate() {
        let name = raw.trim();
        let lower = name.to_ascii_lowercase();
        if name.is_empty() {
            problems.push(format!("column {} has no name", i + 1));
            continue;
        }
        if seen.contains(&lower) {
            problems.push(format!("column {name:?} appears twice"));
            continue;
        }
        seen.push(lower.clone());
        if lower.starts_with("custom.") {
            // ASCII lowercasing keeps byte offsets, so the prefix is 7 bytes in `name` too.
            let field = name["custom.".len()..].trim();
            if field.is_empty() {
                problems.push(format!(
                    "column {name:?} needs a field name after \"custom.\""
                ));
            } else if !crate::domain::leads::valid_field_name(field) {
                problems.push(format!(
                    "column {name:?}: a custom field name is 1 to 64 letters, digits, '_' or '-'"
                ));
            } else {
                columns.push(Column::Custom(field.to_owned()));
            }
        } else if let Some(known) = IMPORT_COLUMNS.iter().find(|c| **c == lower) {
            columns.push(Column::Known(known));
        } else {
            unknown.push(name.to_owned());
        }
    }
    let custom = columns
        .iter()
        .filter(|c| matches!(c, Column::Custom(_)))
        .count();
    if custom > crate::domain::leads::MAX_FIELDS {
        problems.push(format!(
            "{custom} custom.<field> columns; a lead has at most {} custom fields",
            crate::domain::leads::MAX_FIELDS
        ));
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "unknown column(s): {}; allowed: {}, custom.<field>",
            unknown.join(", "),
            IMPORT_COLUMNS.join(", ")
        ));
    }
    if !columns
        .iter()
        .any(|c| matches!(c, Column::Known("phone" | "user_id")))
    {
        problems.push("the header needs a phone or a user_id column".to_owned());
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

/// Physical line numbers from byte offsets. csv's `Position::line()` is where the reader stood
/// after the previous record, so it lags behind after CRLF endings and blank lines; the byte
/// offset is exact, and counting line breaks up to it gives the line.
struct LineCounter<'a> {
    data: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineCounter {
            data,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the first content at or after `byte`, skipping the line breaks and blank
    /// lines the reader skips before a record. Offsets only move forward.
    fn line_at(&mut self, byte: u64) -> u64 {
        let len = self.data.len();
        let mut start = usize::try_from(byte)
            .map_or(len, |b| b.min(len))
            .max(self.offset);
        while start < len && matches!(self.data[start], b'\r' | b'\n') {
            start += 1;
        }
        for i in self.offset..start {
            // \n, or a lone \r (old Mac files), ends a line; \r\n counts once.
            let ends_line = match self.data[i] {
                b'\n' => true,
                b'\r' => self.data.get(i + 1) != Some(&b'\n'),
                _ => false,
            };
            self.line += u64::from(ends_line);
        }
        self.offset = start;
        self.line
    }
}

/// Reads a lead import. Valid rows are kept even when other rows fail.
pub fn parse_import(bytes: &[u8], lifecycle: &Lifecycle, now: DateTime<Utc>) -> ImportOutcome {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let mut lines = LineCounter::new(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = ImportOutcome::default();
    let mut record = csv::ByteRecord::new();
    let mut header: Option<Vec<Column>> = None;
    // lead_id → line of the row that claimed it.
    let mut claimed: HashMap<String, u64> = HashMap::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                out.errors.push(RowError {
                    line,
                    message: format!("unreadable CSV: {e}"),
                });
                break;
            }
        }
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let Ok(fields) = record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
        else {
            let message = "not valid UTF-8 text (save the file as \"CSV UTF-8\")".to_owned();
            out.errors.push(RowError { line, message });
            if header.is_none() {
                return out;
            }
            continue;
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(columns) = &header else {
            match parse_header(&fields) {
                Ok(columns) => header = Some(columns),
                Err(problems) => {
                    out.errors.extend(
                        problems
                            .into_iter()
                            .map(|message| RowError { line, message }),
                    );
                    return out;
                }
            }
            continue;
        };
        if fields.len() != columns.len() {
            let message = format!(
                "has {} fields; the header has {}",
                fields.len(),
                columns.len()
            );
            out.errors.push(RowError { line, message });
            continue;
        }
        let mut cells = Cells::default();
        for (column, raw) in columns.iter().zip(&fields) {
            let Some(v) = clean(raw) else { continue };
            match column {
                Column::Known(name) => {
                    cells.known.insert(name, v);
                }
                Column::Custom(field) => {
                    cells.custom.insert(field.clone(), v.to_owned());
                }
            }
        }
        match build_row(line, cells, lifecycle, now) {
            Ok(row) => {
                if let Some(first) = claimed.get(&row.lead_id) {
                    let message =
                        format!("duplicate lead {:?}: already on line {first}", row.lead_id);
                    out.errors.push(RowError { line, message });
                } else {
                    claimed.insert(row.lead_id.clone(), line);
                    out.rows.push(row);
                }
            }
            Err(problems) => out.errors.extend(
                problems
                    .into_iter()
                    .map(|message| RowError { line, message }),
            ),
        }
    }
    if header.is_none() && out.errors.is_empty() {
        let message = "the file is empty: a header row is required".to_owned();
        out.errors.push(RowError { line: 1, message });
    }
    out
}

fn build_row(
    line: u64,
    cells: Cells<'_>,
    lifecycle: &Lifecycle,
    now: DateTime<Utc>,
) -> Result<ImportRow, Vec<String>> {
    let mut problems = Vec::new();
    let own = |column: &str| cells.get(column).map(str::to_owned);

    let phone = cells.get("phone").and_then(|p| {
        normalize_phone(p)
            .map_err(|e| problems.push(format!("phone {p:?}: {e}")))
            .ok()
    });
    let user_id = own("user_id");
    if let Some(id) = user_id
        .as_deref()
        .filter(|id| !crate::domain::identity::valid_id(id))
    {
        problems.push(format!(
            "user_id {id:?}: 1 to 160 letters, digits, '.', '_', ':' or '-'"
        ));
    }
    if cells.get("phone").is_none() && user_id.is_none() {
        problems.push("needs a phone or a user_id".to_owned());
    }
    let mut lead_id = user_id
        .clone()
        .or_else(|| phone.clone())
        .unwrap_or_default();
    if let Some(given) = cells.get("lead_id") {
        if user_id.as_deref() == Some(given) || phone.as_deref() == Some(given) {
            lead_id = given.to_owned();
        } else {
            problems.push(format!(
                "lead_id {given:?} is neither this row's user_id nor its phone"
            ));
        }
    }

    let stage = match cells.get("stage") {
        None => None,
        Some(s) => match lifecycle.canonical(s) {
            Some(stage) => Some(stage.to_owned()),
            None => {
                let stages = lifecycle.stages().join(", ");
                problems.push(format!(
                    "stage {s:?} is not a configured stage; stages: {stages}"
                ));
                None
            }
        },
    };
    let owner = own("owner");
    if let Some(o) = &owner
        && o.eq_ignore_ascii_case(NO_OWNER)
    {
        problems.push(format!(
            "owner {o:?} is reserved for \"no owner\"; leave the cell empty instead"
        ));
    }
    let tags = cells
        .get("tags")
        .map(|t| normalize_tags(t.split(LIST_SEPARATORS)))
        .unwrap_or_default();
    if let Err(e) = crate::domain::leads::check_tags(&tags) {
        problems.push(e);
    }
    if let Err(e) = crate::domain::leads::check_custom_fields(&cells.custom) {
        problems.push(e);
    }
    for (column, v) in &cells.known {
        let max = match *column {
            "opt_in_proof" => 2000,
            "tags" | "opt_in_categories" => usize::MAX,
            _ => crate::domain::leads::MAX_TEXT_CHARS,
        };
        if v.chars().count() > max {
            problems.push(format!("{column}: at most {max} characters"));
        }
    }

    let touch = FirstTouch {
        source_id: own("source_id"),
        source_type: own("source_type"),
        ctwa_clid: own("ctwa_clid"),
        utm_source: own("utm_source"),
        utm_medium: own("utm_medium"),
        utm_campaign: own("utm_campaign"),
        utm_content: own("utm_content"),
        utm_term: own("utm_term"),
        ..FirstTouch::default()
    };
    let first_touch = (touch != FirstTouch::default()).then_some(touch);

    let opt_in = parse_opt_in(&cells, now, &mut problems);

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ImportRow {
        line,
        lead_id,
        phone,
        user_id,
        name: own("name"),
        stage,
        owner,
        tags,
        first_touch,
        custom_fields: cells.custom,
        opt_in,
    })
}

/// The row's opt-in, or `None` (with `problems` filled when the opt-in columns are wrong).
fn parse_opt_in(
    cells: &Cells<'_>,
    now: DateTime<Utc>,
    problems: &mut Vec<String>,
) -> Option<OptIn> {
    let detail_columns = [
        "opt_in_source",
        "opt_in_proof",
        "opt_in_at",
        "phone_number_id",
    ];
    let Some(raw_categories) = cells.get("opt_in_categories") else {
        for column in detail_columns
            .into_iter()
            .filter(|c| cells.get(c).is_some())
        {
            problems.push(format!(
                "{column} is set but opt_in_categories is empty: an opt-in needs its categories"
            ));
        }
        return None;
    };
    let before = problems.len();

    let mut categories = Vec::new();
    for c in raw_categories
        .split(LIST_SEPARATORS)
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let lower = c.to_ascii_lowercase();
        if OPT_IN_CATEGORIES.contains(&lower.as_str()) {
            categories.push(lower);
        } else {
            problems.push(format!(
                "opt_in_categories: unknown category {c:?}; allowed: {}",
                OPT_IN_CATEGORIES.join(", ")
            ));
        }
    }
    let categories = normalize_tags(categories);
    if categories.is_empty() && problems.len() == before {
        problems.push(format!(
            "opt_in_categories {raw_categories:?} names no category"
        ));
    }

    let source = match cells.get("opt_in_source") {
        None => ConsentSource::Other,
        Some(s) => {
            ConsentSource::parse_lenient_in(s, &ConsentSource::IMPORTABLE).unwrap_or_else(|| {
                problems.push(format!(
                    "opt_in_source {s:?}: expected one of {}",
                    ConsentSource::list(&ConsentSource::IMPORTABLE)
                ));
                ConsentSource::Other
            })
        }
    };

    let proof = cells.get("opt_in_proof");
    if proof.is_none() {
        problems.push(
            "opt_in_proof is required with opt_in_categories (how and where the user agreed)"
                .to_owned(),
        );
    }

    let at = match cells.get("opt_in_at") {
        None => {
            problems.push("opt_in_at is required with opt_in_categories".to_owned());
            None
        }
        Some(v) => match TimeInput::parse(v).map(TimeInput::start) {
            None => {
                problems.push(format!("opt_in_at {v:?}: {TIME_FORMATS}"));
                None
            }
            Some(at) if at > now => {
                problems.push(format!("opt_in_at {v:?} is in the future"));
                None
            }
            Some(at) => Some(at),
        },
    };

    let phone_number_id = match cells.get("phone_number_id") {
        None => {
            problems.push("phone_number_id is required with opt_in_categories (the business number the opt-in is for)".to_owned());
            None
        }
        Some(id) if !id.bytes().all(|b| b.is_ascii_digit()) => {
            problems.push(format!(
                "phone_number_id {id:?}: expected Meta's numeric phone number id"
            ));
            None
        }
        Some(id) => Some(id.to_owned()),
    };

    if problems.len() > before {
        return None;
    }
    Some(OptIn {
        categories,
        source,
        proof: proof?.to_owned(),
        at: at?,
        phone_number_id: phone_number_id?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        ts("2024-06-01T12:00:00Z")
    }

    fn import(text: &str) -> ImportOutcome {
        parse_import(text.as_bytes(), &Lifecycle::default(), now())
    }

    fn errors(o: &ImportOutcome) -> Vec<(u64, &str)> {
        o.errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect()
    }

    #[test]
    fn good_and_bad_rows_with_bom_crlf_multiline_and_blank_lines() {
        let text = "\u{feff}Phone,user_id,NAME,stage,owner,tags,utm_campaign,custom.City\r\n\
            +62 812-3456-7890,,\"Dewi\r\nSari\",Qualified,alice,vip;b2b|vip,spring_sale,Jakarta\r\n\
            \r\n\
            6281234567,,Budi,closed,,,,\r\n\
            ,US.1234567890,Ana,,,,,\r\n\
            12,,X,,,,,\r\n\
            6281234567890,,Dup,,,,,\r\n\
            ,,,,,,,\r\n\
            5511987654321,,\"Carla \"\"C\"\"\",won,bob,,,\r\n";
        let o = import(text);
        assert_eq!(
            errors(&o),
            vec![
                (
                    5,
                    "stage \"closed\" is not a configured stage; stages: new, qualified, in_progress, won, lost"
                ),
                (7, "phone \"12\": must have 6 to 15 digits, has 2"),
                (8, "duplicate lead \"6281234567890\": already on line 2"),
            ]
        );
        let ids: Vec<(u64, &str)> = o
            .rows
            .iter()
            .map(|r| (r.line, r.lead_id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                (2, "6281234567890"),
                (6, "US.1234567890"),
                (10, "5511987654321")
            ]
        );

        let dewi = &o.rows[0];
        assert_eq!(dewi.phone.as_deref(), Some("6281234567890"));
        assert_eq!(dewi.user_id, None);
        assert_eq!(dewi.name.as_deref(), Some("Dewi\r\nSari"));
        assert_eq!(dewi.stage.as_deref(), Some("qualified"));
        assert_eq!(dewi.owner.as_deref(), Some("alice"));
        assert_eq!(dewi.tags, vec!["b2b", "vip"]);
        assert_eq!(
            dewi.first_touch.as_ref().unwrap().utm_campaign.as_deref(),
            Some("spring_sale")
        );
        assert_eq!(
            dewi.custom_fields,
            BTreeMap::from([("City".to_owned(), "Jakarta".to_owned())])
        );
        assert_eq!(dewi.opt_in, None);

        let ana = &o.rows[1];
        assert_eq!(ana.phone, None);
        assert_eq!(
            ana.stage, None,
            "an empty stage keeps the lead's (new leads: the initial)"
        );
        assert_eq!(ana.first_touch, None);
        assert!(ana.custom_fields.is_empty());
        assert_eq!(o.rows[2].name.as_deref(), Some("Carla \"C\""));
    }

    #[test]
    fn lf_only_and_user_id_wins_over_phone() {
        let o = import("user_id,phone\nUS.1,6281234567\n\nUS.2,\n");
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        assert_eq!(o.rows[0].lead_id, "US.1");
        assert_eq!(o.rows[0].phone.as_deref(), Some("6281234567"));
        assert_eq!((o.rows[1].line, o.rows[1].lead_id.as_str()), (4, "US.2"));
    }

    #[test]
    fn lone_cr_line_endings_count_as_lines() {
        let o = import("phone,name\r6281234567,Budi\r\r12,X\r6281234568,Ana");
        assert_eq!(
            errors(&o),
            vec![(4, "phone \"12\": must have 6 to 15 digits, has 2")]
        );
        assert_eq!(o.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5]);
    }

    #[test]
    fn formula_guard_is_removed_on_import_only_before_a_trigger() {
        let o = import("phone,name,owner,tags\n6281234567,'=SUM(A1),'hello,'-vip;'x\n");
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        assert_eq!(o.rows[0].name.as_deref(), Some("=SUM(A1)"));
        assert_eq!(o.rows[0].owner.as_deref(), Some("'hello"));
        assert_eq!(o.rows[0].tags, vec!["'x", "-vip"]);
    }

    #[test]
    fn unknown_columns_reject_the_whole_file() {
        let o = import("phone,nmae,Segment\n6281234567,Budi,x\n");
        assert!(o.rows.is_empty());
        assert_eq!(o.errors.len(), 1);
        assert_eq!(o.errors[0].line, 1);
        assert!(
            o.errors[0]
                .message
                .starts_with("unknown column(s): nmae, Segment; allowed: phone, user_id,"),
            "{}",
            o.errors[0].message
        );
    }

    #[test]
    fn header_problems() {
        let o = import("name,stage\nBudi,new\n");
        assert_eq!(
            errors(&o),
            vec![(1, "the header needs a phone or a user_id column")]
        );
        let o = import("phone,Phone\n1,2\n");
        assert_eq!(errors(&o), vec![(1, "column \"Phone\" appears twice")]);
        let o = import("phone,,custom.\n1,2,3\n");
        assert_eq!(
            errors(&o),
            vec![
                (1, "column 2 has no name"),
                (1, "column \"custom.\" needs a field name after \"custom.\"")
            ]
        );
        assert_eq!(
            errors(&import("")),
            vec![(1, "the file is empty: a header row is required")]
        );
        assert_eq!(
            errors(&import("\u{feff}\r\n\r\n")),
            vec![(1, "the file is empty: a header row is required")]
        );
        // Leading blank lines: the header is reported where it is.
        assert_eq!(
            errors(&import("\n\nname\n")),
            vec![(3, "the header needs a phone or a user_id column")]
        );
    }

    #[test]
    fn row_shape_and_identity_problems() {
        let long = format!("US.{}", "7".repeat(158));
        let o = import(&format!(
            "phone,user_id,name\n6281234567,,Budi,extra\n,,Nobody\n62812x4567,,Bad\n,US.a/b,Slash\n,{long},Long\n,US.{},Fits\n",
            "7".repeat(128)
        ));
        assert_eq!(
            errors(&o),
            vec![
                (2, "has 4 fields; the header has 3"),
                (3, "needs a phone or a user_id"),
                (
                    4,
                    "phone \"62812x4567\": unexpected character 'x'; use digits, an optional leading '+', spaces or dashes"
                ),
                (
                    5,
                    "user_id \"US.a/b\": 1 to 160 letters, digits, '.', '_', ':' or '-'"
                ),
                (
                    6,
                    &format!("user_id {long:?}: 1 to 160 letters, digits, '.', '_', ':' or '-'")
                ),
            ]
        );
        assert_eq!(o.rows.len(), 1, "a full-length BSUID is accepted");
    }

    #[test]
    fn non_utf8_row_is_reported_and_others_kept() {
        let mut bytes = b"phone,name\n6281234567,Budi\n6281234568,".to_vec();
        bytes.extend_from_slice(b"Jo\xe3o\n6281234569,Ana\n");
        let o = parse_import(&bytes, &Lifecycle::default(), now());
        assert_eq!(
            errors(&o),
            vec![(3, "not valid UTF-8 text (save the file as \"CSV UTF-8\")")]
        );
        assert_eq!(o.rows.len(), 2);
        assert_eq!(o.rows[1].line, 4);
    }

    #[test]
    fn owner_stage_lead_id_checks() {
        let o = import(
            "lead_id,phone,user_id,owner,stage\n6281234567,6281234567,US.9,,WON\nUS.8,6281234568,,,\n,6281234569,,None,\n",
        );
        assert_eq!(
            errors(&o),
            vec![
                (
                    3,
                    "lead_id \"US.8\" is neither this row's user_id nor its phone"
                ),
                (
                    4,
                    "owner \"None\" is reserved for \"no owner\"; leave the cell empty instead"
                ),
            ]
        );
        assert_eq!(o.rows.len(), 1);
        assert_eq!(
            o.rows[0].lead_id, "6281234567",
            "a lead_id column keeps a phone-keyed lead"
        );
        assert_eq!(o.rows[0].user_id.as_deref(), Some("US.9"));
        assert_eq!(o.rows[0].stage.as_deref(), Some("won"));
    }

    #[test]
    fn custom_lifecycle_stages() {
        let l = Lifecycle::from_config("lead,demo,closed!").unwrap();
        let o = parse_import(
            b"phone,stage\n6281234567,\n6281234568,demo\n6281234569,qualified\n",
            &l,
            now(),
        );
        assert_eq!(
            o.rows
                .iter()
                .map(|r| r.stage.as_deref())
                .collect::<Vec<_>>(),
            [None, Some("demo")]
        );
        assert_eq!(o.errors[0].line, 4);
    }

    #[test]
    fn first_touch_and_custom_fields() {
        let o = import(
            "phone,utm_source,utm_medium,utm_campaign,utm_content,utm_term,source_id,source_type,ctwa_clid,custom.budget,custom.city\n\
             6281234567,facebook,cpc,spring_sale,video1,shoes,120201234,ad,ARAk,5000,\n",
        );
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        let row = &o.rows[0];
        assert_eq!(
            row.first_touch,
            Some(FirstTouch {
                source_id: Some("120201234".into()),
                source_type: Some("ad".into()),
                ctwa_clid: Some("ARAk".into()),
                utm_source: Some("facebook".into()),
                utm_medium: Some("cpc".into()),
                utm_campaign: Some("spring_sale".into()),
                utm_content: Some("video1".into()),
                utm_term: Some("shoes".into()),
                ..FirstTouch::default()
            })
        );
        assert_eq!(
            row.custom_fields,
            BTreeMap::from([("budget".to_owned(), "5000".to_owned())])
        );
    }

    const OPT_IN_HEADER: &str =
        "phone,opt_in_categories,opt_in_source,opt_in_proof,opt_in_at,phone_number_id\n";

    #[test]
    fn valid_opt_ins() {
        let o = import(&format!(
            "{OPT_IN_HEADER}6281234567,Utility;marketing|utility,QR,Signed up at booth 4,2024-05-01,1029384756\n\
             6281234568,marketing,,web form /join,2024-06-01T11:59:59Z,1029384756\n"
        ));
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        assert_eq!(
            o.rows[0].opt_in,
            Some(OptIn {
                categories: vec!["marketing".into(), "utility".into()],
                source: ConsentSource::Qr,
                proof: "Signed up at booth 4".into(),
                at: ts("2024-05-01T00:00:00Z"),
                phone_number_id: "1029384756".into(),
            })
        );
        let second = o.rows[1].opt_in.as_ref().unwrap();
        assert_eq!(
            second.source,
            ConsentSource::Other,
            "an empty opt_in_source is other"
        );
        assert_eq!(second.at, ts("2024-06-01T11:59:59Z"));
    }

    #[test]
    fn invalid_opt_ins_name_the_column() {
        let o = import(&format!(
            "{OPT_IN_HEADER}6281234561,marketing,web_form,,2024-05-01,1029384756\n\
             6281234562,marketing,web_form,form,2024-06-01T12:00:01Z,1029384756\n\
             6281234563,marketing,email,form,2024-05-01,1029384756\n\
             6281234564,marketing;promo,web_form,form,2024-05-01,1029384756\n\
             6281234565,marketing,web_form,form,,\n\
             6281234566,,web_form,form,2024-05-01,1029384756\n\
             6281234567,marketing,web_form,form,05/01/2024,pn-1\n\
             6281234568,;,web_form,form,2024-05-01,1029384756\n"
        ));
        assert!(o.rows.is_empty());
        assert_eq!(
            errors(&o),
            vec![
                (
                    2,
                    "opt_in_proof is required with opt_in_categories (how and where the user agreed)"
                ),
                (3, "opt_in_at \"2024-06-01T12:00:01Z\" is in the future"),
                (
                    4,
                    "opt_in_source \"email\": expected one of web_form, qr, in_app, sms, store, other"
                ),
                (
                    5,
                    "opt_in_categories: unknown category \"promo\"; allowed: marketing, utility"
                ),
                (6, "opt_in_at is required with opt_in_categories"),
                (
                    6,
                    "phone_number_id is required with opt_in_categories (the business number the opt-in is for)"
                ),
                (
                    7,
                    "opt_in_source is set but opt_in_categories is empty: an opt-in needs its categories"
                ),
                (
                    7,
                    "opt_in_proof is set but opt_in_categories is empty: an opt-in needs its categories"
                ),
                (
                    7,
                    "opt_in_at is set but opt_in_categories is empty: an opt-in needs its categories"
                ),
                (
                    7,
                    "phone_number_id is set but opt_in_categories is empty: an opt-in needs its categories"
                ),
                (
                    8,
                    "opt_in_at \"05/01/2024\": expected RFC 3339 (e.g. 2024-05-01T09:30:00Z) or YYYY-MM-DD"
                ),
                (
                    8,
                    "phone_number_id \"pn-1\": expected Meta's numeric phone number id"
                ),
                (9, "opt_in_categories \";\" names no category"),
            ]
        );
    }
}
