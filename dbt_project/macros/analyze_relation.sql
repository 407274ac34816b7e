{#- Planner statistics for a table dbt has just built, before the next model reads it.
    A new table has none until autovacuum gets to it, and inside one `dbt build` the
    next model runs at once: the planner then guesses row counts and chose nested
    loops over thousands of rows (int_scheme_items_valued took 15 to 92 s at county
    scale, 0.6 s with statistics). Used as a post-hook on tables and incremental
    models (dbt_project.yml); nothing on adapters without ANALYZE, or on views. -#}
{% macro analyze_relation() -%}
    {%- if target.type in ('postgres', 'redshift')
          and config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Planner statistics for the raw tables the sources name, when a load changed more than
    `share` of a table since its last analyze (a month's first COPY): run before any
    model plans a query over them (on-run-start). Autovacuum analyzes a loaded table
    seconds to a minute later, after the models that read it have been planned without
    statistics: on a province's first month int_police_incidents_located took 18 s
    instead of 1.6 s. Cheap when nothing is stale (one query of pg_stat_user_tables), as
    in every later node's invocation when each node is its own task. A table the dbt user
    does not own is skipped by PostgreSQL with a warning. -#}
{% macro analyze_stale_sources(share=0.1) -%}
    {%- if execute and target.type == 'postgres' -%}
        {%- set relations = [] -%}
        {%- for source in graph.sources.values() -%}
            {%- do relations.append(source.schema ~ '.' ~ source.identifier) -%}
        {%- endfor -%}
        do $$
        declare
            stale record;
        begin
            for stale in
                select s.relid::regclass as relation
                from pg_stat_user_tables as s
                where s.relid = any(array[
                        {%- for relation in relations | unique | sort %}
                        to_regclass('{{ relation }}'){{ "," if not loop.last }}
                        {%- endfor %}
                    ]::oid[])
                  and s.n_mod_since_analyze > {{ share }} * s.n_live_tup
            loop
                execute format('analyze %s', stale.relation);
            end loop;
        end
        $$
    {%- endif -%}
{%- endmacro %}
