{#- Exact statistics of event counts (issue 15). The exact values come from the seeds
    poisson_interval_95 and poisson_change_critical_05 (pingan_transforms/scheme/
    statistics.py), joined by the model on the count (and on the two-period total);
    these macros use them up to 2000 and a stated approximation above, where the two
    agree to the figures shown. Formulas and references: schemes/README.md, "Statistics
    beside the index". -#}


{#- Lower or upper bound of the 95 % interval of a Poisson mean given count c:
    the seed's value, else Wilson–Hilferty's χ² quantile (k(1 − 2/9k ± z√(2/9k))³)/2. -#}
{% macro poisson_bound(count_expr, seed_expr, side) -%}
    {%- set z = 1.959963985 -%}
    case
        when {{ count_expr }} is null then null
        when {{ count_expr }} <= 2000 then {{ seed_expr }}
        {%- if side == 'lower' %}
        else (2 * {{ count_expr }}) * power(1 - 2.0 / (9 * 2 * {{ count_expr }})
             - {{ z }} * sqrt(2.0 / (9 * 2 * {{ count_expr }})), 3) / 2
        {%- else %}
        else (2 * {{ count_expr }} + 2) * power(1 - 2.0 / (9 * (2 * {{ count_expr }} + 2))
             + {{ z }} * sqrt(2.0 / (9 * (2 * {{ count_expr }} + 2))), 3) / 2
        {%- endif %}
    end
{%- endmacro %}

{#- The change from base count p to current count c as a score statistic,
    (c − p) / √(c + p): how many standard deviations of the two-period total's split
    the change is (null when either count is missing or both are 0). -#}
{% macro count_change_z(current_expr, base_expr) -%}
    case when {{ current_expr }} + {{ base_expr }} > 0
         then round(cast({{ current_expr }} - {{ base_expr }} as numeric)
                    / sqrt(cast({{ current_expr }} + {{ base_expr }} as numeric)), 2)
    end
{%- endmacro %}

{#- significant_rise / significant_fall / not_significant by the exact two-sided 5 %
    conditional binomial test: fall_at_most is the seed's value for n = c + p (joined
    by the model; null above 2000, where the normal approximation with continuity
    correction, |c − n/2| − 1/2 > 1.96 √n / 2, decides). Null when a count is missing. -#}
{% macro count_change_flag(current_expr, base_expr, fall_at_most_expr) -%}
    {%- set z = 1.959963985 -%}
    case
        when {{ current_expr }} is null or {{ base_expr }} is null then null
        when {{ current_expr }} + {{ base_expr }} > 2000 then
            case
                when abs({{ current_expr }} - ({{ current_expr }} + {{ base_expr }}) / 2.0) - 0.5
                     <= {{ z }} * sqrt({{ current_expr }} + {{ base_expr }}) / 2
                    then 'not_significant'
                when {{ current_expr }} > {{ base_expr }} then 'significant_rise'
                else 'significant_fall'
            end
        when {{ current_expr }} + {{ base_expr }} = 0 then 'not_significant'
        when {{ current_expr }} <= {{ fall_at_most_expr }} then 'significant_fall'
        when {{ current_expr }} >= {{ current_expr }} + {{ base_expr }} - {{ fall_at_most_expr }}
            then 'significant_rise'
        else 'not_significant'
    end
{%- endmacro %}

{#- The four columns of a count's month-on-month and year-on-year tests: previous_month_z,
    previous_month_change, last_year_z, last_year_change. The model joins the seed
    poisson_change_critical_05 twice, as previous_month_critical and last_year_critical,
    on current + previous and current + last year. -#}
{% macro count_changes_tested(current_expr, previous_expr, last_year_expr) -%}
    {{ count_change_z(current_expr, previous_expr) }} as previous_month_z,
    {{ count_change_flag(current_expr, previous_expr, 'previous_month_critical.fall_at_most') }}
        as previous_month_change,
    {{ count_change_z(current_expr, last_year_expr) }} as last_year_z,
    {{ count_change_flag(current_expr, last_year_expr, 'last_year_critical.fall_at_most') }}
        as last_year_change
{%- endmacro %}

{#- Whether a metric of the catalogue counts events (a Poisson count): kind count, and
    not an amount of money (元). -#}
{% macro is_event_count(kind_expr, unit_expr) -%}
    ({{ kind_expr }} = 'count' and {{ unit_expr }} <> '元')
{%- endmacro %}
