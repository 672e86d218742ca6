-- Conversations, their messages and the user's memories, under row level security.
--
-- As in trips, the service connects as the schema owner and runs each request as
-- tripsage_assistant_caller with the caller's id in app.user_id. A conversation may
-- belong to a trip, whose rights live in the trips service: the assistant asks trips
-- (as the caller) what the caller may do with that trip, and only then names the trip
-- and the access it was granted in app.trip_id / app.trip_access for the transaction.
-- The policies admit the owner's own rows, and a trip's conversations to a caller the
-- trips service vouched for: reading with 'view', writing with 'edit'. The owner of a
-- trip's conversation keeps reading it after leaving the trip, but adding to it always
-- takes edit rights on the trip.
DO $$
BEGIN
    CREATE ROLE tripsage_assistant_caller NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- roles are cluster-wide; another database of this cluster made it
END
$$;
GRANT tripsage_assistant_caller TO CURRENT_USER;
GRANT USAGE ON SCHEMA tripsage_assistant TO tripsage_assistant_caller;

CREATE FUNCTION tripsage_assistant.caller_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

-- 'view', 'edit' or NULL: what the trips service said the caller may do with `trip`.
CREATE FUNCTION tripsage_assistant.trip_access(trip uuid) RETURNS text
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN trip IS NOT NULL
                     AND trip = nullif(current_setting('app.trip_id', true), '')::uuid
                    THEN nullif(current_setting('app.trip_access', true), '') END
    $$;
GRANT EXECUTE ON FUNCTION tripsage_assistant.caller_id() TO tripsage_assistant_caller;
GRANT EXECUTE ON FUNCTION tripsage_assistant.trip_access(uuid) TO tripsage_assistant_caller;

CREATE TABLE tripsage_assistant.conversations (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    trip_id uuid,
    title text NOT NULL DEFAULT '',
    auto_approve boolean NOT NULL DEFAULT false,
    message_count integer NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_owner_updated_idx
    ON tripsage_assistant.conversations (owner_id, updated_at DESC, id DESC);
CREATE INDEX conversations_trip_updated_idx
    ON tripsage_assistant.conversations (trip_id, updated_at DESC, id DESC)
    WHERE trip_id IS NOT NULL;

-- Which trip a conversation is about, so the service knows whose rights to ask for
-- before it can see the row; it reveals nothing else, and the id never leaves the service.
CREATE FUNCTION tripsage_assistant.conversation_trip(conversation uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT trip_id FROM tripsage_assistant.conversations WHERE id = conversation $$;
REVOKE ALL ON FUNCTION tripsage_assistant.conversation_trip(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tripsage_assistant.conversation_trip(uuid)
    TO tripsage_assistant_caller;

CREATE TABLE tripsage_assistant.messages (
    id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL
        REFERENCES tripsage_assistant.conversations (id) ON DELETE CASCADE,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    role text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content text NOT NULL DEFAULT '',
    tool_calls jsonb NOT NULL DEFAULT '[]'::jsonb,
    tool_result jsonb,
    status text NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'partial', 'failed')),
    usage jsonb NOT NULL DEFAULT '{}'::jsonb,
    author_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_seq_idx ON tripsage_assistant.messages (conversation_id, seq);

CREATE TABLE tripsage_assistant.memories (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    content text NOT NULL,
    category text NOT NULL CHECK (category IN ('preference', 'fact', 'experience')),
    conversation_id uuid,
    search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memories_user_created_idx
    ON tripsage_assistant.memories (user_id, created_at DESC, id DESC);
CREATE INDEX memories_search_idx ON tripsage_assistant.memories USING gin (search);
-- One statement once per user: telling it twice keeps one memory.
CREATE UNIQUE INDEX memories_user_content_idx
    ON tripsage_assistant.memories (user_id, lower(content));

-- Idempotency-Key records of Create RPCs (tripsage_core.idempotency).
CREATE TABLE tripsage_assistant.idempotency_keys (
    caller_id uuid NOT NULL,
    method text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    resource_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, method, key)
);

ALTER TABLE tripsage_assistant.conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tripsage_assistant.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE tripsage_assistant.memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE tripsage_assistant.idempotency_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY conversations_select ON tripsage_assistant.conversations FOR SELECT
    TO tripsage_assistant_caller
    USING (owner_id = tripsage_assistant.caller_id()
           OR tripsage_assistant.trip_access(trip_id) IN ('view', 'edit'));
-- A trip's conversation may be started only by someone the trips service let edit it.
CREATE POLICY conversations_insert ON tripsage_assistant.conversations FOR INSERT
    TO tripsage_assistant_caller
    WITH CHECK (owner_id = tripsage_assistant.caller_id()
                AND (trip_id IS NULL OR tripsage_assistant.trip_access(trip_id) = 'edit'));
CREATE POLICY conversations_update ON tripsage_assistant.conversations FOR UPDATE
    TO tripsage_assistant_caller
    USING ((trip_id IS NULL AND owner_id = tripsage_assistant.caller_id())
           OR tripsage_assistant.trip_access(trip_id) = 'edit')
    WITH CHECK ((trip_id IS NULL AND owner_id = tripsage_assistant.caller_id())
                OR tripsage_assistant.trip_access(trip_id) = 'edit');
CREATE POLICY conversations_delete ON tripsage_assistant.conversations FOR DELETE
    TO tripsage_assistant_caller
    USING (owner_id = tripsage_assistant.caller_id());

-- Messages follow their conversation: the subquery runs under the conversations policy.
CREATE POLICY messages_select ON tripsage_assistant.messages FOR SELECT
    TO tripsage_assistant_caller
    USING (EXISTS (SELECT 1 FROM tripsage_assistant.conversations c
                   WHERE c.id = conversation_id));
CREATE POLICY messages_insert ON tripsage_assistant.messages FOR INSERT
    TO tripsage_assistant_caller
    WITH CHECK (EXISTS (SELECT 1 FROM tripsage_assistant.conversations c
                        WHERE c.id = conversation_id
                          AND ((c.trip_id IS NULL AND c.owner_id = tripsage_assistant.caller_id())
                               OR tripsage_assistant.trip_access(c.trip_id) = 'edit')));
CREATE POLICY messages_update ON tripsage_assistant.messages FOR UPDATE
    TO tripsage_assistant_caller
    USING (EXISTS (SELECT 1 FROM tripsage_assistant.conversations c
                   WHERE c.id = conversation_id
                     AND ((c.trip_id IS NULL AND c.owner_id = tripsage_assistant.caller_id())
                          OR tripsage_assistant.trip_access(c.trip_id) = 'edit')));

CREATE POLICY memories_own ON tripsage_assistant.memories FOR ALL
    TO tripsage_assistant_caller
    USING (user_id = tripsage_assistant.caller_id())
    WITH CHECK (user_id = tripsage_assistant.caller_id());

CREATE POLICY idempotency_own ON tripsage_assistant.idempotency_keys FOR ALL
    TO tripsage_assistant_caller
    USING (caller_id = tripsage_assistant.caller_id())
    WITH CHECK (caller_id = tripsage_assistant.caller_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tripsage_assistant.conversations
    TO tripsage_assistant_caller;
GRANT SELECT, INSERT, UPDATE ON tripsage_assistant.messages TO tripsage_assistant_caller;
GRANT SELECT, INSERT, UPDATE, DELETE ON tripsage_assistant.memories TO tripsage_assistant_caller;
GRANT SELECT, INSERT, UPDATE, DELETE ON tripsage_assistant.idempotency_keys
    TO tripsage_assistant_caller;
