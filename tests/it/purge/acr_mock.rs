//! A dry run against the strict mockito ACR: the plan is read through the listings (real
//! recorded page shapes, `n=1000`), and no DELETE reaches the server — a DELETE mock expects 0
//! hits and the catch-all fails the test on anything else.

use azcontainerregistry::purge::{self, RegistryKind, RetentionPolicy};
use azcontainerregistry::{Credential, Timestamp};
use mockito::Matcher;

use crate::support::acr_mock::{AcrMock, JsonReply, fixture};

#[test]
fn a_dry_run_lists_at_the_largest_page_size_and_sends_no_delete() {
    let mut acr = AcrMock::start();
    let catalog = acr
        .server
        .mock("GET", "/acr/v1/_catalog")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("n".into(), "1000".into()),
            Matcher::UrlEncoded("api-version".into(), "2021-07-01".into()),
        ]))
        .json(200, r#"{"repositories":["library/hello-world","other"]}"#)
        .expect(1)
        .create();
    let tags = acr
        .server
        .mock("GET", "/acr/v1/library%2Fhello-world/_tags")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("n".into(), "1000".into()),
            Matcher::UrlEncoded("api-version".into(), "2021-07-01".into()),
        ]))
        .json(200, fixture("tags_page1.json"))
        .expect(1)
        .create();
    let deletes = acr
        .server
        .mock("DELETE", Matcher::Any)
        .with_status(202)
        .expect(0)
        .create();
    acr.seal();
    let client = acr.client(Credential::anonymous());
    let policy = RetentionPolicy {
        filters: vec!["library/.*:v.*".parse().unwrap()],
        older_than: Some(purge::parse_duration("30d").unwrap()),
        registry: RegistryKind::Acr,
        now: Some(Timestamp::parse("2025-01-01T00:00:00Z").unwrap()),
        ..Default::default()
    };
    let plan = purge::plan(&client, &policy).unwrap();
    assert_eq!(plan.repositories, ["library/hello-world"]);
    let names: Vec<String> = plan.deletions().map(|e| e.name()).collect();
    assert_eq!(names, ["library/hello-world:v5", "library/hello-world:v4"]);
    // a dry run is a plan that is not applied: nothing else is sent
    acr.verify_all([&catalog, &tags, &deletes]);
}
