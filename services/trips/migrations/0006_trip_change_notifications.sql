-- Live trip updates (WatchTrip, docs/trips.md "WatchTrip"): every committed change
-- to a trip is announced on one channel, and activity entries of a trip are
-- numbered in the order their transactions commit.
--
-- Channel tripsage_trips_changes, payload "<trip id>:<seq>" for a new activity
-- entry and "<trip id>:deleted" for a deleted trip (its log goes with it). NOTIFY
-- is delivered only after the writing transaction commits, and not at all when it
-- rolls back; the payload names no user data, a watcher reads the log itself
-- under row level security.

-- seq is taken under the trip's row lock, held until commit: of two writers to one
-- trip, the one that commits first has the lower seq, so a watcher that has read
-- up to N never later finds an entry below N appear. (Writers already take that
-- lock to bump updated_at; taking it here first adds no new lock order.)
CREATE FUNCTION tripsage_trips.number_activity() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        PERFORM 1 FROM tripsage_trips.trips WHERE id = NEW.trip_id FOR UPDATE;
        NEW.seq := nextval(pg_get_serial_sequence('tripsage_trips.trip_activity', 'seq'));
        RETURN NEW;
    END
    $$;
CREATE TRIGGER trip_activity_number BEFORE INSERT ON tripsage_trips.trip_activity
    FOR EACH ROW EXECUTE FUNCTION tripsage_trips.number_activity();

CREATE FUNCTION tripsage_trips.announce_activity() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        PERFORM pg_notify('tripsage_trips_changes', NEW.trip_id::text || ':' || NEW.seq::text);
        RETURN NULL;
    END
    $$;
CREATE TRIGGER trip_activity_announce AFTER INSERT ON tripsage_trips.trip_activity
    FOR EACH ROW EXECUTE FUNCTION tripsage_trips.announce_activity();

CREATE FUNCTION tripsage_trips.announce_trip_deleted() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        PERFORM pg_notify('tripsage_trips_changes', OLD.id::text || ':deleted');
        RETURN NULL;
    END
    $$;
CREATE TRIGGER trips_announce_deleted AFTER DELETE ON tripsage_trips.trips
    FOR EACH ROW EXECUTE FUNCTION tripsage_trips.announce_trip_deleted();

