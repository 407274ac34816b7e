-- Least-privilege group roles (DESIGN.md §5). Idempotent: applied at the start of every run.
-- Roles are cluster-wide (created once per server); the grants are per database. Log-in
-- users are made members by the DBA, e.g. `create user etl login password '…' in role
-- pingan_loader`.
--
--   pingan_loader       extraction only: writes raw (select/insert/update; raw is
--                       append-only, watermarks are upserted), nothing else.
--   pingan_transformer  dbt: reads raw, schemes, publish (the source of marts.publications)
--                       and seeds; creates and replaces relations in staging,
--                       intermediate, marts and seeds.
--   pingan_bi_reader    BI tools: reads the marts dbt grants it (`+grants` in
--                       dbt_project.yml): the published numbers (region_index_published),
--                       month_status, publications, the revision candidates and the
--                       period reports; not the current score tables (region_index_monthly,
--                       _categories, _items: they hold months nobody published, e.g. one
--                       whose gate failed), and nothing in raw, staging, intermediate,
--                       seeds, schemes, publish. Views run with their owner's rights, so
--                       marts.publications reads publish.publications without the reader
--                       being granted publish.
--
-- Who owns what. The user that applies these scripts (the pipeline's configured user;
-- `postgres` on the embedded server) owns the schemas and every table created here:
-- raw, schemes and publish (the scheme loader and the publish step write those two as
-- that user). Relations dbt creates are owned by the user dbt connects as: to keep
-- them owned by the group, so that any transformer can replace them, dbt should act as
-- pingan_transformer (`PINGAN_DBT_ROLE=pingan_transformer`, i.e. `set role`). Default
-- privileges apply to objects created by the role they name, hence one set for the
-- owner of this script (current_user) and one for the group roles that create tables
-- themselves. dbt also re-grants select on every mart it builds (`+grants` in
-- dbt_project.yml), whoever it runs as.

do $$
declare
    role_name text;
begin
    foreach role_name in array array['pingan_loader', 'pingan_transformer', 'pingan_bi_reader'] loop
        if not exists (select from pg_roles where rolname = role_name) then
            begin
                execute format('create role %I nologin', role_name);
            exception
                when duplicate_object or unique_violation then
                    null;  -- created meanwhile by another database's initialiser
                when insufficient_privilege then
                    raise exception 'role % does not exist and % may not create it', role_name, current_user
                        using hint = 'apply infra/warehouse/013_roles.sql once as a role with CREATEROLE';
            end;
        end if;
    end loop;
end $$;

-- pingan_loader: raw only.
grant usage, create on schema raw to pingan_loader;
grant select, insert, update on all tables in schema raw to pingan_loader;
grant usage, select on all sequences in schema raw to pingan_loader;
alter default privileges in schema raw grant select, insert, update on tables to pingan_loader;
alter default privileges in schema raw grant usage, select on sequences to pingan_loader;

-- pingan_transformer: reads the sources of dbt, writes the dbt layers.
grant usage on schema raw, schemes, publish, seeds to pingan_transformer;
grant select on all tables in schema raw, schemes, publish, seeds to pingan_transformer;
alter default privileges in schema raw, schemes, publish, seeds
    grant select on tables to pingan_transformer;
grant usage, create on schema staging, intermediate, marts, seeds to pingan_transformer;

-- pingan_bi_reader: the marts dbt grants it, nothing by default (a warehouse set up
-- before the published views gave it every mart: those grants are taken back here).
grant usage on schema marts to pingan_bi_reader;
alter default privileges in schema marts revoke select on tables from pingan_bi_reader;
do $$
declare
    current_table text;
begin
    foreach current_table in array array['region_index_monthly', 'region_index_categories',
                                         'region_index_items'] loop
        if to_regclass('marts.' || current_table) is not null then
            execute format('revoke select on marts.%I from pingan_bi_reader', current_table);
        end if;
    end loop;
end $$;

-- Default privileges for tables the group roles create themselves (ALTER DEFAULT
-- PRIVILEGES FOR ROLE needs membership of that role; a superuser has it, a CREATEROLE
-- user that is not a member is told so and these are skipped).
do $$
begin
    alter default privileges for role pingan_loader in schema raw
        grant select on tables to pingan_transformer;
    alter default privileges for role pingan_transformer in schema marts
        revoke select on tables from pingan_bi_reader;
exception
    when insufficient_privilege then
        raise notice '% is not a member of pingan_loader / pingan_transformer: '
            'default privileges for the tables they create are not set', current_user;
end $$;
