{#- The first day of a quarter written YYYYQn (2024Q2; also 2024 q2), or null.
    Used by the survey's 统计季度; see cast_or_null.sql for why casts are guarded. -#}
{% macro quarter_or_null(expr) -%}
    case when ({{ expr }}) ~ '^[1-9][0-9]{3} ?[Qq][1-4]$'
        then make_date(
            cast(left(({{ expr }}), 4) as integer),
            cast(right(({{ expr }}), 1) as integer) * 3 - 2,
            1
        )
    end
{%- endmacro %}
