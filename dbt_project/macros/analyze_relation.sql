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
