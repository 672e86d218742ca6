-- Who may publish, and what publishing shows.
--
-- Only the owner and admin collaborators change a trip's visibility. The service
-- checks it first for a clear error; this trigger is the backstop for any write
-- that forgot to, as RLS is for reads. Callers without app.user_id (operators
-- connected as the schema owner) are not callers and pass.
CREATE FUNCTION tripsage_trips.guard_visibility() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.visibility IS DISTINCT FROM OLD.visibility
           AND tripsage_trips.caller_id() IS NOT NULL
           AND coalesce(tripsage_trips.caller_access(OLD.id), '') NOT IN ('owner', 'admin') THEN
            RAISE EXCEPTION 'only the owner or an admin collaborator changes visibility'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER trips_visibility_guard
    BEFORE UPDATE OF visibility ON tripsage_trips.trips
    FOR EACH ROW EXECUTE FUNCTION tripsage_trips.guard_visibility();

-- A public trip's readers who are not on it see its plan, not its notes.
DROP POLICY items_select ON tripsage_trips.itinerary_items;
CREATE POLICY items_select ON tripsage_trips.itinerary_items FOR SELECT
    TO tripsage_trips_caller
    -- One caller_access() call per row, as before: 'public' counts only for other kinds.
    USING (tripsage_trips.caller_access(trip_id)
           IN ('owner', 'admin', 'edit', 'view', CASE WHEN kind <> 'note' THEN 'public' END));
