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
{% macro incremental_versions_config(key) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=key,
        on_schema_change='fail',
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
