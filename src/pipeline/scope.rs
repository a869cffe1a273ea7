//! Token scopes: `repository:{name}:{actions}`, in a canonical form, and which scopes grant which.

/// The token scope for `actions` (`pull`, `pull,push`, `delete`, `metadata_read`…) on a repository.
pub(crate) fn repository_scope(repository: &str, actions: &str) -> String {
    format!("repository:{repository}:{actions}")
}

/// A scope string in canonical form: actions sorted and deduplicated within each scope, scopes
/// sorted. Registries list actions in any order (distribution: `push,pull` or `pull,push` at
/// random), and the token cache must not fetch twice for the same rights.
pub(super) fn normalize_scope(scope: &str) -> String {
    let mut scopes: Vec<String> = scope
        .split_whitespace()
        .map(|one| match one.rsplit_once(':') {
            Some((resource, actions)) => {
                let mut a: Vec<&str> = actions.split(',').filter(|x| !x.is_empty()).collect();
                a.sort_unstable();
                a.dedup();
                format!("{resource}:{}", a.join(","))
            }
            None => one.to_string(),
        })
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes.join(" ")
}

/// True when every scope of `wanted` is granted by some scope of `have` (same resource, `*` or a
/// superset of the actions). Both normalized.
pub(super) fn covers(have: &str, wanted: &str) -> bool {
    let parse = |s: &str| -> Vec<(String, Vec<String>)> {
        s.split_whitespace()
            .filter_map(|one| one.rsplit_once(':'))
            .map(|(r, a)| (r.to_string(), a.split(',').map(str::to_string).collect()))
            .collect()
    };
    let have = parse(have);
    let wanted = parse(wanted);
    !wanted.is_empty()
        && wanted.iter().all(|(resource, actions)| {
            have.iter().any(|(r, a)| {
                r == resource
                    && (a.iter().any(|x| x == "*") || actions.iter().all(|x| a.contains(x)))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_normalize_and_cover() {
        assert_eq!(
            normalize_scope("repository:a:push,pull"),
            "repository:a:pull,push"
        );
        assert_eq!(
            normalize_scope("repository:b:pull repository:a:push,pull,pull"),
            "repository:a:pull,push repository:b:pull"
        );
        assert_eq!(normalize_scope("registry:catalog:*"), "registry:catalog:*");
        assert!(covers("repository:a:pull,push", "repository:a:pull"));
        assert!(covers("repository:a:*", "repository:a:delete"));
        assert!(!covers("repository:a:pull", "repository:a:pull,push"));
        assert!(!covers("repository:a:pull,push", "repository:b:pull"));
        assert!(covers(
            "repository:a:pull,push repository:b:pull",
            "repository:b:pull repository:a:push"
        ));
        assert!(!covers("repository:a:pull", ""));
    }
}
