-- Invitations go only to a verified address, and only when the invitee says so.
--
-- 0002 matched invitations against the token's email alone and claimed every
-- match on each request (a write on every read). Now the store also sets
-- app.email_verified from the verified principal, caller_email() is NULL
-- unless it is 'true', and claim_invitations() is gone: an invitee lists,
-- accepts or declines invitations explicitly (accept_invitation and
-- decline_invitation of 0002, which read caller_email()).

CREATE OR REPLACE FUNCTION tripsage_trips.caller_email() RETURNS text
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN current_setting('app.email_verified', true) = 'true'
                    THEN lower(nullif(current_setting('app.user_email', true), '')) END
    $$;

DROP FUNCTION tripsage_trips.claim_invitations();
