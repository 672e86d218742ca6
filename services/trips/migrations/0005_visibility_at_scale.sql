-- Visibility that indexes can answer, for ListTrips at data size (bench/data_scale.py:
-- a million trips). Who sees what is unchanged; only how the database finds it.
--
-- ListTrips (services/trips/store.py) reads a page as two index-ordered branches merged
-- by UNION ALL: the caller's own trips (by owner, in page order, from the indexes below)
-- and the trips they are an active collaborator on (from caller_memberships()). Each
-- branch stops at the page size, so a page costs the same at the first page or the
-- tenth, for a caller with 50 trips or 2,000.

-- Page order by start date is coalesce(start_date, 'infinity'): undated trips last.
CREATE INDEX trips_owner_start_key_idx
    ON tripsage_trips.trips (owner_id, (coalesce(start_date, 'infinity'::date)), id);
-- (owner_id, updated_at, id) of 0001 serves the update-time order, read backwards.
-- The status filter keeps index order within one status.
CREATE INDEX trips_owner_status_start_key_idx
    ON tripsage_trips.trips (owner_id, status, (coalesce(start_date, 'infinity'::date)), id);
CREATE INDEX trips_owner_status_updated_idx
    ON tripsage_trips.trips (owner_id, status, updated_at, id);

-- The caller's active memberships, straight from the index.
CREATE INDEX collaborators_active_user_idx
    ON tripsage_trips.collaborators (user_id, trip_id) INCLUDE (role) WHERE state = 'active';

-- The trips the caller is an active collaborator on, with their role. SECURITY DEFINER
-- so that listing them does not evaluate the collaborators policy (caller_access() per
-- row); it shows only the caller's own memberships, which that policy shows them anyway.
CREATE FUNCTION tripsage_trips.caller_memberships()
    RETURNS TABLE (trip_id uuid, role text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    ROWS 20
    AS $$
        SELECT c.trip_id, c.role FROM tripsage_trips.collaborators c
        WHERE c.user_id = tripsage_trips.caller_id() AND c.state = 'active'
    $$;
REVOKE ALL ON FUNCTION tripsage_trips.caller_memberships() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tripsage_trips.caller_memberships() TO tripsage_trips_caller;

-- The trips policy of 0001, with what caller_access(id) IS NOT NULL means spelled out so
-- that it is not one SECURITY DEFINER call per row: owner, active collaborator (the
-- caller's memberships, read once per query), or a public trip and a signed-in caller.
DROP POLICY trips_select ON tripsage_trips.trips;
CREATE POLICY trips_select ON tripsage_trips.trips FOR SELECT TO tripsage_trips_caller
    USING (owner_id = tripsage_trips.caller_id()
           OR id IN (SELECT m.trip_id FROM tripsage_trips.caller_memberships() m)
           OR (visibility = 'public' AND tripsage_trips.caller_id() IS NOT NULL));
