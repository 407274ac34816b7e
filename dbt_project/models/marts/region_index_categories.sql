{#- Category (一级指标) scores of the published index, with last month's under the
    same version. Category scores plus the total's cap_adjustment equal the total.
    Grain: scheme × month × region × category. -#}
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

category_scores as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        category_code,
        sum(item_score)                                     as category_score
    from item_scores
    group by scheme_code, scheme_version, region_code, month_start, category_code

),

with_previous as (

    select
        category_scores.*,
        previous_month.category_score                       as previous_category_score
    from category_scores
    left join category_scores as previous_month
        on category_scores.scheme_code = previous_month.scheme_code
        and category_scores.scheme_version = previous_month.scheme_version
        and category_scores.region_code = previous_month.region_code
        and category_scores.category_code = previous_month.category_code
        and previous_month.month_start
            = cast(category_scores.month_start - interval '1 month' as date)

),

final as (

    select
        with_previous.scheme_code,
        cast(with_previous.scheme_version as integer)       as scheme_version,
        with_previous.month_start,
        with_previous.region_code,
        with_previous.category_code,
        nodes.node_name                                     as category_name,
        cast(nodes.points as numeric(6, 2))                 as category_points,
        cast(nodes.sort_order as integer)                   as sort_order,
        cast(with_previous.category_score as numeric(6, 2)) as category_score,
        cast(with_previous.previous_category_score as numeric(6, 2)) as previous_category_score
    from with_previous
    inner join applied
        on with_previous.scheme_code = applied.scheme_code
        and with_previous.scheme_version = applied.scheme_version
        and with_previous.month_start = applied.month_start
    inner join nodes
        on with_previous.scheme_code = nodes.scheme_code
        and with_previous.scheme_version = nodes.scheme_version
        and with_previous.category_code = nodes.node_code

)

select * from final
