-- The assistant's own schema; conversations and memories arrive with their issue.
CREATE SCHEMA IF NOT EXISTS tripsage_assistant;
