-- API keys, BYOK provider keys with their audit trail, password resets and
-- external identities (OAuth sign-in) of the auth service.

CREATE TABLE tripsage_auth.api_keys (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    name text NOT NULL,
    -- The first characters of the secret, shown so a key can be recognised.
    prefix text NOT NULL,
    -- SHA-256 of the secret: secrets are 256 random bits, so no slow hash is needed.
    secret_hash bytea NOT NULL UNIQUE,
    scopes text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_owner_idx ON tripsage_auth.api_keys (owner_id, created_at DESC, id DESC);

CREATE TABLE tripsage_auth.provider_keys (
    user_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    service text NOT NULL,
    -- AES-256-GCM under a key derived from SECRET_KEY and salt; key_id names the
    -- SECRET_KEY used, so rotation knows which secret decrypts which row.
    ciphertext bytea NOT NULL,
    nonce bytea NOT NULL,
    salt bytea NOT NULL,
    key_id text NOT NULL,
    key_version integer NOT NULL DEFAULT 1,
    last_four text NOT NULL,
    status text NOT NULL DEFAULT 'unverified',
    status_message text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_validated_at timestamptz,
    last_used_at timestamptz,
    PRIMARY KEY (user_id, service)
);

CREATE TABLE tripsage_auth.provider_key_events (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    service text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL DEFAULT '',
    actor text NOT NULL,
    detail text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX provider_key_events_idx
    ON tripsage_auth.provider_key_events (user_id, service, created_at DESC, id DESC);

CREATE TABLE tripsage_auth.password_resets (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX password_resets_user_idx ON tripsage_auth.password_resets (user_id);

CREATE TABLE tripsage_auth.identities (
    provider text NOT NULL,
    subject text NOT NULL,
    user_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    email text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user_idx ON tripsage_auth.identities (user_id);

CREATE INDEX users_created_idx ON tripsage_auth.users (created_at DESC, id DESC);
