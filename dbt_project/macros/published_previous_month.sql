{#- Last month as published: every row of a published month's revision in force
    (`published`, e.g. int_publication_units_in_force_selected), under the version that
    published it (from `publications`), keyed by the month it is the previous of
    (next_month_start). A month's comparisons with last month read it first, and the
    data as they are now only for what was never published under the same version.
    `columns`: (expression over `published`, alias) pairs to carry. -#}
{% macro published_previous_month(published, publications, columns) -%}
    select
        {{ published }}.scheme_code,
        {{ publications }}.scheme_version,
        {{ published }}.region_code,
        cast({{ published }}.month_start + interval '1 month' as date) as next_month_start,
        {%- for expression, alias in columns %}
        {{ expression }} as {{ alias }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ published }}
    inner join {{ publications }}
        on {{ published }}.scheme_code = {{ publications }}.scheme_code
        and {{ published }}.month_start = {{ publications }}.month_start
        and {{ published }}.revision = {{ publications }}.revision
{%- endmacro %}
