-- Semantic memory search: each memory's embedding (pgvector), when the database has the
-- extension (the embedded PostgreSQL, Supabase and most managed PostgreSQL do). Without it
-- nothing changes and search stays full-text (docs/assistant.md). No dimension is fixed:
-- it is the embedding model's, and the model's name is kept beside each vector so that
-- vectors of different models are never compared. A user keeps at most 1000 memories,
-- so their vectors are compared exactly, without an approximate index.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        CREATE EXTENSION IF NOT EXISTS vector;
        ALTER TABLE tripsage_assistant.memories ADD COLUMN embedding vector;
        ALTER TABLE tripsage_assistant.memories ADD COLUMN embedding_model text;
    END IF;
END
$$;
