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

{#- The value of `expr` in the row of the same series (`partition_by` columns) dated
    exactly `months` calendar months before this row's `order_by` date (the first of a
    month), null when there is no such row. A window frame over that one month: one
    sort for every offset instead of a self-join per offset. -#}
{% macro value_months_before(expr, months, partition_by, order_by='month_start') -%}
    max({{ expr }}) over (
        partition by {{ partition_by | join(', ') }}
        order by {{ order_by }}
        range between interval '{{ months }} months' preceding
                  and interval '{{ months }} months' preceding
    )
{%- endmacro %}

{#- The mean of the expressions that are not null; null when all are. -#}
{% macro mean_of_present(exprs) -%}
    ({% for e in exprs %}coalesce({{ e }}, 0){{ ' + ' if not loop.last }}{% endfor %})
        / nullif({% for e in exprs %}case when {{ e }} is not null then 1 else 0 end{{ ' + ' if not loop.last }}{% endfor %}, 0)
{%- endmacro %}
