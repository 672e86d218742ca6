"""Who may call each AuthService RPC (enforced by grpc_kit.access before the servicer runs)."""

from tripsage_core.grpc_kit.access import (
    ADMIN,
    PUBLIC,
    SERVICE,
    USER,
    AccessTable,
    Audience,
    Policy,
)

# Non-administrators learn nothing about the user named, not even that it exists.
ADMIN_ON_A_USER = Policy(Audience.ADMIN, hidden=True)

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
    # Email verification: the link's token is the credential.
    "RequestEmailVerification": USER,
    "VerifyEmail": PUBLIC,
    "StartOAuthSignIn": PUBLIC,
    "CompleteOAuthSignIn": PUBLIC,
    # Internal: how the other services turn credentials and ids into users and keys.
    # An access token may be resolved by whoever holds it; API keys only by services
    # (services/auth/credentials.py checks).
    "ResolveCredential": PUBLIC,
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
    "SetUserDisabled": ADMIN_ON_A_USER,
    "SetUserRole": ADMIN_ON_A_USER,
}
