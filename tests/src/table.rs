//! The table the tests and the local stack create, exactly as `infra/template.yaml`
//! declares it (`it/template_table.rs` fails when they differ): test and local-stack
//! support, not product code.

use aws_sdk_dynamodb::Client;
use shared::keys::LEADS_INDEX;

/// Creates the table exactly as `infra/template.yaml` declares it (keys, stream, TTL), for
/// the local stack and tests.
pub async fn create_table(client: &Client, table: &str) -> Result<(), String> {
    use aws_sdk_dynamodb::types::TimeToLiveSpecification;
    create_table_and_indexes(client, table).await?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())?;
    Ok(())
}

/// The table's keys, indexes and stream, without its TTL setting (for a local store that has
/// no UpdateTimeToLive: dynalite). Already there → Ok.
pub async fn create_table_and_indexes(client: &Client, table: &str) -> Result<(), String> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| e.to_string())
    };
    let key_el = |name: &str, kt: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kt)
            .build()
            .map_err(|e| e.to_string())
    };
    // A global secondary index (hash / range / projection), as the template declares each.
    let gsi = |name: &str, hash: &str, range: &str, projection: ProjectionType| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key_el(hash, KeyType::Hash)?)
            .key_schema(key_el(range, KeyType::Range)?)
            .projection(Projection::builder().projection_type(projection).build())
            .build()
            .map_err(|e| e.to_string())
    };
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .key_schema(key_el("pk", KeyType::Hash)?)
        .key_schema(key_el("sk", KeyType::Range)?)
        .attribute_definitions(attr("lead_list")?)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("created_at")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .global_secondary_indexes(gsi(
            LEADS_INDEX,
            "lead_list",
            "created_at",
            ProjectionType::All,
        )?)
        .attribute_definitions(attr(shared::domain::timeindex::TIME_BUCKET_ATTR)?)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("at")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .global_secondary_indexes(gsi(
            shared::domain::timeindex::TIME_INDEX,
            shared::domain::timeindex::TIME_BUCKET_ATTR,
            "at",
            ProjectionType::All,
        )?)
        .attribute_definitions(attr(shared::domain::timeindex::LEAD_TIME_ATTR)?)
        .global_secondary_indexes(gsi(
            shared::domain::timeindex::LEAD_INDEX,
            shared::domain::timeindex::LEAD_TIME_ATTR,
            "at",
            ProjectionType::KeysOnly,
        )?)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await;
    if let Err(e) = created {
        let exists = e
            .as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception());
        if !exists {
            return Err(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string());
        }
    }
    Ok(())
}
