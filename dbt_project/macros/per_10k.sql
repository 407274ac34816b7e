{#- A count per 10,000 people; null when there is nobody to divide by, so that a
    region without population is never scored as if it had a zero rate. -#}
{% macro per_10k(count_expr, population_expr) -%}
    case when {{ population_expr }} > 0
         then {{ count_expr }} * 10000.0 / {{ population_expr }}
    end
{%- endmacro %}
