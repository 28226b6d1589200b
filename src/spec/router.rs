//! Matches concrete request paths (`/shares/42`) to path templates
//! (`/shares/{shareId}`) with a segment trie: literal segments win over
//! parameters, so `/shares/mine` beats `/shares/{id}` as OpenAPI requires.

use std::collections::HashMap;

use regex::Regex;

#[derive(Debug, Default)]
struct Node {
    literal: HashMap<String, Node>,
    /// Segments with parameters, e.g. `{id}` or `{name}.{ext}`.
    patterns: Vec<(Pattern, Node)>,
    /// Routes ending here: (method, route index).
    routes: Vec<(String, usize)>,
}

#[derive(Debug)]
enum Pattern {
    /// The whole segment is one parameter.
    Param(String),
    /// Literal text and parameters mixed in one segment.
    Mixed(Regex, Vec<String>),
}

/// A parsed segment of a template.
fn parse_segment(seg: &str) -> Option<Pattern> {
    if !seg.contains('{') {
        return None;
    }
    if seg.starts_with('{')
        && seg.ends_with('}')
        && seg[1..seg.len() - 1].find(['{', '}']).is_none()
    {
        return Some(Pattern::Param(seg[1..seg.len() - 1].to_string()));
    }
    let mut re = String::from("^");
    let mut names = Vec::new();
    let mut rest = seg;
    while let Some(open) = rest.find('{') {
        re.push_str(&regex::escape(&rest[..open]));
        let Some(close) = rest[open..].find('}') else {
            re.push_str(&regex::escape(&rest[open..]));
            rest = "";
            break;
        };
        names.push(rest[open + 1..open + close].to_string());
        re.push_str("([^/]+?)");
        rest = &rest[open + close + 1..];
    }
    re.push_str(&regex::escape(rest));
    re.push('$');
    Regex::new(&re).ok().map(|r| Pattern::Mixed(r, names))
}

fn same_pattern(a: &Pattern, b: &Pattern) -> bool {
    match (a, b) {
        (Pattern::Param(_), Pattern::Param(_)) => true,
        (Pattern::Mixed(x, _), Pattern::Mixed(y, _)) => x.as_str() == y.as_str(),
        _ => false,
    }
}

/// A path-template router.
#[derive(Debug, Default)]
pub struct Router {
    root: Node,
}

/// A successful match: the route index and the path parameters.
#[derive(Debug, PartialEq, Eq)]
pub struct Match {
    pub route: usize,
    pub params: Vec<(String, String)>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl Router {
    /// Adds a template (e.g. `/shares/{shareId}`) for `method` (lowercase).
    pub fn insert(&mut self, method: &str, template: &str, route: usize) {
        let mut node = &mut self.root;
        for seg in segments(template) {
            node = match parse_segment(seg) {
                None => node.literal.entry(seg.to_string()).or_default(),
                Some(pattern) => {
                    let idx = match node
                        .patterns
                        .iter()
                        .position(|(p, _)| same_pattern(p, &pattern))
                    {
                        Some(i) => i,
                        None => {
                            node.patterns.push((pattern, Node::default()));
                            node.patterns.len() - 1
                        }
                    };
                    &mut node.patterns[idx].1
                }
            };
        }
        node.routes.push((method.to_ascii_lowercase(), route));
    }

    /// Finds the route for a concrete path (query string ignored).
    pub fn find(&self, method: &str, path: &str) -> Option<Match> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let segs: Vec<&str> = segments(path).collect();
        let mut params = Vec::new();
        let route = find_in(&self.root, &segs, method, &mut params)?;
        Some(Match { route, params })
    }

    /// Whether any method is routed at this path (to tell 404 from 405).
    pub fn methods_at(&self, path: &str) -> Vec<String> {
        let segs: Vec<&str> = segments(path).collect();
        let mut out = Vec::new();
        collect_methods(&self.root, &segs, &mut out);
        out
    }
}

fn find_in(
    node: &Node,
    segs: &[&str],
    method: &str,
    params: &mut Vec<(String, String)>,
) -> Option<usize> {
    let Some((first, rest)) = segs.split_first() else {
        return node
            .routes
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(method))
            .map(|(_, r)| *r);
    };
    if let Some(child) = node.literal.get(*first)
        && let Some(r) = find_in(child, rest, method, params)
    {
        return Some(r);
    }
    for (pattern, child) in &node.patterns {
        let mark = params.len();
        let matched = match pattern {
            Pattern::Param(name) => {
                params.push((name.clone(), (*first).to_string()));
                true
            }
            Pattern::Mixed(re, names) => match re.captures(first) {
                Some(caps) => {
                    for (i, name) in names.iter().enumerate() {
                        let v = caps.get(i + 1).map_or("", |m| m.as_str());
                        params.push((name.clone(), v.to_string()));
                    }
                    true
                }
                None => false,
            },
        };
        if matched {
            if let Some(r) = find_in(child, rest, method, params) {
                return Some(r);
            }
            params.truncate(mark);
        }
    }
    None
}

fn collect_methods(node: &Node, segs: &[&str], out: &mut Vec<String>) {
    let Some((first, rest)) = segs.split_first() else {
        out.extend(node.routes.iter().map(|(m, _)| m.clone()));
        return;
    };
    if let Some(child) = node.literal.get(*first) {
        collect_methods(child, rest, out);
    }
    for (pattern, child) in &node.patterns {
        let ok = match pattern {
            Pattern::Param(_) => true,
            Pattern::Mixed(re, _) => re.is_match(first),
        };
        if ok {
            collect_methods(child, rest, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::default();
        r.insert("get", "/shares", 0);
        r.insert("post", "/shares", 1);
        r.insert("get", "/shares/{shareId}", 2);
        r.insert("get", "/shares/mine", 3);
        r.insert("get", "/files/{name}.{ext}", 4);
        r.insert("delete", "/shares/{id}", 5);
        r
    }

    #[test]
    fn literal_beats_parameter() {
        let r = router();
        assert_eq!(r.find("GET", "/shares/mine").map(|m| m.route), Some(3));
        let m = r.find("get", "/shares/abc?x=1").expect("match");
        assert_eq!(m.route, 2);
        assert_eq!(m.params, vec![("shareId".to_string(), "abc".to_string())]);
    }

    #[test]
    fn method_and_mixed_segments() {
        let r = router();
        assert_eq!(r.find("post", "/shares").map(|m| m.route), Some(1));
        assert_eq!(r.find("delete", "/shares/9").map(|m| m.route), Some(5));
        assert_eq!(r.find("put", "/shares/9"), None);
        let m = r.find("get", "/files/report.pdf").expect("match");
        assert_eq!(m.params[1], ("ext".to_string(), "pdf".to_string()));
        assert_eq!(r.find("get", "/nothing"), None);
        let mut ms = r.methods_at("/shares/1");
        ms.sort();
        assert_eq!(ms, vec!["delete", "get"]);
    }
}
