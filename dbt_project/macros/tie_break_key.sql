{#- The tie-break order of a scheme with any number of tie-break categories, as one
    sortable text. Each unit gets, for every tie-break category, its dense rank on that
    category's score within its peer group and month (1 = the best score; a missing
    score ranks last); the key is those ranks zero-padded to 10 digits and joined in
    tie_break order. Ordering by the key ascending orders by the first category's
    score, then by the second's, and so on: two units have the same key exactly when
    every tie-break category score is equal. Null when the scheme has no tie-break.
    Cross-database: dbt's right, concat and listagg. -#}

{#- One category rank as 10 digits: 7 -> '0000000007'. -#}
{% macro tie_break_rank_text(rank_expr) -%}
    {{ dbt.right(dbt.concat(["'0000000000'",
                             "cast(" ~ rank_expr ~ " as " ~ dbt.type_string() ~ ")"]), 10) }}
{%- endmacro %}

{#- The key: an aggregate over a unit's rows of (position, category rank). -#}
{% macro tie_break_key(rank_expr, position_expr) -%}
    {{ dbt.listagg(tie_break_rank_text(rank_expr), "'.'", "order by " ~ position_expr) }}
{%- endmacro %}
