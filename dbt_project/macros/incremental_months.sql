{#- Metric models are incremental by month: a run rebuilds only the months touched
    by rows loaded since the model was last built, so computing a month touches only
    that month's rows. `changed` lists (relation, month expression) pairs read over
    every row version (the base_ models), so a correction that moves a record from
    one month to another rebuilds both months. Outside an incremental run (first
    build, --full-refresh) the filter is empty and every month is built. -#}
{% macro incremental_month_filter(month_expr, changed, loaded_at='extracted_at') -%}
    {%- if is_incremental() %}
    where cast({{ month_expr }} as date) in (
        {%- for relation, changed_month_expr in changed %}
        select distinct cast(date_trunc('month', {{ changed_month_expr }}) as date)
        from {{ relation }}
        where {{ loaded_at }} > (
            select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }}
        )
        {%- if not loop.last %}
        union
        {%- endif %}
        {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}

{#- The config every metric fact model shares. -#}
{% macro metric_model_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_start',
        on_schema_change='fail'
    ) }}
{%- endmacro %}
