-- Users, sessions and rotating refresh tokens of the auth service.
CREATE SCHEMA IF NOT EXISTS tripsage_auth;

CREATE TABLE tripsage_auth.users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    -- Lower-cased and trimmed: emails are unique case-insensitively.
    email_normalized text NOT NULL UNIQUE,
    full_name text NOT NULL DEFAULT '',
    password_hash text,
    role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled boolean NOT NULL DEFAULT false,
    email_verified boolean NOT NULL DEFAULT false,
    preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tripsage_auth.sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES tripsage_auth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_user_idx ON tripsage_auth.sessions (user_id);

-- Only a hash of each refresh token is kept. A used token is marked rotated, not
-- deleted, so presenting it again is recognised as theft and ends the session.
CREATE TABLE tripsage_auth.refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES tripsage_auth.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON tripsage_auth.refresh_tokens (session_id);
