-- Warehouse layers (DESIGN.md §5). Idempotent: applied at the start of every run.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists seeds;
comment on schema raw is 'as extracted, append-only; personal data keyed-hashed';
comment on schema staging is 'dbt staging views: renamed, typed, de-duplicated';
comment on schema intermediate is 'dbt region x month metrics';
comment on schema marts is 'what BI tools and the bulletin read';
