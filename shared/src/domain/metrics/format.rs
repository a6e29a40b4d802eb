//! CSV cells: the [`CsvRow`] contract, formula-injection escaping and exact number
//! formatting (rates with 4 decimals, money from integer micro/basis units, ISO-8601 UTC).

use chrono::DateTime;

/// A report row: a fixed header and one cell per column, in header order.
pub trait CsvRow {
    fn header() -> &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

/// Renders rows as RFC 4180 CSV (UTF-8, CRLF, header row always), in memory.
#[cfg(feature = "csv")]
pub fn to_csv<R: CsvRow>(rows: &[R]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(R::header())?;
    for r in rows {
        w.write_record(r.cells())?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Neutralises spreadsheet formula injection: a cell starting with `=`, `+`, `-`, `@`, TAB or
/// CR gets a leading `'`. Applied to free-text cells (tags, titles, ids, utm values), never
/// to numbers.
pub fn safe_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// [`safe_cell`] of an optional text (empty when missing).
pub fn safe_opt(s: Option<&str>) -> String {
    s.map(safe_cell).unwrap_or_default()
}

/// `num / den` rounded half away from zero (`den` must be non-zero).
pub(crate) fn round_div(num: i128, den: i128) -> i128 {
    let (n, d) = if den < 0 { (-num, -den) } else { (num, den) };
    if n >= 0 {
        (2 * n + d) / (2 * d)
    } else {
        -((-2 * n + d) / (2 * d))
    }
}

/// `v / 10^scale` with exactly `scale` decimals.
pub(crate) fn fixed(v: i128, scale: u32) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{a}");
    }
    let p = 10u128.pow(scale);
    format!("{sign}{}.{:0width$}", a / p, a % p, width = scale as usize)
}

/// `v / 10^scale` exactly, trailing zeros (and a bare point) trimmed.
pub(crate) fn trimmed(v: i128, scale: u32) -> String {
    let s = fixed(v, scale);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A rate with exactly 4 decimals; empty when the denominator is 0 (or negative).
pub fn rate(num: i64, den: i64) -> String {
    if den <= 0 {
        return String::new();
    }
    fixed(round_div(i128::from(num) * 10_000, i128::from(den)), 4)
}

/// Money from micro units (× 10^6), printed exactly: `1.25`, `0.000001`, `3`.
pub fn money_e6(v: i64) -> String {
    trimmed(i128::from(v), 6)
}

/// Money from basis units (× 10^4), printed exactly.
pub fn money_e4(v: i64) -> String {
    trimmed(i128::from(v), 4)
}

/// ISO-8601 UTC with a `Z` (`2026-11-20T10:00:00Z`); empty when out of range.
pub fn iso_utc(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// [`iso_utc`] of an optional time.
pub fn opt_iso(ts: Option<i64>) -> String {
    ts.map(iso_utc).unwrap_or_default()
}

/// An optional integer; empty when missing (missing is never zero).
pub fn opt_int(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `true` / `false` / empty.
pub fn opt_bool(v: Option<bool>) -> String {
    v.map(|b| b.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_injection_is_escaped() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+1"), "'+1");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("\tx"), "'\tx");
        assert_eq!(safe_cell("\rx"), "'\rx");
        assert_eq!(safe_cell("welcome"), "welcome");
        assert_eq!(safe_cell(" =x"), " =x");
        assert_eq!(safe_cell(""), "");
        assert_eq!(safe_opt(None), "");
    }

    #[test]
    fn rates_have_four_decimals_and_empty_on_zero() {
        assert_eq!(rate(1, 3), "0.3333");
        assert_eq!(rate(2, 3), "0.6667");
        assert_eq!(rate(1, 1), "1.0000");
        assert_eq!(rate(0, 5), "0.0000");
        assert_eq!(rate(1, 8), "0.1250");
        assert_eq!(rate(1, 20_000), "0.0001"); // 0.00005 rounds half up
        assert_eq!(rate(3, 0), "");
        assert_eq!(rate(5, 4), "1.2500");
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(money_e6(1_250_000), "1.25");
        assert_eq!(money_e6(3_000_000), "3");
        assert_eq!(money_e6(1), "0.000001");
        assert_eq!(money_e6(0), "0");
        assert_eq!(money_e6(-1_500_000), "-1.5");
        assert_eq!(money_e4(1_999_900), "199.99");
        assert_eq!(money_e4(i64::MAX), "922337203685477.5807");
        assert_eq!(money_e6(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn times_and_options() {
        assert_eq!(iso_utc(1_795_168_800), "2026-11-20T10:00:00Z");
        assert_eq!(iso_utc(i64::MAX), "");
        assert_eq!(opt_iso(None), "");
        assert_eq!(opt_int(Some(-3)), "-3");
        assert_eq!(opt_bool(Some(false)), "false");
        assert_eq!(opt_bool(None), "");
    }

    #[test]
    fn round_div_halves_away_from_zero() {
        assert_eq!(round_div(5, 2), 3);
        assert_eq!(round_div(-5, 2), -3);
        assert_eq!(round_div(4, 3), 1);
        assert_eq!(round_div(7, -2), -4);
    }

    struct R(&'static str, i64);
    impl CsvRow for R {
        fn header() -> &'static [&'static str] {
            &["name", "n"]
        }
        fn cells(&self) -> Vec<String> {
            vec![safe_cell(self.0), self.1.to_string()]
        }
    }

    #[test]
    fn csv_is_crlf_quoted_and_has_header() {
        let out = to_csv(&[R("=a,b", 1), R("x\"y", -2)]).expect("csv");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(text, "name,n\r\n\"'=a,b\",1\r\n\"x\"\"y\",-2\r\n");
        let empty = to_csv::<R>(&[]).expect("csv");
        assert_eq!(empty, b"name,n\r\n");
    }
}
