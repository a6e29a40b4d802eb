//! The page's locale: number, percentage, money and duration formatting, and the translated
//! headings and labels (English, Indonesian, Brazilian Portuguese). Dates stay `YYYY-MM-DD`
//! in every locale (they are the reports' period labels).
//!
//! Every number is formatted from exact integers (scaled units); no float enters a printed
//! value. Rounding is half away from zero, as in the CSVs.

use serde::{Deserialize, Serialize};

/// A supported page locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Locale {
    /// English: `1,234.5`.
    #[default]
    En,
    /// Indonesian: `1.234,5`.
    Id,
    /// Brazilian Portuguese: `1.234,5`.
    PtBr,
}

impl Locale {
    /// Parses the API spelling `en`, `id` or `pt-BR` (case-insensitive; `pt_BR` too).
    pub fn parse(s: &str) -> Option<Locale> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "en" => Some(Locale::En),
            "id" => Some(Locale::Id),
            "pt-br" => Some(Locale::PtBr),
            _ => None,
        }
    }

    /// The BCP 47 tag for `<html lang>`: `en`, `id`, `pt-BR`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Id => "id",
            Locale::PtBr => "pt-BR",
        }
    }

    /// (thousands separator, decimal separator).
    fn separators(self) -> (char, char) {
        match self {
            Locale::En => (',', '.'),
            Locale::Id | Locale::PtBr => ('.', ','),
        }
    }

    /// An integer with thousands separators: `-1,234,567` / `-1.234.567`.
    pub fn int(self, v: i128) -> String {
        let digits = v.unsigned_abs().to_string();
        let sign = if v < 0 { "-" } else { "" };
        format!("{sign}{}", group(&digits, self.separators().0))
    }

    /// `v / 10^scale` with exactly `scale` decimals.
    pub fn fixed(self, v: i128, scale: u32) -> String {
        self.decimal(v, scale, scale)
    }

    /// `v / 10^scale` exactly, with trailing zeros trimmed down to `min_frac` decimals.
    pub fn decimal(self, v: i128, scale: u32, min_frac: u32) -> String {
        let (thousands, point) = self.separators();
        let sign = if v < 0 { "-" } else { "" };
        let a = v.unsigned_abs();
        let p = 10u128.pow(scale.min(30));
        let whole = group(&(a / p).to_string(), thousands);
        if scale == 0 {
            return format!("{sign}{whole}");
        }
        let mut frac = format!("{:0width$}", a % p, width = scale as usize);
        while frac.len() > min_frac as usize && frac.ends_with('0') {
            frac.pop();
        }
        if frac.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}{point}{frac}")
        }
    }

    /// `num / den` as a percentage with one decimal (`97.5%`, `97,5%`); `None` when
    /// `den <= 0`.
    pub fn percent(self, num: i128, den: i128) -> Option<String> {
        (den > 0).then(|| format!("{}%", self.fixed(round_div(num * 1000, den), 1)))
    }

    /// Money from micro units (× 10^6): exact, at least two decimals (`1,875.00`,
    /// `0.0125`).
    pub fn money_e6(self, v: i64) -> String {
        self.decimal(i128::from(v), 6, 2)
    }

    /// Money from basis units (× 10^4): exact, at least two decimals.
    pub fn money_e4(self, v: i64) -> String {
        self.decimal(i128::from(v), 4, 2)
    }

    /// A duration given in half seconds (a median × 2): seconds below a minute, minutes
    /// below an hour, else hours, with at most one decimal (`4.5 s`, `12.5 min`, `2 h`).
    pub fn duration_x2(self, x2: i128) -> String {
        let t = self.text();
        let (tenths, unit) = if x2.abs() < 120 {
            (x2 * 5, t.unit_s)
        } else if x2.abs() < 7_200 {
            (round_div(x2 * 10, 120), t.unit_min)
        } else {
            (round_div(x2 * 10, 7_200), t.unit_h)
        };
        format!("{} {unit}", self.decimal(tenths, 1, 0))
    }

    /// A duration in whole seconds (see [`Locale::duration_x2`]).
    pub fn duration_s(self, s: i64) -> String {
        self.duration_x2(i128::from(s) * 2)
    }

    /// The translated texts.
    pub fn text(self) -> &'static Text {
        match self {
            Locale::En => &EN,
            Locale::Id => &ID,
            Locale::PtBr => &PT_BR,
        }
    }
}

/// Groups the digits of a non-negative decimal string by three.
fn group(digits: &str, sep: char) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// `num / den` rounded half away from zero (`den` must be non-zero; 0 when it is).
pub(crate) fn round_div(num: i128, den: i128) -> i128 {
    if den == 0 {
        return 0;
    }
    let (n, d) = if den < 0 { (-num, -den) } else { (num, den) };
    if n >= 0 {
        (2 * n + d) / (2 * d)
    } else {
        -((-2 * n + d) / (2 * d))
    }
}

/// Every text of the page in one language. Short on purpose: headings, labels, notes.
#[derive(Debug)]
pub struct Text {
    pub title: &'static str,
    pub period: &'static str,
    pub time_zone: &'static str,
    pub grouped_by: &'static str,
    pub group_day: &'static str,
    pub group_week: &'static str,
    pub group_month: &'static str,
    pub group_none: &'static str,
    pub phone_number: &'static str,
    pub previous_period: &'static str,
    pub contents: &'static str,
    pub download_csv: &'static str,
    pub show_table: &'static str,
    pub chart_desc: &'static str,
    pub no_data: &'static str,
    pub no_data_short: &'static str,
    pub missing_legend: &'static str,
    pub unit_s: &'static str,
    pub unit_min: &'static str,
    pub unit_h: &'static str,
    pub pp: &'static str,
    pub footer: &'static str,
    // Headline
    pub h_headline: &'static str,
    pub metric: &'static str,
    pub this_period: &'static str,
    pub change: &'static str,
    pub sent: &'static str,
    pub delivery_rate: &'static str,
    pub read_rate: &'static str,
    pub paid_messages: &'static str,
    pub spend: &'static str,
    pub new_leads: &'static str,
    pub conversions: &'static str,
    pub median_response: &'static str,
    pub no_previous: &'static str,
    pub cost_missing: &'static str,
    pub pricing_not_pulled_short: &'static str,
    // Spend
    pub h_spend: &'static str,
    pub pricing_not_pulled: &'static str,
    pub pricing_not_pulled_for: &'static str,
    pub pricing_days_missing: &'static str,
    pub spend_volume_chart: &'static str,
    pub spend_cost_chart: &'static str,
    pub spend_cost_partial: &'static str,
    pub spend_currency_note: &'static str,
    pub paid: &'static str,
    pub free: &'static str,
    pub other_pricing: &'static str,
    pub messages: &'static str,
    pub cost: &'static str,
    pub no_category: &'static str,
    // Volume
    pub h_volume: &'static str,
    pub volume_chart: &'static str,
    pub conversions_chart: &'static str,
    pub inbound: &'static str,
    pub outbound: &'static str,
    pub spike: &'static str,
    pub spike_note: &'static str,
    pub spike_days: &'static str,
    pub periods: &'static str,
    // Templates
    pub h_templates: &'static str,
    pub funnel_chart: &'static str,
    pub stage: &'static str,
    pub delivered: &'static str,
    pub read: &'static str,
    pub clicked: &'static str,
    pub replied: &'static str,
    pub webhook: &'static str,
    pub meta: &'static str,
    pub rate: &'static str,
    pub rate_note: &'static str,
    pub template: &'static str,
    pub cost_per_delivered: &'static str,
    pub cost_per_url_click: &'static str,
    pub clicks_unavailable: &'static str,
    pub template_analytics_not_pulled: &'static str,
    pub no_templates: &'static str,
    pub per_template: &'static str,
    // Response times
    pub h_response: &'static str,
    pub responder: &'static str,
    pub responder_any: &'static str,
    pub bot: &'static str,
    pub human: &'static str,
    pub responses: &'static str,
    pub median: &'static str,
    pub p90: &'static str,
    pub over_sla: &'static str,
    pub outliers: &'static str,
    pub sla: &'static str,
    pub histogram_chart: &'static str,
    pub wait: &'static str,
    pub no_responses: &'static str,
    // Failures
    pub h_failures: &'static str,
    pub failures_chart: &'static str,
    pub error_code: &'static str,
    pub error_title: &'static str,
    pub failed: &'static str,
    pub no_code: &'static str,
    pub limited_by_meta: &'static str,
    pub limited_note: &'static str,
    pub stopped_marketing: &'static str,
    pub other_errors: &'static str,
    pub opt_outs_consent: &'static str,
    pub no_failures: &'static str,
    pub chart_first_n: &'static str,
    // Campaigns
    pub h_campaigns: &'static str,
    pub campaigns_chart: &'static str,
    pub campaign: &'static str,
    pub leads: &'static str,
    pub converted_leads: &'static str,
    pub conversion_rate: &'static str,
    pub value: &'static str,
    pub mixed_currencies: &'static str,
    pub no_campaign: &'static str,
    pub no_leads: &'static str,
    // Consent
    pub h_consent: &'static str,
    pub consent_chart: &'static str,
    pub opt_in: &'static str,
    pub opt_out: &'static str,
    pub resume: &'static str,
    pub src_keyword: &'static str,
    pub src_user_preferences: &'static str,
    pub src_api: &'static str,
    pub src_import: &'static str,
    pub events: &'static str,
    pub no_consent: &'static str,
    // Reconciliation
    pub h_reconciliation: &'static str,
    pub reconciliation_chart: &'static str,
    pub messaging_not_pulled: &'static str,
    pub messaging_not_pulled_for: &'static str,
    pub disagrees: &'static str,
    pub disagree_days: &'static str,
    pub all_agree: &'static str,
    pub difference: &'static str,
    pub paid_volume: &'static str,
    pub waba: &'static str,
    pub no_messages: &'static str,
    pub meta_day_note: &'static str,
}

/// English.
pub static EN: Text = Text {
    title: "WhatsApp summary",
    period: "Period",
    time_zone: "Time zone",
    grouped_by: "Grouped by",
    group_day: "day",
    group_week: "week (from Monday)",
    group_month: "month",
    group_none: "whole period",
    phone_number: "Business number",
    previous_period: "Previous period",
    contents: "Contents",
    download_csv: "Download CSV",
    show_table: "Show as a table",
    chart_desc: "Chart; the same numbers are in the table that follows.",
    no_data: "no data",
    no_data_short: "n/a",
    missing_legend: "— = no data (never drawn as zero)",
    unit_s: "s",
    unit_min: "min",
    unit_h: "h",
    pp: "pp",
    footer: "Figures come from the same rules as the CSV reports.",
    h_headline: "Headline numbers",
    metric: "Metric",
    this_period: "This period",
    change: "Change",
    sent: "Sent",
    delivery_rate: "Delivery rate",
    read_rate: "Read rate",
    paid_messages: "Paid messages",
    spend: "Spend",
    new_leads: "New leads",
    conversions: "Conversions",
    median_response: "Median response time",
    no_previous: "No previous period to compare with.",
    cost_missing: "Meta did not return the cost of {n} of {m} pricing rows",
    pricing_not_pulled_short: "Pricing not pulled",
    h_spend: "Spend over time",
    pricing_not_pulled: "Meta's pricing data has not been pulled for this period.",
    pricing_not_pulled_for: "Meta's pricing data has not been pulled for: {list}.",
    pricing_days_missing: "Pricing not pulled for {n} of {m} days",
    spend_volume_chart: "Billed messages per period, paid vs free, by category",
    spend_cost_chart: "Cost per period by category",
    spend_cost_partial: "Meta did not return every cost: those bars are left out, not drawn as zero.",
    spend_currency_note: "Costs are in the account's billing currency.",
    paid: "paid",
    free: "free",
    other_pricing: "other",
    messages: "Messages",
    cost: "Cost",
    no_category: "(no category)",
    h_volume: "Volume per day",
    volume_chart: "Inbound and outbound messages",
    conversions_chart: "New leads and conversions",
    inbound: "Inbound",
    outbound: "Outbound",
    spike: "spike",
    spike_note: "▲ marks a spike: a day above its trailing 7-day mean + 3σ.",
    spike_days: "Spike days",
    periods: "Period",
    h_templates: "Template funnel",
    funnel_chart: "Sent → delivered → read → clicked → replied",
    stage: "Step",
    delivered: "Delivered",
    read: "Read",
    clicked: "Clicked",
    replied: "Replied",
    webhook: "Webhook",
    meta: "Meta",
    rate: "Rate",
    rate_note: "Rates: delivered ÷ sent; read, clicked and replied ÷ delivered.",
    template: "Template",
    cost_per_delivered: "Cost per delivered",
    cost_per_url_click: "Cost per URL click",
    clicks_unavailable: "Meta does not report clicks in this region.",
    template_analytics_not_pulled: "Meta's template analytics have not been pulled for this period.",
    no_templates: "No template messages in this period.",
    per_template: "Per template",
    h_response: "Response times",
    responder: "Responder",
    responder_any: "Anyone",
    bot: "Bot",
    human: "Human",
    responses: "Responses",
    median: "Median",
    p90: "p90",
    over_sla: "Over SLA",
    outliers: "Outliers",
    sla: "SLA",
    histogram_chart: "Distribution of waits, bot vs human",
    wait: "Wait",
    no_responses: "No responses measured in this period.",
    h_failures: "Failures by error code",
    failures_chart: "Failed messages by error code",
    error_code: "Error code",
    error_title: "Error",
    failed: "Failed",
    no_code: "(no code)",
    limited_by_meta: "Limited by Meta (131049)",
    limited_note: "Meta held back marketing messages to keep engagement healthy; these people did not opt out.",
    stopped_marketing: "Stopped marketing messages (131050)",
    other_errors: "Other errors",
    opt_outs_consent: "Opt-outs recorded (consent)",
    no_failures: "No failed messages in this period.",
    chart_first_n: "The chart shows the first {n}; the table has all.",
    h_campaigns: "Campaigns",
    campaigns_chart: "Leads → converted leads → conversions",
    campaign: "Campaign",
    leads: "Leads",
    converted_leads: "Converted leads",
    conversion_rate: "Conversion rate",
    value: "Value",
    mixed_currencies: "mixed currencies",
    no_campaign: "(no campaign)",
    no_leads: "No leads created in this period.",
    h_consent: "Consent",
    consent_chart: "Opt-ins vs opt-outs by source",
    opt_in: "opt-in",
    opt_out: "opt-out",
    resume: "resume",
    src_keyword: "keyword",
    src_user_preferences: "WhatsApp setting",
    src_api: "API",
    src_import: "import",
    events: "Events",
    no_consent: "No consent changes in this period.",
    h_reconciliation: "Reconciliation",
    reconciliation_chart: "Sent: webhook vs Meta",
    messaging_not_pulled: "Meta's messaging analytics have not been pulled for this period.",
    messaging_not_pulled_for: "Meta's messaging analytics have not been pulled for: {list}.",
    disagrees: "disagrees",
    disagree_days: "Periods where the sources disagree",
    all_agree: "Webhook and Meta agree on every period Meta reported.",
    difference: "Difference",
    paid_volume: "Paid",
    waba: "WABA",
    no_messages: "No messages in this period.",
    meta_day_note: "Meta counts by UTC day; the webhook side uses the report's time zone.",
};

/// Indonesian.
pub static ID: Text = Text {
    title: "Ringkasan WhatsApp",
    period: "Periode",
    time_zone: "Zona waktu",
    grouped_by: "Dikelompokkan per",
    group_day: "hari",
    group_week: "minggu (mulai Senin)",
    group_month: "bulan",
    group_none: "seluruh periode",
    phone_number: "Nomor bisnis",
    previous_period: "Periode sebelumnya",
    contents: "Isi",
    download_csv: "Unduh CSV",
    show_table: "Tampilkan sebagai tabel",
    chart_desc: "Grafik; angka yang sama ada di tabel berikutnya.",
    no_data: "tidak ada data",
    no_data_short: "t/a",
    missing_legend: "— = tidak ada data (tidak pernah digambar sebagai nol)",
    unit_s: "dtk",
    unit_min: "mnt",
    unit_h: "jam",
    pp: "poin",
    footer: "Angka dihitung dengan aturan yang sama seperti laporan CSV.",
    h_headline: "Angka utama",
    metric: "Metrik",
    this_period: "Periode ini",
    change: "Perubahan",
    sent: "Terkirim",
    delivery_rate: "Tingkat terkirim",
    read_rate: "Tingkat dibaca",
    paid_messages: "Pesan berbayar",
    spend: "Biaya",
    new_leads: "Prospek baru",
    conversions: "Konversi",
    median_response: "Median waktu respons",
    no_previous: "Tidak ada periode sebelumnya untuk dibandingkan.",
    cost_missing: "Meta tidak mengirim biaya untuk {n} dari {m} baris harga",
    pricing_not_pulled_short: "Data harga belum diambil",
    h_spend: "Biaya dari waktu ke waktu",
    pricing_not_pulled: "Data harga Meta untuk periode ini belum diambil.",
    pricing_not_pulled_for: "Data harga Meta belum diambil untuk: {list}.",
    pricing_days_missing: "Data harga belum diambil untuk {n} dari {m} hari",
    spend_volume_chart: "Pesan yang ditagih per periode, berbayar vs gratis, per kategori",
    spend_cost_chart: "Biaya per periode per kategori",
    spend_cost_partial: "Meta tidak mengirim semua biaya: batang itu dihilangkan, bukan digambar sebagai nol.",
    spend_currency_note: "Biaya dalam mata uang penagihan akun.",
    paid: "berbayar",
    free: "gratis",
    other_pricing: "lainnya",
    messages: "Pesan",
    cost: "Biaya",
    no_category: "(tanpa kategori)",
    h_volume: "Volume per hari",
    volume_chart: "Pesan masuk dan keluar",
    conversions_chart: "Prospek baru dan konversi",
    inbound: "Masuk",
    outbound: "Keluar",
    spike: "lonjakan",
    spike_note: "▲ menandai lonjakan: hari di atas rata-rata 7 hari sebelumnya + 3σ.",
    spike_days: "Hari lonjakan",
    periods: "Periode",
    h_templates: "Corong template",
    funnel_chart: "Terkirim → diterima → dibaca → diklik → dibalas",
    stage: "Tahap",
    delivered: "Diterima",
    read: "Dibaca",
    clicked: "Diklik",
    replied: "Dibalas",
    webhook: "Webhook",
    meta: "Meta",
    rate: "Tingkat",
    rate_note: "Tingkat: diterima ÷ terkirim; dibaca, diklik dan dibalas ÷ diterima.",
    template: "Template",
    cost_per_delivered: "Biaya per pesan diterima",
    cost_per_url_click: "Biaya per klik URL",
    clicks_unavailable: "Meta tidak melaporkan klik di wilayah ini.",
    template_analytics_not_pulled: "Analitik template Meta untuk periode ini belum diambil.",
    no_templates: "Tidak ada pesan template pada periode ini.",
    per_template: "Per template",
    h_response: "Waktu respons",
    responder: "Penjawab",
    responder_any: "Siapa saja",
    bot: "Bot",
    human: "Manusia",
    responses: "Respons",
    median: "Median",
    p90: "p90",
    over_sla: "Melewati SLA",
    outliers: "Pencilan",
    sla: "SLA",
    histogram_chart: "Sebaran waktu tunggu, bot vs manusia",
    wait: "Waktu tunggu",
    no_responses: "Tidak ada respons yang terukur pada periode ini.",
    h_failures: "Kegagalan per kode galat",
    failures_chart: "Pesan gagal per kode galat",
    error_code: "Kode galat",
    error_title: "Galat",
    failed: "Gagal",
    no_code: "(tanpa kode)",
    limited_by_meta: "Dibatasi oleh Meta (131049)",
    limited_note: "Meta menahan pesan pemasaran demi menjaga keterlibatan; orang-orang ini tidak berhenti berlangganan.",
    stopped_marketing: "Berhenti menerima pemasaran (131050)",
    other_errors: "Galat lain",
    opt_outs_consent: "Berhenti berlangganan tercatat (persetujuan)",
    no_failures: "Tidak ada pesan gagal pada periode ini.",
    chart_first_n: "Grafik menampilkan {n} pertama; tabel memuat semuanya.",
    h_campaigns: "Kampanye",
    campaigns_chart: "Prospek → prospek terkonversi → konversi",
    campaign: "Kampanye",
    leads: "Prospek",
    converted_leads: "Prospek terkonversi",
    conversion_rate: "Tingkat konversi",
    value: "Nilai",
    mixed_currencies: "mata uang campuran",
    no_campaign: "(tanpa kampanye)",
    no_leads: "Tidak ada prospek baru pada periode ini.",
    h_consent: "Persetujuan",
    consent_chart: "Berlangganan vs berhenti per sumber",
    opt_in: "berlangganan",
    opt_out: "berhenti",
    resume: "lanjutkan",
    src_keyword: "kata kunci",
    src_user_preferences: "pengaturan WhatsApp",
    src_api: "API",
    src_import: "impor",
    events: "Kejadian",
    no_consent: "Tidak ada perubahan persetujuan pada periode ini.",
    h_reconciliation: "Rekonsiliasi",
    reconciliation_chart: "Terkirim: webhook vs Meta",
    messaging_not_pulled: "Analitik pesan Meta untuk periode ini belum diambil.",
    messaging_not_pulled_for: "Analitik pesan Meta belum diambil untuk: {list}.",
    disagrees: "berbeda",
    disagree_days: "Periode dengan angka yang berbeda",
    all_agree: "Webhook dan Meta cocok di setiap periode yang dilaporkan Meta.",
    difference: "Selisih",
    paid_volume: "Berbayar",
    waba: "WABA",
    no_messages: "Tidak ada pesan pada periode ini.",
    meta_day_note: "Meta menghitung per hari UTC; sisi webhook memakai zona waktu laporan.",
};

/// Brazilian Portuguese.
pub static PT_BR: Text = Text {
    title: "Resumo do WhatsApp",
    period: "Período",
    time_zone: "Fuso horário",
    grouped_by: "Agrupado por",
    group_day: "dia",
    group_week: "semana (a partir de segunda)",
    group_month: "mês",
    group_none: "período inteiro",
    phone_number: "Número comercial",
    previous_period: "Período anterior",
    contents: "Conteúdo",
    download_csv: "Baixar CSV",
    show_table: "Mostrar como tabela",
    chart_desc: "Gráfico; os mesmos números estão na tabela a seguir.",
    no_data: "sem dados",
    no_data_short: "n/d",
    missing_legend: "— = sem dados (nunca desenhado como zero)",
    unit_s: "s",
    unit_min: "min",
    unit_h: "h",
    pp: "p.p.",
    footer: "Os números seguem as mesmas regras dos relatórios CSV.",
    h_headline: "Números principais",
    metric: "Métrica",
    this_period: "Este período",
    change: "Variação",
    sent: "Enviadas",
    delivery_rate: "Taxa de entrega",
    read_rate: "Taxa de leitura",
    paid_messages: "Mensagens pagas",
    spend: "Gastos",
    new_leads: "Novos leads",
    conversions: "Conversões",
    median_response: "Tempo mediano de resposta",
    no_previous: "Sem período anterior para comparar.",
    cost_missing: "A Meta não informou o custo de {n} de {m} linhas de preço",
    pricing_not_pulled_short: "Preços não obtidos",
    h_spend: "Gastos ao longo do tempo",
    pricing_not_pulled: "Os dados de preços da Meta para este período ainda não foram obtidos.",
    pricing_not_pulled_for: "Os dados de preços da Meta ainda não foram obtidos para: {list}.",
    pricing_days_missing: "Preços não obtidos para {n} de {m} dias",
    spend_volume_chart: "Mensagens cobradas por período, pagas vs gratuitas, por categoria",
    spend_cost_chart: "Custo por período e categoria",
    spend_cost_partial: "A Meta não informou todos os custos: essas barras foram omitidas, não desenhadas como zero.",
    spend_currency_note: "Custos na moeda de cobrança da conta.",
    paid: "paga",
    free: "gratuita",
    other_pricing: "outra",
    messages: "Mensagens",
    cost: "Custo",
    no_category: "(sem categoria)",
    h_volume: "Volume por dia",
    volume_chart: "Mensagens recebidas e enviadas",
    conversions_chart: "Novos leads e conversões",
    inbound: "Recebidas",
    outbound: "Enviadas",
    spike: "pico",
    spike_note: "▲ marca um pico: dia acima da média dos 7 dias anteriores + 3σ.",
    spike_days: "Dias de pico",
    periods: "Período",
    h_templates: "Funil de modelos",
    funnel_chart: "Enviadas → entregues → lidas → clicadas → respondidas",
    stage: "Etapa",
    delivered: "Entregues",
    read: "Lidas",
    clicked: "Clicadas",
    replied: "Respondidas",
    webhook: "Webhook",
    meta: "Meta",
    rate: "Taxa",
    rate_note: "Taxas: entregues ÷ enviadas; lidas, clicadas e respondidas ÷ entregues.",
    template: "Modelo",
    cost_per_delivered: "Custo por entregue",
    cost_per_url_click: "Custo por clique no URL",
    clicks_unavailable: "A Meta não informa cliques nesta região.",
    template_analytics_not_pulled: "As análises de modelos da Meta para este período ainda não foram obtidas.",
    no_templates: "Nenhuma mensagem de modelo neste período.",
    per_template: "Por modelo",
    h_response: "Tempos de resposta",
    responder: "Quem respondeu",
    responder_any: "Qualquer um",
    bot: "Bot",
    human: "Humano",
    responses: "Respostas",
    median: "Mediana",
    p90: "p90",
    over_sla: "Acima do SLA",
    outliers: "Valores atípicos",
    sla: "SLA",
    histogram_chart: "Distribuição das esperas, bot vs humano",
    wait: "Espera",
    no_responses: "Nenhuma resposta medida neste período.",
    h_failures: "Falhas por código de erro",
    failures_chart: "Mensagens com falha por código de erro",
    error_code: "Código de erro",
    error_title: "Erro",
    failed: "Falhas",
    no_code: "(sem código)",
    limited_by_meta: "Limitadas pela Meta (131049)",
    limited_note: "A Meta reteve mensagens de marketing para preservar o engajamento; essas pessoas não cancelaram.",
    stopped_marketing: "Pararam de receber marketing (131050)",
    other_errors: "Outros erros",
    opt_outs_consent: "Cancelamentos registrados (consentimento)",
    no_failures: "Nenhuma mensagem com falha neste período.",
    chart_first_n: "O gráfico mostra os {n} primeiros; a tabela tem todos.",
    h_campaigns: "Campanhas",
    campaigns_chart: "Leads → leads convertidos → conversões",
    campaign: "Campanha",
    leads: "Leads",
    converted_leads: "Leads convertidos",
    conversion_rate: "Taxa de conversão",
    value: "Valor",
    mixed_currencies: "moedas diferentes",
    no_campaign: "(sem campanha)",
    no_leads: "Nenhum lead criado neste período.",
    h_consent: "Consentimento",
    consent_chart: "Inscrições vs cancelamentos por origem",
    opt_in: "inscrição",
    opt_out: "cancelamento",
    resume: "retomada",
    src_keyword: "palavra-chave",
    src_user_preferences: "configuração do WhatsApp",
    src_api: "API",
    src_import: "importação",
    events: "Eventos",
    no_consent: "Nenhuma mudança de consentimento neste período.",
    h_reconciliation: "Conciliação",
    reconciliation_chart: "Enviadas: webhook vs Meta",
    messaging_not_pulled: "As análises de mensagens da Meta para este período ainda não foram obtidas.",
    messaging_not_pulled_for: "As análises de mensagens da Meta ainda não foram obtidas para: {list}.",
    disagrees: "diverge",
    disagree_days: "Períodos em que as fontes divergem",
    all_agree: "Webhook e Meta coincidem em todos os períodos informados pela Meta.",
    difference: "Diferença",
    paid_volume: "Pagas",
    waba: "WABA",
    no_messages: "Nenhuma mensagem neste período.",
    meta_day_note: "A Meta conta por dia UTC; o lado do webhook usa o fuso horário do relatório.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_tag() {
        assert_eq!(Locale::parse("en"), Some(Locale::En));
        assert_eq!(Locale::parse("id"), Some(Locale::Id));
        assert_eq!(Locale::parse("pt-BR"), Some(Locale::PtBr));
        assert_eq!(Locale::parse("pt_br"), Some(Locale::PtBr));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
        for l in [Locale::En, Locale::Id, Locale::PtBr] {
            assert_eq!(Locale::parse(l.tag()), Some(l));
        }
    }

    #[test]
    fn numbers_per_locale() {
        // GIVEN 1234.5 as tenths, WHEN formatted, THEN each locale's separators.
        assert_eq!(Locale::En.fixed(12_345, 1), "1,234.5");
        assert_eq!(Locale::Id.fixed(12_345, 1), "1.234,5");
        assert_eq!(Locale::PtBr.fixed(12_345, 1), "1.234,5");
        assert_eq!(Locale::En.int(-1_234_567), "-1,234,567");
        assert_eq!(Locale::Id.int(999), "999");
        assert_eq!(Locale::En.int(1000), "1,000");
        assert_eq!(Locale::En.int(0), "0");
        assert_eq!(Locale::En.money_e6(1_875_000), "1.875");
        assert_eq!(Locale::En.money_e6(3_000_000_000), "3,000.00");
        assert_eq!(Locale::Id.money_e6(12_500), "0,0125");
        assert_eq!(Locale::PtBr.money_e4(1_999_900), "199,99");
        assert_eq!(Locale::En.decimal(-1_500_000, 6, 0), "-1.5");
        assert_eq!(
            Locale::En.decimal(i128::from(i64::MIN), 6, 2),
            "-9,223,372,036,854.775808"
        );
    }

    #[test]
    fn percentages_use_the_decimal_separator() {
        assert_eq!(Locale::En.percent(975, 1000).as_deref(), Some("97.5%"));
        assert_eq!(Locale::Id.percent(975, 1000).as_deref(), Some("97,5%"));
        assert_eq!(Locale::PtBr.percent(2, 3).as_deref(), Some("66,7%"));
        assert_eq!(Locale::En.percent(1, 0), None);
        assert_eq!(Locale::En.percent(1, 1).as_deref(), Some("100.0%"));
    }

    #[test]
    fn durations() {
        assert_eq!(Locale::En.duration_x2(9), "4.5 s");
        assert_eq!(Locale::En.duration_s(45), "45 s");
        assert_eq!(Locale::En.duration_s(750), "12.5 min");
        assert_eq!(Locale::Id.duration_s(750), "12,5 mnt");
        assert_eq!(Locale::PtBr.duration_s(7_200), "2 h");
        assert_eq!(Locale::En.duration_s(0), "0 s");
    }
}
