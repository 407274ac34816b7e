{#- One row per scheme item × township × month: the metric value, its normalised
    value, and the points the item keeps, to two decimals (the total is their
    exact sum, so the traceability mart adds up to the published score). Rule deduct_over_baseline: lose
    per_unit points for every unit of the normalised value above the baseline,
    at most cap (and never more than the item's points). A township whose
    population is zero cannot be normalised and keeps the item's full points. -#}
with

items as (

    select * from {{ ref('scheme_items') }}

),

metrics as (

    select * from {{ ref('int_region_month_metrics') }}
    where region_level = 'township'

),

townships as (

    select * from {{ ref('int_townships_populated') }}

),

applicable_items as (

    select
        metrics.region_code,
        metrics.month_start,
        items.scheme_code,
        items.scheme_version,
        items.category_code,
        items.category_name,
        items.category_points,
        items.item_code,
        items.item_name,
        items.metric_code,
        items.normalisation,
        items.rule,
        items.points,
        items.baseline,
        items.per_unit,
        items.cap,
        metrics.value as metric_value
    from items
    inner join metrics
        on items.metric_code = metrics.metric_code
        and metrics.month_start >= items.valid_from

),

normalised as (

    select
        applicable_items.*,
        case applicable_items.normalisation
            when 'none' then applicable_items.metric_value
            when 'per_10k_residents' then
                {{ per_10k('applicable_items.metric_value', 'townships.resident_population') }}
            when 'per_10k_residents_floating' then
                {{ per_10k('applicable_items.metric_value',
                           '(townships.resident_population + townships.floating_population)') }}
        end as normalised_value
    from applicable_items
    inner join townships
        on applicable_items.region_code = townships.township_code

),

scored as (

    select
        normalised.*,
        case
            when normalised.rule = 'deduct_over_baseline' and normalised.normalised_value is not null
                then least(
                    normalised.cap,
                    normalised.points,
                    greatest(normalised.normalised_value - normalised.baseline, 0)
                        * normalised.per_unit
                )
            else 0
        end as points_lost
    from normalised

),

final as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        category_code,
        category_name,
        item_code,
        item_name,
        metric_code,
        normalisation,
        rule,
        points,
        metric_value,
        cast(normalised_value as numeric(14, 4))            as normalised_value,
        cast(round(points_lost, 2) as numeric(8, 2))            as points_lost,
        cast(points - round(points_lost, 2) as numeric(8, 2))   as item_score
    from scored

)

select * from final
