-- Each user's assistant use per UTC day (messages sent, model tokens), for the daily
-- allowance (ASSISTANT_DAILY_MESSAGES, ASSISTANT_DAILY_TOKENS). One row per user and day,
-- counted in the same transaction that stores the user's message, so replicas agree.
CREATE TABLE tripsage_assistant.daily_usage (
    user_id uuid NOT NULL,
    day date NOT NULL,
    messages integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
    tokens bigint NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    PRIMARY KEY (user_id, day)
);

ALTER TABLE tripsage_assistant.daily_usage ENABLE ROW LEVEL SECURITY;

CREATE POLICY daily_usage_own ON tripsage_assistant.daily_usage FOR ALL
    TO tripsage_assistant_caller
    USING (user_id = tripsage_assistant.caller_id())
    WITH CHECK (user_id = tripsage_assistant.caller_id());

GRANT SELECT, INSERT, UPDATE ON tripsage_assistant.daily_usage TO tripsage_assistant_caller;
