{{ metric_model_config() }}
{#- The rollup groups every fact once per ancestor (3.1 million rows for a province
    month into 0.7 million groups). The planner, guessing no reduction, sorts them on
    disk (work_mem 32 MB): 5 s of a province month's build on its critical path. A
    hash aggregate in memory takes 3 s less; these settings last this model's
    transaction only. -#}
{{ config(pre_hook=["set local work_mem = '256MB'", "set local enable_sort = off"]) }}
{#- The metric catalogue for every region × month, rolled up the region hierarchy:
    counts add; rates are recomputed from summed numerators and denominators, never
    averaged. Dense: every catalogue metric has a row for every region at or above
    its finest level in every month with data, a count with no events being 0 and a
    rate with nothing to divide by being null. Incremental by month: a run rebuilds
    only the months whose facts were rebuilt since this model was last built. -#}
with

facts as (

    select * from {{ ref('int_metric_facts_unioned') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

ancestors as (

    select * from {{ ref('int_region_ancestors_walked') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

levels as (

    select * from {{ ref('region_levels') }}

),

facts_to_build as (

    select * from facts
    {%- if is_incremental() %}
    where month_start in (
        select distinct month_start from facts
        where built_at > (select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }})
    )
    {%- endif %}

),

months as (

    select distinct month_start from facts_to_build

),

rolled_up as (

    select
        ancestors.ancestor_code                     as region_code,
        facts_to_build.month_start,
        facts_to_build.metric_code,
        sum(facts_to_build.numerator)               as numerator,
        sum(facts_to_build.denominator)             as denominator
    from facts_to_build
    inner join ancestors
        on facts_to_build.region_code = ancestors.region_code
    group by ancestors.ancestor_code, facts_to_build.month_start, facts_to_build.metric_code

),

grid as (

    select
        regions.region_code,
        regions.region_level,
        months.month_start,
        catalogue.metric_code,
        catalogue.kind,
        catalogue.unit
    from regions
    inner join levels as region_depth
        on regions.region_level = region_depth.region_level
    cross join months
    cross join catalogue
    inner join levels as metric_depth
        on catalogue.finest_level = metric_depth.region_level
    where region_depth.depth <= metric_depth.depth

),

final as (

    select
        grid.region_code,
        grid.region_level,
        grid.month_start,
        grid.metric_code,
        grid.kind                                   as metric_kind,
        cast(
            case
                when grid.kind = 'count' then coalesce(rolled_up.numerator, 0)
                when rolled_up.denominator > 0 then
                    rolled_up.numerator / rolled_up.denominator
                    * case when grid.unit = '%' then 100 else 1 end
            end as numeric(18, 4)
        )                                           as value,
        cast(
            case when grid.kind = 'count' then coalesce(rolled_up.numerator, 0)
                 else rolled_up.numerator end
            as numeric(18, 4)
        )                                           as numerator,
        cast(rolled_up.denominator as numeric(18, 4)) as denominator,
        now()                                       as built_at
    from grid
    left join rolled_up
        on grid.region_code = rolled_up.region_code
        and grid.month_start = rolled_up.month_start
        and grid.metric_code = rolled_up.metric_code

)

select * from final
