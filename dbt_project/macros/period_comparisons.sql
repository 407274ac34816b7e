{#- Period comparisons of the report marts (incident_trends, rate_reports). -#}

{#- A metric's value from a numerator and denominator, as the rollup computes it:
    a count is its numerator; a rate is numerator / denominator (× 100 when the unit
    is %), null when there is nothing to divide by. -#}
{% macro metric_value(kind_expr, unit_expr, numerator_expr, denominator_expr) -%}
    case
        when {{ kind_expr }} = 'count' then {{ numerator_expr }}
        when {{ denominator_expr }} > 0 then
            {{ numerator_expr }} / {{ denominator_expr }}
            * case when {{ unit_expr }} = '%' then 100 else 1 end
    end
{%- endmacro %}

{#- Change in % from a base, to 2 decimals; null when the base is 0 or missing. -#}
{% macro pct_change(value_expr, base_expr) -%}
    case when {{ base_expr }} <> 0 then
        round(({{ value_expr }} - {{ base_expr }}) * 100.0 / {{ base_expr }}, 2)
    end
{%- endmacro %}
