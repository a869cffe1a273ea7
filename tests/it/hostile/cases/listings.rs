//! Paged listings: cycles, self links, endless pages, bad pages.

use super::kit::*;

pub static LISTINGS: &[Case] = &[
    case("catalog_cycle_a_b_a", Op::Catalog, LOOP, |r, _| cycle(r)),
    case("catalog_self_link_respelled", Op::Catalog, LOOP, |r, _| {
        self_link(r)
    }),
    case(
        "catalog_endless_pages_hit_the_bound",
        Op::Catalog,
        BOUND,
        |r, _| endless_pages(r),
    ),
    case(
        "catalog_next_link_to_other_origin",
        Op::Catalog,
        REDIRECT,
        |_, c| page("a", Some(&format!("{}/v2/_catalog?last=a", c.other))),
    ),
    case(
        "catalog_next_link_to_other_listing",
        Op::Catalog,
        Expect::Err("InvalidInput or Redirect", |e| {
            matches!(
                e,
                Error::InvalidInput { .. } | Error::Redirect { .. } | Error::Decode { .. }
            )
        }),
        |_, _| page("a", Some("/v2/other/tags/list?last=a")),
    ),
    case(
        "catalog_garbled_link",
        Op::Catalog,
        Expect::Err("Decode or Redirect", |e| {
            matches!(e, Error::Decode { .. } | Error::Redirect { .. })
        }),
        |_, _| {
            reply(
                200,
                &[
                    ("Link", "<<<>>>; rel=next; ;;"),
                    ("Content-Type", "application/json"),
                ],
                br#"{"repositories":["a"]}"#,
            )
        },
    ),
    case(
        "catalog_empty_next_link_is_this_page",
        Op::Catalog,
        LOOP,
        |_, _| {
            reply(
                200,
                &[
                    ("Link", "<>; rel=\"next\""),
                    ("Content-Type", "application/json"),
                ],
                br#"{"repositories":["a"]}"#,
            )
        },
    ),
    case("catalog_wrong_typed_json", Op::Catalog, DECODE, |_, _| {
        json(200, r#"{"repositories":42}"#)
    }),
    case("catalog_not_json", Op::Catalog, DECODE, |_, _| {
        reply(200, &[], b"\x00\x01 not json")
    }),
    case("catalog_deeply_nested_json", Op::Catalog, DECODE, |_, _| {
        json(
            200,
            &format!(
                r#"{{"repositories":{}{}}}"#,
                big(100_000, b'['),
                big(100_000, b']')
            ),
        )
    }),
    case("catalog_oversized_page", Op::Catalog, TOO_LARGE, |_, _| {
        let mut v = raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"repositories\":[\"");
        v.push(Act::Endless(b'a'));
        v
    }),
    case(
        "catalog_null_repositories",
        Op::Catalog,
        Expect::Ok,
        |_, _| json(200, r#"{"repositories":null}"#),
    ),
    case("tags_cycle_a_b_a", Op::Tags, LOOP, |r, _| cycle(r)),
    case("tags_self_link", Op::Tags, LOOP, |r, _| self_link(r)),
    case("acr_repositories_cycle", Op::AcrRepos, LOOP, |r, _| {
        cycle(r)
    }),
    case("acr_tags_cycle", Op::AcrTags, LOOP, |r, _| {
        let path = r.path().to_string();
        let body = r#"{"registry":"r","imageName":"hostile/repo","tags":[]}"#;
        let next = match query_value(r, "last") {
            None | Some("b") => format!("<{path}?last=a>; rel=\"next\""),
            _ => format!("<{path}?last=b>; rel=\"next\""),
        };
        reply(
            200,
            &[("Content-Type", "application/json"), ("Link", &next)],
            body.as_bytes(),
        )
    }),
    case("referrers_cycle_a_b_a", Op::Referrers, LOOP, |r, _| {
        let path = r.path().to_string();
        match query_value(r, "page") {
            None | Some("b") => referrers_index(Some(format!("{path}?page=a"))),
            _ => referrers_index(Some(format!("{path}?page=b"))),
        }
    }),
    case("referrers_self_link", Op::Referrers, LOOP, |r, _| {
        referrers_index(Some(r.target.clone()))
    }),
    case(
        "referrers_endless_pages_hit_the_bound",
        Op::Referrers,
        BOUND,
        |r, _| {
            let n: u64 = query_value(r, "page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            referrers_index(Some(format!("{}?page={}", r.path(), n + 1)))
        },
    ),
    case(
        "referrers_wrong_typed_json",
        Op::Referrers,
        DECODE,
        |_, _| {
            reply(
                200,
                &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
                br#"{"schemaVersion":2,"manifests":"none"}"#,
            )
        },
    ),
];
