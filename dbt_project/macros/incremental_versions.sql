{#- Base models of versioned records are incremental by record key: a run recomputes
    only the records (every version of each) that rows loaded since the model was last
    built touch, and replaces them (delete+insert by the key). A record's versions
    are ranked among themselves only, so ranking just those gives the same
    version_rank as ranking everything. Raw is append-only: a correction is a new
    row, never an update. Outside an incremental run (first build, --full-refresh)
    every record is built. The index on the key is what the replacing delete and the
    next run's lookups use (the project's post-hook analyzes the table as before).
    The key must not be null (a not_null test on the model says so): a null key
    matches no key, so its rows would be neither recomputed nor replaced. -#}
{% macro incremental_versions_config(key, on_schema_change='fail') -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=key,
        on_schema_change=on_schema_change,
        post_hook=[
            "create index if not exists {{ this.identifier }}__" ~ key
                ~ " on {{ this }} (" ~ key ~ ")"
        ]
    ) }}
{%- endmacro %}

{#- The filter of a base model's import CTE over its raw table: rows of the records
    that rows loaded since the last build touch. -#}
{% macro incremental_versions_filter(raw_key, raw_relation, loaded_at='_extracted_at') -%}
    {%- if is_incremental() %}
    where {{ raw_key }} in (
        select {{ raw_key }}
        from {{ raw_relation }}
        where {{ loaded_at }} > (
            select coalesce(max(extracted_at), '-infinity'::timestamptz) from {{ this }}
        )
    )
    {%- endif %}
{%- endmacro %}

{#- The filter of a model with one row per record (its latest version) over the staged
    records: those whose latest version was loaded since the model was last built. A
    late row that is not the latest version changes no staged row, and none here.
    rebuild_after lists (relation, loaded-at column) pairs whose load since the last
    build changes every record (the region master): then every record is built, as it
    is over a table built before the model was incremental (no loaded_at column). -#}
{% macro incremental_records_filter(loaded_at='extracted_at', rebuild_after=[]) -%}
    {%- if is_incremental() and loaded_at in (
        adapter.get_columns_in_relation(this) | map(attribute='name') | list
    ) %}
    where {{ loaded_at }} > (
        select coalesce(max({{ loaded_at }}), '-infinity'::timestamptz) from {{ this }}
    )
    {%- for relation, relation_loaded_at in rebuild_after %}
        or (select max({{ relation_loaded_at }}) from {{ relation }}) > (
            select coalesce(max({{ loaded_at }}), '-infinity'::timestamptz) from {{ this }}
        )
    {%- endfor %}
    {%- endif %}
{%- endmacro %}
