{#- Every scheme item for every ranked unit and month: the metric value, its
    normalised value, and the same for the months a `change` rule can compare with
    (last month, the same month last year, the mean of the same month in the three
    previous years that have data). Last month is taken as published (its revision in
    force) when it was published under the same version, else as the data give it. Months are those every monthly source has
    delivered (var scored_month_sources). Every version is valued for every month with
    data, so that a month can be restated under a later version.
    Grain: scheme × version × region × month × item. -#}
{%- set item_series = ['scheme_code', 'scheme_version', 'region_code', 'item_code'] -%}

with

items as (

    select * from {{ ref('stg_schemes__items') }}

),

nodes as (

    select * from {{ ref('stg_schemes__nodes') }}

),

units as (

    select * from {{ ref('int_scheme_units_assigned') }}

),

metrics as not materialized (

    {#- Read twice (months, valued): not materialised, each reads the table with its
        own filter instead of copying the whole rollup (3.4 million rows of a
        province) into a CTE first. -#}
    select * from {{ ref('int_region_metrics_rolled_up') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

published_items as (

    select * from {{ ref('int_publication_items_in_force_selected') }}

),

months as (

    {#- A month is scored once every monthly source (var scored_month_sources) has
        delivered facts for it; the quarterly survey alone does not make a month. -#}
    select metrics.month_start
    from metrics
    inner join catalogue
        on metrics.metric_code = catalogue.metric_code
    where metrics.numerator > 0
      and catalogue.source in (
          {%- for source in var('scored_month_sources') %}
          '{{ source }}'{{ ',' if not loop.last }}
          {%- endfor %}
      )
    group by metrics.month_start
    having count(distinct catalogue.source) = {{ var('scored_month_sources') | length }}

),

unit_items as (

    select
        units.scheme_code,
        units.scheme_version,
        units.region_code,
        units.peer_group_code,
        units.resident_population,
        units.floating_population,
        items.item_code,
        items.indicator_code,
        items.category_code,
        items.metric_code,
        items.normalisation,
        items.smoothing,
        items.rule,
        items.if_no_data,
        items.baseline,
        items.per_unit,
        items.cap,
        items.target,
        items.floor,
        items.compare_to,
        items.min_count,
        items.better,
        items.threshold,
        items.veto_points,
        items.veto_grade,
        nodes.points
    from units
    inner join items
        on units.scheme_code = items.scheme_code
        and units.scheme_version = items.scheme_version
    inner join nodes
        on items.scheme_code = nodes.scheme_code
        and items.scheme_version = nodes.scheme_version
        and items.item_code = nodes.node_code

),

valued as (

    select
        unit_items.*,
        months.month_start,
        metrics.value                               as metric_value
    from unit_items
    cross join months
    left join metrics
        on unit_items.region_code = metrics.region_code
        and unit_items.metric_code = metrics.metric_code
        and months.month_start = metrics.month_start

),

exposed as (

    {#- The population a normalised item is per 10,000 of (null: not normalised). -#}
    select
        valued.*,
        case valued.normalisation
            when 'per_10k_residents' then valued.resident_population
            when 'per_10k_residents_floating'
                then valued.resident_population + valued.floating_population
        end                                         as exposure
    from valued

),

normalised as (

    select
        exposed.*,
        case
            when exposed.normalisation in ('per_10k_residents', 'per_10k_residents_floating')
                then {{ per_10k('exposed.metric_value', 'exposed.exposure') }}
            else exposed.metric_value
        end                                         as raw_normalised_value
    from exposed

),

eb_flagged as (

    {#- Empirical-Bayes smoothing (issue 15; schemes/README.md): which values take part,
        each unit's exposure in units of 10,000 people. -#}
    select
        normalised.*,
        coalesce(normalised.smoothing = 'empirical_bayes'
                 and normalised.exposure > 0
                 and normalised.metric_value is not null, false) as is_smoothed,
        case when normalised.exposure > 0 then normalised.exposure / 10000.0 end
                                                    as exposure_10k
    from normalised

),

eb_pooled as (

    {#- The peer group's pooled rate m = Σ events / Σ exposure, and its unit count k. -#}
    select
        eb_flagged.*,
        sum(case when is_smoothed then metric_value end) over eb_group
            / nullif(sum(case when is_smoothed then exposure_10k end) over eb_group, 0)
                                                    as eb_mean,
        sum(case when is_smoothed then exposure_10k end) over eb_group as eb_exposure,
        count(case when is_smoothed then 1 end) over eb_group as eb_units
    from eb_flagged
    window eb_group as (
        partition by scheme_code, scheme_version, month_start, peer_group_code, item_code
    )

),

eb_dispersed as (

    {#- The between-unit variance of the rates by the method of moments (Marshall 1991):
        A = Σ n_i (r_i − m)² / Σ n_i − m / n̄, at least 0. -#}
    select
        eb_pooled.*,
        greatest(
            sum(case when is_smoothed
                     then exposure_10k * power(raw_normalised_value - eb_mean, 2) end)
                over eb_group / nullif(eb_exposure, 0)
            - eb_mean / nullif(eb_exposure / nullif(eb_units, 0), 0),
            0
        )                                           as eb_variance
    from eb_pooled
    window eb_group as (
        partition by scheme_code, scheme_version, month_start, peer_group_code, item_code
    )

),

smoothed as (

    {#- r* = m + C (r − m), C = A / (A + m / n): a unit with many people keeps nearly its
        own rate, a small one moves toward the group's. Fewer than 3 units, or a pooled
        rate of 0, leave the raw rate (nothing to estimate a spread from). -#}
    select
        eb_dispersed.*,
        case
            when is_smoothed and eb_units >= 3 and eb_mean > 0
                then eb_mean + eb_variance / (eb_variance + eb_mean / exposure_10k)
                    * (raw_normalised_value - eb_mean)
            else raw_normalised_value
        end                                         as normalised_value
    from eb_dispersed

),

with_history as (

    {#- The same unit, item and version some calendar months back, when that month
        was valued (a month not scored has no row, so its value is null). Window
        frames over exactly that month, not self-joins: four joins of this CTE to
        itself, planned as nested loops while the tables it reads had no statistics
        yet, took 15 to 92 s at county scale (0.6 s with them); one sort does not
        depend on the planner's guess. -#}
    select
        smoothed.*,
        {{ value_months_before('metric_value', 1, item_series) }}     as previous_month_value_now,
        {{ value_months_before('normalised_value', 1, item_series) }} as previous_month_normalised_now,
        {{ value_months_before('metric_value', 12, item_series) }}    as years_1_back_value,
        {{ value_months_before('normalised_value', 12, item_series) }} as years_1_back_normalised,
        {{ value_months_before('metric_value', 24, item_series) }}    as years_2_back_value,
        {{ value_months_before('normalised_value', 24, item_series) }} as years_2_back_normalised,
        {{ value_months_before('metric_value', 36, item_series) }}    as years_3_back_value,
        {{ value_months_before('normalised_value', 36, item_series) }} as years_3_back_normalised
    from smoothed

),

published_months as (

    {{ published_previous_month('published_items', 'publications', [
        ('published_items.item_code', 'item_code'),
        ('published_items.metric_value', 'published_value'),
        ("cast(published_items.published_row ->> 'normalised_value' as numeric)",
         'published_normalised'),
    ]) }}

),

with_published as (

    {#- Last month as it was published (its revision in force) when it was published
        under the same version, else as the data give it now: a `change` rule compares
        with what the unit was told, and a revision issued since replaces it. -#}
    select
        with_history.*,
        case
            when published_previous.item_code is not null
                then published_previous.published_value
            else with_history.previous_month_value_now
        end                                         as previous_month_value,
        case
            when published_previous.item_code is not null
                then published_previous.published_normalised
            else with_history.previous_month_normalised_now
        end                                         as previous_month_normalised
    from with_history
    left join published_months as published_previous
        on with_history.scheme_code = published_previous.scheme_code
        and with_history.scheme_version = published_previous.scheme_version
        and with_history.region_code = published_previous.region_code
        and with_history.item_code = published_previous.item_code
        and with_history.month_start = published_previous.next_month_start

),

with_averages as (

    select
        with_published.*,
        years_1_back_value                          as last_year_value,
        years_1_back_normalised                     as last_year_normalised,
        {{ mean_of_present(['years_1_back_value', 'years_2_back_value', 'years_3_back_value']) }}
                                                    as three_year_average_value,
        {{ mean_of_present(['years_1_back_normalised', 'years_2_back_normalised',
                            'years_3_back_normalised']) }}
                                                    as three_year_average_normalised
    from with_published

),

final as (

    select
        scheme_code,
        scheme_version,
        region_code,
        peer_group_code,
        month_start,
        category_code,
        indicator_code,
        item_code,
        metric_code,
        normalisation,
        smoothing,
        rule,
        points,
        if_no_data,
        baseline,
        per_unit,
        cap,
        target,
        floor,
        compare_to,
        min_count,
        better,
        threshold,
        veto_points,
        veto_grade,
        metric_value,
        exposure,
        raw_normalised_value,
        normalised_value,
        previous_month_value,
        previous_month_normalised,
        last_year_value,
        case compare_to
            when 'previous_month' then previous_month_value
            when 'same_month_last_year' then last_year_value
            when 'three_year_average' then three_year_average_value
        end                                         as base_value,
        case compare_to
            when 'previous_month' then previous_month_normalised
            when 'same_month_last_year' then last_year_normalised
            when 'three_year_average' then three_year_average_normalised
        end                                         as base_normalised
    from with_averages

)

select * from final
