//! Every spec diagnostic carries `file:line:column` beside its JSON pointer,
//! including the ones found only when the validators are compiled (a schema
//! the validator refuses, here one whose `$ref` names nothing in another
//! file): YAML, JSON and Swagger 2.0 documents, on the console and in the
//! JSON report. Pinned with insta.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{Scratch, apiconform, stderr, stdout};

/// A document of shared schemas the roots below point into.
const COMMON: &str = "Pet:\n  type: object\n  properties:\n    name: {type: string}\n";

const ROOT_YAML: &str = r##"openapi: 3.0.3
info: {title: positions, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  owner: {$ref: "common.yaml#/Owner"}
                  pet: {$ref: "common.yaml#/Pet"}
                  code: {type: string, pattern: "\\p{Foo}+"}
"##;

const ROOT_JSON: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "positions", "version": "1"},
  "paths": {
    "/pets": {
      "get": {
        "operationId": "listPets",
        "responses": {
          "200": {
            "description": "ok",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "owner": {"$ref": "common.yaml#/Owner"},
                    "pet": {"$ref": "common.yaml#/Pet"},
                    "code": {"type": "string", "pattern": "\\p{Foo}+"}
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"##;

const ROOT_SWAGGER2: &str = r##"swagger: "2.0"
info: {title: positions, version: "1"}
host: 127.0.0.1:9
paths:
  /pets:
    get:
      operationId: listPets
      produces: [application/json]
      responses:
        "200":
          description: ok
          schema:
            type: object
            properties:
              owner: {$ref: "common.yaml#/Owner"}
              pet: {$ref: "common.yaml#/Pet"}
              code: {type: string, pattern: "\\p{Foo}+"}
"##;

fn check(root_name: &str, root: &str) -> String {
    let scratch = Scratch::new("check");
    scratch.write("common.yaml", COMMON);
    let spec = scratch.write(root_name, root);
    let out = apiconform(&["check", "--spec", &spec]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    scratch.hide(&err)
}

#[test]
fn compile_time_warnings_carry_line_and_column_in_yaml_json_and_swagger2() {
    insta::assert_snapshot!("yaml", check("api.yaml", ROOT_YAML));
    insta::assert_snapshot!("json", check("api.json", ROOT_JSON));
    insta::assert_snapshot!("swagger2", check("api.yaml", ROOT_SWAGGER2));
}

/// Answers up to 8 connections with `200 {}` as JSON, on 127.0.0.1.
fn empty_object_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_run_lists_the_schemas_its_validators_refused_with_positions_in_the_json_report() {
    let scratch = Scratch::new("run");
    scratch.write("common.yaml", COMMON);
    scratch.write("api.yaml", ROOT_YAML);
    let suite = scratch.write(
        "suite.yaml",
        "spec: api.yaml\nname: positions\ncases:\n  - name: list\n    steps:\n      - operation: listPets\n        expect: {status: 200}\n",
    );
    let report = scratch.0.join("report.json");
    let out = apiconform(&[
        "run",
        &suite,
        "--base-url",
        &empty_object_server(),
        "--no-progress",
        "--json",
        &report.display().to_string(),
    ]);
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", stderr(&out));
    let text = std::fs::read_to_string(&report).expect("report written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("report is JSON");
    let warnings = json["specs"][0]["warnings"].as_array().expect("warnings");
    let shown: Vec<String> = warnings
        .iter()
        .map(|w| {
            format!(
                "{}:{}:{}: {}",
                w["file"].as_str().unwrap_or("?"),
                w["line"],
                w["column"],
                w["message"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let shown = scratch.hide(&shown.join("\n"));
    assert!(
        shown.contains("validator refuses it"),
        "{shown}\n{}",
        stdout(&out)
    );
    insta::assert_snapshot!("run_report", shown);
}
