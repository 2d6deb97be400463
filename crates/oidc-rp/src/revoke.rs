//! Token revocation (RFC 7009).

use crate::endpoint::Call;
use crate::error::Result;

/// Revoke a token. The provider answers 200 whether or not it knew the token (RFC 7009 §2.2),
/// so success means "this token no longer works", not "it existed".
pub(crate) async fn revoke(call: Call<'_>, token: &str, hint: Option<&str>) -> Result<()> {
    let mut params = vec![("token", token)];
    if let Some(h) = hint {
        params.push(("token_type_hint", h));
    }
    call.post(&params, "application/json").await.map(|_| ())
}
