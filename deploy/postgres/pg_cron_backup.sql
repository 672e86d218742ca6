-- Daily in-database maintenance for databases that have the pg_cron extension.
-- pg_cron runs SQL inside PostgreSQL only: it cannot run pg_dump, so it is NOT the
-- backup. The backup is the Kubernetes CronJob `backup` (deploy/kubernetes/base/jobs.yaml,
-- see docs/deployment.md). This schedules a daily VACUUM ANALYZE at 02:30 UTC, before it.
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule('tripsage-daily-vacuum', '30 2 * * *', 'VACUUM (ANALYZE)');
-- Keep 14 days of pg_cron's own run history.
SELECT cron.schedule(
    'tripsage-cron-history-retention',
    '45 2 * * *',
    $$DELETE FROM cron.job_run_details WHERE end_time < now() - interval '14 days'$$
);
