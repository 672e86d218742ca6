-- Itinerary items, pending invitations, the activity log and idempotency keys,
-- all under row level security like trips and collaborators (0001).
--
-- Besides app.user_id, each request's transaction sets app.user_email (the
-- caller's token email) so invitations addressed by email can be found.
-- Everything an invitee does before joining (list, accept, decline) goes
-- through SECURITY DEFINER functions that check that email, so no policy has
-- to show a trip to someone who is not on it yet.

CREATE FUNCTION tripsage_trips.caller_email() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT lower(nullif(current_setting('app.user_email', true), '')) $$;
GRANT EXECUTE ON FUNCTION tripsage_trips.caller_email() TO tripsage_trips_caller;

-- Collaborators get an id (also the invitation id while pending), an email,
-- a state and a version; a pending row has no user yet and grants nothing.
ALTER TABLE tripsage_trips.collaborators
    ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN email text NOT NULL DEFAULT '',
    ADD COLUMN full_name text NOT NULL DEFAULT '',
    ADD COLUMN state text NOT NULL DEFAULT 'active' CHECK (state IN ('pending', 'active')),
    ADD COLUMN message text NOT NULL DEFAULT '',
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE tripsage_trips.collaborators DROP CONSTRAINT collaborators_pkey;
ALTER TABLE tripsage_trips.collaborators ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE tripsage_trips.collaborators ADD PRIMARY KEY (id);
ALTER TABLE tripsage_trips.collaborators
    ADD CONSTRAINT collaborators_user_when_active CHECK ((state = 'active') = (user_id IS NOT NULL));
CREATE UNIQUE INDEX collaborators_trip_user_key ON tripsage_trips.collaborators (trip_id, user_id);
CREATE UNIQUE INDEX collaborators_trip_email_key ON tripsage_trips.collaborators (trip_id, email)
    WHERE email <> '';
CREATE INDEX collaborators_pending_email_idx ON tripsage_trips.collaborators (email)
    WHERE state = 'pending';
CREATE INDEX collaborators_trip_created_idx
    ON tripsage_trips.collaborators (trip_id, created_at, id);

-- The caller's relation to a trip: owner, admin, edit, view, public (a signed-in
-- stranger reading a public trip) or NULL.
CREATE OR REPLACE FUNCTION tripsage_trips.caller_access(trip uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT CASE
            WHEN t.owner_id = tripsage_trips.caller_id() THEN 'owner'
            ELSE coalesce(
                (SELECT c.role FROM tripsage_trips.collaborators c
                  WHERE c.trip_id = t.id AND c.state = 'active'
                    AND c.user_id = tripsage_trips.caller_id()),
                CASE WHEN t.visibility = 'public' AND tripsage_trips.caller_id() IS NOT NULL
                     THEN 'public' END)
        END
        FROM tripsage_trips.trips t WHERE t.id = trip
    $$;

-- A public trip's readers see its items but not who it is shared with.
DROP POLICY collaborators_select ON tripsage_trips.collaborators;
CREATE POLICY collaborators_select ON tripsage_trips.collaborators FOR SELECT
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit', 'view'));

-- Only these trip columns are writable by callers; owner_id moves through
-- transfer_ownership() alone, so an editor cannot make a trip theirs.
REVOKE UPDATE ON tripsage_trips.trips FROM tripsage_trips_caller;
GRANT UPDATE (title, description, start_date, end_date, destinations, budget_currency,
              budget_units, budget_nanos, adults, children, status, tags, visibility,
              preferences, version, updated_at)
    ON tripsage_trips.trips TO tripsage_trips_caller;
-- Likewise a collaborator row's user, email and state change only by accepting.
REVOKE UPDATE ON tripsage_trips.collaborators FROM tripsage_trips_caller;
GRANT UPDATE (role, version, updated_at) ON tripsage_trips.collaborators
    TO tripsage_trips_caller;

CREATE TABLE tripsage_trips.itinerary_items (
    id uuid PRIMARY KEY,
    trip_id uuid NOT NULL REFERENCES tripsage_trips.trips (id) ON DELETE CASCADE,
    kind text NOT NULL
        CHECK (kind IN ('flight', 'accommodation', 'activity', 'meal', 'transport', 'note')),
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    day date,
    start_time timestamptz,
    end_time timestamptz,
    time_zone text NOT NULL DEFAULT '',
    location jsonb,
    cost_currency text,
    cost_units bigint,
    cost_nanos integer,
    booking_status text NOT NULL DEFAULT 'idea'
        CHECK (booking_status IN ('idea', 'saved', 'booked', 'cancelled')),
    booking_reference text NOT NULL DEFAULT '',
    provider text NOT NULL DEFAULT '',
    offer_id text NOT NULL DEFAULT '',
    offer_snapshot jsonb,
    position integer NOT NULL DEFAULT 0,
    created_by uuid NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (end_time IS NULL OR start_time IS NULL OR end_time >= start_time)
);
CREATE INDEX itinerary_items_trip_day_idx
    ON tripsage_trips.itinerary_items (trip_id, day, position, id);

CREATE TABLE tripsage_trips.trip_activity (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    trip_id uuid NOT NULL REFERENCES tripsage_trips.trips (id) ON DELETE CASCADE,
    actor_id uuid NOT NULL,
    kind text NOT NULL,
    summary text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX trip_activity_trip_seq_idx ON tripsage_trips.trip_activity (trip_id, seq);

-- Idempotency-Key records of Create RPCs (tripsage_core.idempotency): the
-- primary key makes a concurrent retry wait for the first attempt's commit.
CREATE TABLE tripsage_trips.idempotency_keys (
    caller_id uuid NOT NULL,
    method text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    resource_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, method, key)
);

ALTER TABLE tripsage_trips.itinerary_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE tripsage_trips.trip_activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE tripsage_trips.idempotency_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY items_select ON tripsage_trips.itinerary_items FOR SELECT
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IS NOT NULL);
CREATE POLICY items_insert ON tripsage_trips.itinerary_items FOR INSERT
    TO tripsage_trips_caller
    WITH CHECK (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit')
                AND created_by = tripsage_trips.caller_id());
CREATE POLICY items_update ON tripsage_trips.itinerary_items FOR UPDATE
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit'))
    WITH CHECK (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit'));
CREATE POLICY items_delete ON tripsage_trips.itinerary_items FOR DELETE
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit'));

-- The log is append-only for callers: no UPDATE or DELETE grant below.
CREATE POLICY activity_select ON tripsage_trips.trip_activity FOR SELECT
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit', 'view'));
CREATE POLICY activity_insert ON tripsage_trips.trip_activity FOR INSERT
    TO tripsage_trips_caller
    WITH CHECK (actor_id = tripsage_trips.caller_id()
                AND tripsage_trips.caller_access(trip_id) IN ('owner', 'admin', 'edit', 'view'));

CREATE POLICY idempotency_own ON tripsage_trips.idempotency_keys FOR ALL
    TO tripsage_trips_caller
    USING (caller_id = tripsage_trips.caller_id())
    WITH CHECK (caller_id = tripsage_trips.caller_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON tripsage_trips.itinerary_items TO tripsage_trips_caller;
GRANT SELECT, INSERT ON tripsage_trips.trip_activity TO tripsage_trips_caller;
GRANT SELECT, INSERT, UPDATE, DELETE ON tripsage_trips.idempotency_keys TO tripsage_trips_caller;

-- Moves a trip to one of its active collaborators; the previous owner stays
-- on as admin. Returns 'ok', 'not_found', 'not_owner', 'not_collaborator' or
-- 'stale' (expected_version given and no longer current).
CREATE FUNCTION tripsage_trips.transfer_ownership(
    trip uuid, new_owner uuid, expected_version integer
) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        me uuid := tripsage_trips.caller_id();
        current_trip tripsage_trips.trips%ROWTYPE;
    BEGIN
        SELECT * INTO current_trip FROM tripsage_trips.trips WHERE id = trip FOR UPDATE;
        IF me IS NULL OR NOT FOUND OR tripsage_trips.caller_access(trip) IS NULL THEN
            RETURN 'not_found';
        END IF;
        IF current_trip.owner_id <> me THEN
            RETURN 'not_owner';
        END IF;
        IF expected_version IS NOT NULL AND current_trip.version <> expected_version THEN
            RETURN 'stale';
        END IF;
        DELETE FROM tripsage_trips.collaborators
            WHERE trip_id = trip AND user_id = new_owner AND state = 'active';
        IF NOT FOUND THEN
            RETURN 'not_collaborator';
        END IF;
        UPDATE tripsage_trips.trips
            SET owner_id = new_owner, version = version + 1, updated_at = now()
            WHERE id = trip;
        INSERT INTO tripsage_trips.collaborators (trip_id, user_id, role, added_by, state)
            VALUES (trip, me, 'admin', new_owner, 'active');
        INSERT INTO tripsage_trips.trip_activity (trip_id, actor_id, kind, summary, details)
            VALUES (trip, me, 'ownership_transferred', 'transferred ownership',
                    jsonb_build_object('previous_owner_id', me, 'new_owner_id', new_owner));
        RETURN 'ok';
    END
    $$;

-- Turns the caller's pending invitation into membership. Returns the trip id,
-- or NULL when no pending invitation with that id is addressed to the caller.
CREATE FUNCTION tripsage_trips.accept_invitation(invitation uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        me uuid := tripsage_trips.caller_id();
        pending tripsage_trips.collaborators%ROWTYPE;
    BEGIN
        SELECT * INTO pending FROM tripsage_trips.collaborators
            WHERE id = invitation AND state = 'pending'
              AND email = tripsage_trips.caller_email() AND me IS NOT NULL
            FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF tripsage_trips.caller_access(pending.trip_id) IN ('owner', 'admin', 'edit', 'view') THEN
            -- Already on the trip: the invitation has nothing left to give.
            DELETE FROM tripsage_trips.collaborators WHERE id = invitation;
        ELSE
            UPDATE tripsage_trips.collaborators
                SET user_id = me, state = 'active', version = version + 1, updated_at = now()
                WHERE id = invitation;
        END IF;
        INSERT INTO tripsage_trips.trip_activity (trip_id, actor_id, kind, summary, details)
            VALUES (pending.trip_id, me, 'invitation_accepted',
                    'accepted the invitation as ' || pending.role,
                    jsonb_build_object('collaborator_id', invitation, 'role', pending.role));
        RETURN pending.trip_id;
    END
    $$;

-- Withdraws the caller's own pending invitation. Returns whether one existed.
CREATE FUNCTION tripsage_trips.decline_invitation(invitation uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        me uuid := tripsage_trips.caller_id();
        pending tripsage_trips.collaborators%ROWTYPE;
    BEGIN
        DELETE FROM tripsage_trips.collaborators
            WHERE id = invitation AND state = 'pending'
              AND email = tripsage_trips.caller_email() AND me IS NOT NULL
            RETURNING * INTO pending;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        INSERT INTO tripsage_trips.trip_activity (trip_id, actor_id, kind, summary, details)
            VALUES (pending.trip_id, me, 'invitation_declined', 'declined the invitation',
                    jsonb_build_object('collaborator_id', invitation, 'email', pending.email));
        RETURN true;
    END
    $$;

-- Accepts every pending invitation addressed to the caller's email: an
-- invitation to an address without an account becomes membership once its
-- owner has registered and uses trips. Returns how many were accepted.
CREATE FUNCTION tripsage_trips.claim_invitations() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        invitation uuid;
        claimed integer := 0;
    BEGIN
        IF tripsage_trips.caller_email() IS NULL OR tripsage_trips.caller_id() IS NULL THEN
            RETURN 0;
        END IF;
        FOR invitation IN
            SELECT id FROM tripsage_trips.collaborators
            WHERE state = 'pending' AND email = tripsage_trips.caller_email()
        LOOP
            IF tripsage_trips.accept_invitation(invitation) IS NOT NULL THEN
                claimed := claimed + 1;
            END IF;
        END LOOP;
        RETURN claimed;
    END
    $$;

-- The caller's pending invitations with what an invitee may know of the trip.
CREATE FUNCTION tripsage_trips.caller_invitations()
    RETURNS TABLE (id uuid, trip_id uuid, trip_title text, role text, invited_by uuid,
                   message text, created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT c.id, c.trip_id, t.title, c.role, c.added_by, c.message, c.created_at
        FROM tripsage_trips.collaborators c
        JOIN tripsage_trips.trips t ON t.id = c.trip_id
        WHERE c.state = 'pending' AND c.email = tripsage_trips.caller_email()
          AND tripsage_trips.caller_id() IS NOT NULL
    $$;

REVOKE ALL ON FUNCTION tripsage_trips.transfer_ownership(uuid, uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tripsage_trips.accept_invitation(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tripsage_trips.decline_invitation(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tripsage_trips.claim_invitations() FROM PUBLIC;
REVOKE ALL ON FUNCTION tripsage_trips.caller_invitations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tripsage_trips.transfer_ownership(uuid, uuid, integer)
    TO tripsage_trips_caller;
GRANT EXECUTE ON FUNCTION tripsage_trips.accept_invitation(uuid) TO tripsage_trips_caller;
GRANT EXECUTE ON FUNCTION tripsage_trips.decline_invitation(uuid) TO tripsage_trips_caller;
GRANT EXECUTE ON FUNCTION tripsage_trips.claim_invitations() TO tripsage_trips_caller;
GRANT EXECUTE ON FUNCTION tripsage_trips.caller_invitations() TO tripsage_trips_caller;
