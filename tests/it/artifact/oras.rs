//! Interop with the `oras` Python package (`pip install oras==0.2.43`, done by `scripts/test`):
//! we pull what it pushes, it pulls what we push.
