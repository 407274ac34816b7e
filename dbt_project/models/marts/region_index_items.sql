{#- Traceability: for a region and month of the published index, every item's
    metric value, normalised value, comparison base, rule, points and score, and
    the change since last month (metric and score, same version); sort_order is the
    item's place in the scheme's tree (category, indicator, item). The items add up
    to the total (with the total's cap_adjustment), so any score can be explained
    item by item. Beside the score, for items that count events (issue 15): the exact
    95 % Poisson interval of the count and of its rate per 10,000, and whether the
    change since last month and since the same month last year is more than chance
    (macros/poisson.sql; schemes/README.md, "Statistics beside the index").
    Grain: scheme × month × region × item. -#}
with

applied as (

    select * from {{ ref('int_scheme_versions_applied') }}

),

item_scores as (

    select * from {{ ref('int_scheme_items_scored') }}

),

nodes as (

    select * from {{ ref('stg_schemes__nodes') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

intervals as (

    select * from {{ ref('poisson_interval_95') }}

),

critical as (

    select * from {{ ref('poisson_change_critical_05') }}

),

with_previous as (

    select
        item_scores.*,
        previous_month.item_score                           as previous_item_score
    from item_scores
    left join item_scores as previous_month
        on item_scores.scheme_code = previous_month.scheme_code
        and item_scores.scheme_version = previous_month.scheme_version
        and item_scores.region_code = previous_month.region_code
        and item_scores.item_code = previous_month.item_code
        and previous_month.month_start
            = cast(item_scores.month_start - interval '1 month' as date)

),

described as (

    select
        with_previous.scheme_code,
        cast(with_previous.scheme_version as integer)       as scheme_version,
        with_previous.month_start,
        with_previous.region_code,
        with_previous.category_code,
        categories.node_name                                as category_name,
        with_previous.indicator_code,
        indicators.node_name                                as indicator_name,
        with_previous.item_code,
        items.node_name                                     as item_name,
        cast(dense_rank() over (
            partition by with_previous.scheme_code, with_previous.scheme_version
            order by categories.sort_order, indicators.sort_order, items.sort_order
        ) as integer)                                       as sort_order,
        with_previous.metric_code,
        catalogue.metric_name,
        catalogue.unit                                      as metric_unit,
        with_previous.normalisation,
        with_previous.rule,
        with_previous.is_adjustment,
        cast(with_previous.points as numeric(6, 2))         as points,
        with_previous.metric_value,
        with_previous.normalised_value,
        with_previous.previous_month_value,
        cast(with_previous.metric_value - with_previous.previous_month_value
             as numeric(18, 4))                             as metric_change,
        with_previous.base_value,
        with_previous.change_pct,
        with_previous.peer_position,
        with_previous.places_gained,
        with_previous.veto_fired,
        with_previous.item_score,
        with_previous.previous_item_score,
        cast(with_previous.item_score - with_previous.previous_item_score
             as numeric(8, 2))                              as item_score_change,
        with_previous.scoring_note,
        coalesce({{ is_event_count('catalogue.kind', 'catalogue.unit') }}, false)
                                                            as is_event_count,
        with_previous.exposure,
        with_previous.smoothing,
        with_previous.raw_normalised_value,
        with_previous.last_year_value
    from with_previous
    inner join applied
        on with_previous.scheme_code = applied.scheme_code
        and with_previous.scheme_version = applied.scheme_version
        and with_previous.month_start = applied.month_start
    inner join nodes as items
        on with_previous.scheme_code = items.scheme_code
        and with_previous.scheme_version = items.scheme_version
        and with_previous.item_code = items.node_code
    inner join nodes as indicators
        on with_previous.scheme_code = indicators.scheme_code
        and with_previous.scheme_version = indicators.scheme_version
        and with_previous.indicator_code = indicators.node_code
    inner join nodes as categories
        on with_previous.scheme_code = categories.scheme_code
        and with_previous.scheme_version = categories.scheme_version
        and with_previous.category_code = categories.node_code
    left join catalogue
        on with_previous.metric_code = catalogue.metric_code

),

tested as (

    select
        described.*,
        {{ poisson_bound('described.metric_value', 'intervals.lower_95', 'lower') }}
                                                            as count_low,
        {{ poisson_bound('described.metric_value', 'intervals.upper_95', 'upper') }}
                                                            as count_high,
        {{ count_changes_tested('described.metric_value', 'described.previous_month_value',
                                'described.last_year_value') }}
    from described
    left join intervals
        on described.is_event_count
        and described.metric_value = intervals.event_count
    left join critical as previous_month_critical
        on described.is_event_count
        and described.metric_value + described.previous_month_value
            = previous_month_critical.two_period_total
    left join critical as last_year_critical
        on described.is_event_count
        and described.metric_value + described.last_year_value
            = last_year_critical.two_period_total

),

final as (

    select
        tested.scheme_code,
        tested.scheme_version,
        tested.month_start,
        tested.region_code,
        tested.category_code,
        tested.category_name,
        tested.indicator_code,
        tested.indicator_name,
        tested.item_code,
        tested.item_name,
        tested.sort_order,
        tested.metric_code,
        tested.metric_name,
        tested.metric_unit,
        tested.normalisation,
        tested.rule,
        tested.is_adjustment,
        tested.points,
        tested.metric_value,
        cast(tested.exposure as bigint)                                 as population,
        tested.smoothing,
        tested.raw_normalised_value,
        tested.normalised_value,
        tested.previous_month_value,
        tested.metric_change,
        tested.base_value,
        tested.change_pct,
        tested.peer_position,
        tested.places_gained,
        tested.veto_fired,
        tested.item_score,
        tested.previous_item_score,
        tested.item_score_change,
        tested.scoring_note,
        tested.is_event_count,
        case when tested.is_event_count
             then cast(tested.count_low as numeric(18, 4)) end          as count_low,
        case when tested.is_event_count
             then cast(tested.count_high as numeric(18, 4)) end         as count_high,
        case when tested.is_event_count and tested.exposure > 0
             then cast(tested.count_low * 10000.0 / tested.exposure as numeric(18, 4))
        end                                                             as rate_low,
        case when tested.is_event_count and tested.exposure > 0
             then cast(tested.count_high * 10000.0 / tested.exposure as numeric(18, 4))
        end                                                             as rate_high,
        case when tested.is_event_count
             then cast(tested.previous_month_z as numeric(8, 2)) end    as previous_month_z,
        case when tested.is_event_count
             then tested.previous_month_change end                      as previous_month_change,
        tested.last_year_value,
        case when tested.is_event_count
             then cast(tested.last_year_z as numeric(8, 2)) end         as last_year_z,
        case when tested.is_event_count
             then tested.last_year_change end                           as last_year_change
    from tested

)

select * from final
