-- Trips and collaborators, protected by row level security.
--
-- The service connects as the schema owner but runs each request's transaction
-- as tripsage_trips_caller (SET LOCAL ROLE), a role that owns nothing, with the
-- caller's user id in the transaction-local setting app.user_id. The policies
-- below then decide visibility in the database itself.
CREATE SCHEMA IF NOT EXISTS tripsage_trips;

DO $$
BEGIN
    CREATE ROLE tripsage_trips_caller NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- roles are cluster-wide; another database of this cluster made it
END
$$;
GRANT tripsage_trips_caller TO CURRENT_USER;
GRANT USAGE ON SCHEMA tripsage_trips TO tripsage_trips_caller;

CREATE TABLE tripsage_trips.trips (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    start_date date,
    end_date date,
    destinations jsonb NOT NULL DEFAULT '[]'::jsonb,
    budget_currency text,
    budget_units bigint,
    budget_nanos integer,
    adults integer NOT NULL DEFAULT 1 CHECK (adults >= 0),
    children integer NOT NULL DEFAULT 0 CHECK (children >= 0),
    status text NOT NULL DEFAULT 'planning',
    tags text[] NOT NULL DEFAULT '{}',
    visibility text NOT NULL DEFAULT 'private',
    preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX trips_owner_start_idx ON tripsage_trips.trips (owner_id, start_date, id);
CREATE INDEX trips_owner_updated_idx ON tripsage_trips.trips (owner_id, updated_at, id);

CREATE TABLE tripsage_trips.collaborators (
    trip_id uuid NOT NULL REFERENCES tripsage_trips.trips (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('view', 'edit', 'admin')),
    added_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trip_id, user_id)
);
CREATE INDEX collaborators_user_idx ON tripsage_trips.collaborators (user_id);

CREATE FUNCTION tripsage_trips.caller_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

-- The caller's relation to a trip: owner, admin, edit, view or NULL. SECURITY
-- DEFINER so policies on trips and collaborators can consult each other
-- without recursing through each other's policies.
CREATE FUNCTION tripsage_trips.caller_access(trip uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT CASE
            WHEN t.owner_id = tripsage_trips.caller_id() THEN 'owner'
            ELSE (SELECT c.role FROM tripsage_trips.collaborators c
                  WHERE c.trip_id = t.id AND c.user_id = tripsage_trips.caller_id())
        END
        FROM tripsage_trips.trips t WHERE t.id = trip
    $$;
REVOKE ALL ON FUNCTION tripsage_trips.caller_access(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tripsage_trips.caller_access(uuid) TO tripsage_trips_caller;
GRANT EXECUTE ON FUNCTION tripsage_trips.caller_id() TO tripsage_trips_caller;

ALTER TABLE tripsage_trips.trips ENABLE ROW LEVEL SECURITY;
ALTER TABLE tripsage_trips.collaborators ENABLE ROW LEVEL SECURITY;

CREATE POLICY trips_select ON tripsage_trips.trips FOR SELECT TO tripsage_trips_caller
    USING (owner_id = tripsage_trips.caller_id()
           OR tripsage_trips.caller_access(id) IS NOT NULL);
CREATE POLICY trips_insert ON tripsage_trips.trips FOR INSERT TO tripsage_trips_caller
    WITH CHECK (owner_id = tripsage_trips.caller_id());
CREATE POLICY trips_update ON tripsage_trips.trips FOR UPDATE TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(id) IN ('owner', 'admin', 'edit'))
    WITH CHECK (tripsage_trips.caller_access(id) IN ('owner', 'admin', 'edit'));
CREATE POLICY trips_delete ON tripsage_trips.trips FOR DELETE TO tripsage_trips_caller
    USING (owner_id = tripsage_trips.caller_id());

CREATE POLICY collaborators_select ON tripsage_trips.collaborators FOR SELECT
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IS NOT NULL);
CREATE POLICY collaborators_insert ON tripsage_trips.collaborators FOR INSERT
    TO tripsage_trips_caller
    WITH CHECK (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin'));
CREATE POLICY collaborators_update ON tripsage_trips.collaborators FOR UPDATE
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin'));
CREATE POLICY collaborators_delete ON tripsage_trips.collaborators FOR DELETE
    TO tripsage_trips_caller
    USING (tripsage_trips.caller_access(trip_id) IN ('owner', 'admin')
           OR user_id = tripsage_trips.caller_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tripsage_trips
    TO tripsage_trips_caller;
