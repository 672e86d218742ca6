-- An assistant message whose tool calls propose changes waits for the user's approval;
-- the tool messages record the decision in tool_result->>'approval' (no new column:
-- the JSON already carries the call's outcome).
ALTER TABLE tripsage_assistant.messages DROP CONSTRAINT messages_status_check;
ALTER TABLE tripsage_assistant.messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('complete', 'partial', 'failed', 'awaiting_approval'));
