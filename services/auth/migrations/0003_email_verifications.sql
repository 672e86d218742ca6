-- Email verification links: only a hash of each token is kept; single use, expiring.
-- The address is recorded so a link verifies only the address it was sent to.
CREATE TABLE tripsage_auth.email_verifications (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    email_normalized text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX email_verifications_user_idx ON tripsage_auth.email_verifications (user_id);
