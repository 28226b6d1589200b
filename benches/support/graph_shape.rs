//! A generated OpenAPI 3.0 description with the shape of Microsoft Graph's:
//! about 50 MB of JSON, 20,000 operations and 70,000 component schemas;
//! entity types inheriting through `allOf` chains 5 to 9 deep, navigation
//! properties that make `$ref` cycles, and a skewed choice of entity per
//! operation so the popular types are referenced from hundreds of them.
//! Deterministic (a fixed-seed generator), written as text without building
//! a JSON tree, so generating it does not add to the benchmark's peak RSS.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

pub const ENTITIES: usize = 8_000;
const COMPLEX: usize = 30_000;
const ENUMS: usize = 20_000;
const MISC: usize = 70_000 - ENTITIES * 2 - COMPLEX - ENUMS - 3;
/// Resource pairs (collection + item path); five operations each.
const RESOURCES: usize = 4_000;

/// xorshift64*: enough randomness for a shape, and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards small indexes: a few types are everywhere.
    fn popular(&mut self, n: usize) -> usize {
        let r = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((r * r * r) * n as f64) as usize % n
    }
}

const WORDS: &[&str] = &[
    "identifier",
    "display",
    "name",
    "created",
    "modified",
    "owner",
    "policy",
    "status",
    "settings",
    "resource",
    "tenant",
    "device",
    "message",
    "schedule",
    "assignment",
];

fn description(rng: &mut Rng, subject: &str) -> String {
    let mut s = format!("The {subject}");
    for _ in 0..12 {
        s.push(' ');
        s.push_str(WORDS[rng.below(WORDS.len())]);
    }
    s.push_str(". Supports $filter (eq, ne, not, in) and $orderby. Read-only for most callers.");
    s
}

fn entity(i: usize) -> String {
    format!("microsoft.graph.entity{i}")
}

/// Depth of entity `i` in its inheritance tree (parent of `i` is `i / 3`).
fn parent(i: usize) -> Option<usize> {
    (i > 0).then_some(i / 3)
}

fn write_entity(out: &mut String, rng: &mut Rng, i: usize) {
    let base = match parent(i) {
        Some(p) => entity(p),
        None => "microsoft.graph.entity".to_string(),
    };
    let nav_a = entity(rng.popular(ENTITIES));
    let nav_b = entity(rng.below(ENTITIES));
    let nav_list = entity(rng.popular(ENTITIES));
    let complex = rng.below(COMPLEX);
    let enumeration = rng.below(ENUMS);
    let _ = write!(
        out,
        r##""{name}":{{"allOf":[{{"$ref":"#/components/schemas/{base}"}},{{"title":"entity{i}","required":["@odata.type"],"type":"object","properties":{{
"displayName":{{"type":"string","nullable":true,"description":"{d1}"}},
"createdDateTime":{{"pattern":"^[0-9]{{4,}}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{{1,12}})?(Z|[+-][0-9][0-9]:[0-9][0-9])$","type":"string","format":"date-time","nullable":true,"description":"{d2}"}},
"count{i}":{{"maximum":2147483647,"minimum":-2147483648,"type":"integer","format":"int32","nullable":true}},
"kind":{{"anyOf":[{{"$ref":"#/components/schemas/microsoft.graph.enum{enumeration}"}},{{"type":"object","nullable":true}}]}},
"details":{{"anyOf":[{{"$ref":"#/components/schemas/microsoft.graph.complex{complex}"}},{{"type":"object","nullable":true}}]}},
"owner":{{"anyOf":[{{"$ref":"#/components/schemas/{nav_a}"}},{{"type":"object","nullable":true}}],"description":"{d3}","x-ms-navigationProperty":true}},
"related":{{"anyOf":[{{"$ref":"#/components/schemas/{nav_b}"}},{{"type":"object","nullable":true}}],"x-ms-navigationProperty":true}},
"members":{{"type":"array","items":{{"$ref":"#/components/schemas/{nav_list}"}},"description":"{d4}","x-ms-navigationProperty":true}},
"@odata.type":{{"type":"string"}}}},"description":"{d5}"}}],"x-ms-discriminator-value":"#microsoft.graph.entity{i}"}},
"##,
        name = entity(i),
        d1 = description(rng, "display name"),
        d2 = description(rng, "creation time"),
        d3 = description(rng, "owner"),
        d4 = description(rng, "members"),
        d5 = description(rng, "entity"),
    );
}

fn write_complex(out: &mut String, rng: &mut Rng, i: usize) {
    // Complex types refer only to lower-numbered ones: deep but acyclic.
    let inner = if i > 0 {
        format!(
            r##","inner":{{"anyOf":[{{"$ref":"#/components/schemas/microsoft.graph.complex{}"}},{{"type":"object","nullable":true}}]}}"##,
            rng.below(i)
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        r##""microsoft.graph.complex{i}":{{"title":"complex{i}","type":"object","properties":{{"value":{{"type":"string","nullable":true,"description":"{d}"}},"size":{{"type":"integer","format":"int64","nullable":true}},"tags":{{"type":"array","items":{{"type":"string","maxLength":255}}}},"@odata.type":{{"type":"string"}}{inner}}}}},"##,
        d = description(rng, "value"),
    );
}

fn write_enum(out: &mut String, i: usize) {
    let _ = writeln!(
        out,
        r##""microsoft.graph.enum{i}":{{"title":"enum{i}","enum":["none","first{i}","second{i}","unknownFutureValue"],"type":"string"}},"##
    );
}

fn write_collection(out: &mut String, i: usize) {
    let _ = writeln!(
        out,
        r##""microsoft.graph.entity{i}CollectionResponse":{{"title":"Collection of entity{i}","type":"object","allOf":[{{"$ref":"#/components/schemas/BaseCollectionPaginationCountResponse"}},{{"type":"object","properties":{{"value":{{"type":"array","items":{{"$ref":"#/components/schemas/{e}"}}}}}}}}]}},"##,
        e = entity(i)
    );
}

fn write_misc(out: &mut String, rng: &mut Rng, i: usize) {
    let target = entity(rng.popular(ENTITIES));
    let _ = writeln!(
        out,
        r##""microsoft.graph.action{i}Request":{{"type":"object","properties":{{"target":{{"$ref":"#/components/schemas/{target}"}},"reason":{{"type":"string","nullable":true,"minLength":1}},"when":{{"type":"string","format":"date-time"}}}}}},"##
    );
}

fn write_operation(out: &mut String, rng: &mut Rng, r: usize, e: usize) {
    let name = entity(e);
    let d = description(rng, "operation");
    let _ = write!(
        out,
        r##""/group{g}/resource{r}":{{
"get":{{"tags":["group{g}"],"summary":"List resource{r}","description":"{d}","operationId":"group{g}.listResource{r}","parameters":[{{"$ref":"#/components/parameters/top"}},{{"$ref":"#/components/parameters/skip"}},{{"$ref":"#/components/parameters/filter"}},{{"$ref":"#/components/parameters/count"}}],"responses":{{"2XX":{{"description":"ok","content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/{name}CollectionResponse"}}}}}}}},"4XX":{{"$ref":"#/components/responses/error"}},"5XX":{{"$ref":"#/components/responses/error"}}}}}},
"post":{{"tags":["group{g}"],"summary":"Create resource{r}","operationId":"group{g}.createResource{r}","requestBody":{{"description":"New entity","content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/{name}"}}}}}},"required":true}},"responses":{{"201":{{"description":"Created","content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/{name}"}}}}}}}},"4XX":{{"$ref":"#/components/responses/error"}},"5XX":{{"$ref":"#/components/responses/error"}}}}}}}},
"/group{g}/resource{r}/{{id}}":{{
"parameters":[{{"name":"id","in":"path","required":true,"schema":{{"type":"string"}}}}],
"get":{{"tags":["group{g}"],"summary":"Get resource{r}","operationId":"group{g}.getResource{r}","responses":{{"2XX":{{"description":"ok","content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/{name}"}}}}}}}},"4XX":{{"$ref":"#/components/responses/error"}},"5XX":{{"$ref":"#/components/responses/error"}}}}}},
"patch":{{"tags":["group{g}"],"summary":"Update resource{r}","operationId":"group{g}.updateResource{r}","requestBody":{{"content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/{name}"}}}}}},"required":true}},"responses":{{"204":{{"description":"Success"}},"4XX":{{"$ref":"#/components/responses/error"}},"5XX":{{"$ref":"#/components/responses/error"}}}}}},
"delete":{{"tags":["group{g}"],"summary":"Delete resource{r}","operationId":"group{g}.deleteResource{r}","parameters":[{{"name":"If-Match","in":"header","description":"ETag","schema":{{"type":"string"}}}}],"responses":{{"204":{{"description":"Success"}},"4XX":{{"$ref":"#/components/responses/error"}},"5XX":{{"$ref":"#/components/responses/error"}}}}}}}}"##,
        g = r % 97,
    );
}

/// Writes the description to `path`.
pub fn generate(path: &Path) -> std::io::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut out = String::with_capacity(1 << 20);
    out.push_str(r#"{"openapi":"3.0.4","info":{"title":"Graph-shaped (generated)","version":"beta"},"servers":[{"url":"https://graph.example.test/beta"}],"paths":{"#);
    for r in 0..RESOURCES {
        if r > 0 {
            out.push(',');
        }
        let e = rng.popular(ENTITIES);
        write_operation(&mut out, &mut rng, r, e);
        out.push('\n');
        if out.len() > 1 << 19 {
            file.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    out.push_str(r#"},"components":{"schemas":{"#);
    out.push_str(r#""microsoft.graph.entity":{"title":"entity","type":"object","properties":{"id":{"type":"string","description":"The unique identifier for an entity. Read-only."}}},"#);
    out.push_str(r#""BaseCollectionPaginationCountResponse":{"title":"Base collection pagination and count responses","type":"object","properties":{"@odata.count":{"type":"integer","format":"int64","nullable":true},"@odata.nextLink":{"type":"string","nullable":true}}},"#);
    out.push_str(r#""microsoft.graph.ODataErrors.ODataError":{"required":["error"],"type":"object","properties":{"error":{"type":"object","required":["code","message"],"properties":{"code":{"type":"string"},"message":{"type":"string"},"target":{"type":"string","nullable":true}}}}},"#);
    for i in 0..ENTITIES {
        write_entity(&mut out, &mut rng, i);
        write_collection(&mut out, i);
        if out.len() > 1 << 19 {
            file.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    for i in 0..COMPLEX {
        write_complex(&mut out, &mut rng, i);
        if out.len() > 1 << 19 {
            file.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    for i in 0..MISC {
        write_misc(&mut out, &mut rng, i);
    }
    for i in 0..ENUMS {
        write_enum(&mut out, i);
        if i + 1 == ENUMS {
            // The last entry carries no trailing comma.
            let trimmed = out.trim_end().trim_end_matches(',').len();
            out.truncate(trimmed);
        }
    }
    out.push_str(r##"},"responses":{"error":{"description":"error","content":{"application/json":{"schema":{"$ref":"#/components/schemas/microsoft.graph.ODataErrors.ODataError"}}}}},"parameters":{"top":{"name":"$top","in":"query","schema":{"minimum":0,"type":"integer"}},"skip":{"name":"$skip","in":"query","schema":{"minimum":0,"type":"integer"}},"filter":{"name":"$filter","in":"query","schema":{"type":"string"}},"count":{"name":"$count","in":"query","schema":{"type":"boolean"}}}}}"##);
    file.write_all(out.as_bytes())?;
    file.flush()
}
