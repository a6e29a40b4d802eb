//! The table the tests and the local stack create (`integration_tests::table::create_table`)
//! is the table the SAM template deploys: same keys, attribute types, indexes and their
//! projections, billing, stream and TTL. A change to one without the other fails here.

use integration_tests::harness::{Stack, workspace_root};
use serde_json::Value;
use std::collections::BTreeMap;

/// The template as JSON (CloudFormation tags in long form), through the project's venv.
fn template() -> Value {
    let root = workspace_root();
    let python = root.join(".venv/bin/python");
    let out = std::process::Command::new(&python)
        .arg(root.join("scripts/template-json.py"))
        .arg(root.join("infra/template.yaml"))
        .output()
        .unwrap_or_else(|e| panic!("{} (run scripts/setup.sh): {e}", python.display()));
    assert!(
        out.status.success(),
        "template-json.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("template JSON")
}

fn keys(schema: &Value) -> Vec<(String, String)> {
    schema
        .as_array()
        .expect("a key schema")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_string(),
                k["KeyType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_test_table_is_the_templates_table() {
    let t = template();
    let props = &t["Resources"]["Table"]["Properties"];
    let stack = Stack::start().await;
    let table = stack
        .dynamodb
        .describe_table()
        .table_name(&stack.table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();

    let attrs: BTreeMap<String, String> = table
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_string(),
                a.attribute_type().as_str().to_string(),
            )
        })
        .collect();
    let declared: BTreeMap<String, String> = props["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_string(),
                a["AttributeType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(attrs, declared, "attribute definitions");

    let key_schema: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(key_schema, keys(&props["KeySchema"]), "table keys");

    let indexes: BTreeMap<String, (Vec<(String, String)>, String)> = table
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            (
                g.index_name().unwrap().to_string(),
                (
                    g.key_schema()
                        .iter()
                        .map(|k| {
                            (
                                k.attribute_name().to_string(),
                                k.key_type().as_str().to_string(),
                            )
                        })
                        .collect(),
                    g.projection()
                        .and_then(|p| p.projection_type())
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default(),
                ),
            )
        })
        .collect();
    let declared: BTreeMap<String, (Vec<(String, String)>, String)> =
        props["GlobalSecondaryIndexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["IndexName"].as_str().unwrap().to_string(),
                    (
                        keys(&g["KeySchema"]),
                        g["Projection"]["ProjectionType"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    ),
                )
            })
            .collect();
    assert_eq!(indexes, declared, "global secondary indexes");
    assert!(props.get("LocalSecondaryIndexes").is_none());
    assert!(table.local_secondary_indexes().is_empty());

    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        props["BillingMode"].as_str()
    );
    let stream = table.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type().map(|v| v.as_str()),
        props["StreamSpecification"]["StreamViewType"].as_str()
    );
    let ttl = stack
        .dynamodb
        .describe_time_to_live()
        .table_name(&stack.table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(
        ttl.attribute_name(),
        props["TimeToLiveSpecification"]["AttributeName"].as_str()
    );
    assert_eq!(props["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        ttl.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
}
