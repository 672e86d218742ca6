"""Who may call each AuthService RPC (enforced by grpc_kit.access before the servicer runs)."""

from tripsage_core.grpc_kit.access import ADMIN, PUBLIC, SERVICE, USER, AccessTable

POLICIES: AccessTable = {
    # Sessions: signing in is what anonymous callers come for.
    "Register": PUBLIC,
    "Login": PUBLIC,
    "RefreshSession": PUBLIC,
    "Logout": USER,
    "GetCurrentUser": USER,
    "UpdateCurrentUser": USER,
    "ChangePassword": USER,
    "RequestPasswordReset": PUBLIC,
    "ResetPassword": PUBLIC,
    "StartOAuthSignIn": PUBLIC,
    "CompleteOAuthSignIn": PUBLIC,
    # Internal: how the other services turn credentials and ids into users and keys.
    "ResolveCredential": SERVICE,
    "LookupUsers": SERVICE,
    "ResolveProviderKey": SERVICE,
    # The caller's own API keys and provider keys.
    "CreateApiKey": USER,
    "ListApiKeys": USER,
    "RevokeApiKey": USER,
    "PutProviderKey": USER,
    "ListProviderKeys": USER,
    "ValidateProviderKey": USER,
    "DeleteProviderKey": USER,
    "ListProviderKeyEvents": USER,
    # Administration.
    "ListUsers": ADMIN,
    "SetUserDisabled": ADMIN,
    "SetUserRole": ADMIN,
}
