{#- A unit's total for a month under a scheme version: the tree score (sum of the
    in-tree items), the adjustments (veto and rank movement), and the total clipped
    to [0, total_cap]; `cap_adjustment` is what the clipping removed, so that
    category scores + cap_adjustment = total exactly. Also carries the veto's grade
    ceiling and the category scores the tie-break orders by.
    Grain: scheme × version × region × month. -#}
with

item_scores as (

    select * from {{ ref('int_scheme_items_scored') }}

),

versions as (

    select * from {{ ref('stg_schemes__versions') }}

),

grades as (

    select * from {{ ref('stg_schemes__grades') }}

),

tie_breaks as (

    select * from {{ ref('stg_schemes__tie_breaks') }}

),

summed as (

    select
        scheme_code,
        scheme_version,
        region_code,
        peer_group_code,
        month_start,
        sum(item_score) filter (where not is_adjustment)    as tree_score,
        coalesce(sum(item_score) filter (where is_adjustment), 0) as adjustment_points,
        bool_or(veto_fired)                                 as veto_fired
    from item_scores
    group by scheme_code, scheme_version, region_code, peer_group_code, month_start

),

veto_ceilings as (

    select
        item_scores.scheme_code,
        item_scores.scheme_version,
        item_scores.region_code,
        item_scores.month_start,
        max(grades.sort_order)                              as grade_ceiling_order
    from item_scores
    inner join grades
        on item_scores.scheme_code = grades.scheme_code
        and item_scores.scheme_version = grades.scheme_version
        and item_scores.veto_grade = grades.grade
    where item_scores.veto_fired
    group by item_scores.scheme_code, item_scores.scheme_version,
        item_scores.region_code, item_scores.month_start

),

tie_break_scores as (

    select
        item_scores.scheme_code,
        item_scores.scheme_version,
        item_scores.region_code,
        item_scores.month_start,
        sum(item_scores.item_score) filter (where tie_breaks.position = 1) as tie_break_1,
        sum(item_scores.item_score) filter (where tie_breaks.position = 2) as tie_break_2,
        sum(item_scores.item_score) filter (where tie_breaks.position = 3) as tie_break_3
    from item_scores
    inner join tie_breaks
        on item_scores.scheme_code = tie_breaks.scheme_code
        and item_scores.scheme_version = tie_breaks.scheme_version
        and item_scores.category_code = tie_breaks.category_code
    group by item_scores.scheme_code, item_scores.scheme_version,
        item_scores.region_code, item_scores.month_start

),

clipped as (

    select
        summed.*,
        summed.tree_score + summed.adjustment_points        as unclipped_total,
        least(versions.total_cap,
              greatest(0, summed.tree_score + summed.adjustment_points)) as total
    from summed
    inner join versions
        on summed.scheme_code = versions.scheme_code
        and summed.scheme_version = versions.scheme_version

),

final as (

    select
        clipped.scheme_code,
        clipped.scheme_version,
        clipped.region_code,
        clipped.peer_group_code,
        clipped.month_start,
        cast(clipped.tree_score as numeric(8, 2))           as tree_score,
        cast(clipped.adjustment_points as numeric(8, 2))    as adjustment_points,
        cast(clipped.total - clipped.unclipped_total as numeric(8, 2)) as cap_adjustment,
        cast(clipped.total as numeric(8, 2))                as total_score,
        clipped.veto_fired,
        veto_ceilings.grade_ceiling_order,
        tie_break_scores.tie_break_1,
        tie_break_scores.tie_break_2,
        tie_break_scores.tie_break_3
    from clipped
    left join veto_ceilings
        on clipped.scheme_code = veto_ceilings.scheme_code
        and clipped.scheme_version = veto_ceilings.scheme_version
        and clipped.region_code = veto_ceilings.region_code
        and clipped.month_start = veto_ceilings.month_start
    left join tie_break_scores
        on clipped.scheme_code = tie_break_scores.scheme_code
        and clipped.scheme_version = tie_break_scores.scheme_version
        and clipped.region_code = tie_break_scores.region_code
        and clipped.month_start = tie_break_scores.month_start

)

select * from final
