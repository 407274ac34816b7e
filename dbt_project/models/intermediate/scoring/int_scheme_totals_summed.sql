{#- The planner estimates one row for the grouped CTEs (five grouping columns) and
    nests loops that re-aggregate them per unit: 12.6 s (totals) and 4.5 s (items) for a
    province month's 1,365 townships, 0.08 s and 0.6 s with hash and merge joins. The
    setting lasts this model's transaction only; the result is the same. -#}
{{ config(pre_hook=["set local enable_nestloop = off"]) }}
{#- A unit's total for a month under a scheme version: the tree score (sum of the
    in-tree items), the adjustments (veto and rank movement), and the total clipped
    to [0, total_cap]; `cap_adjustment` is what the clipping removed, so that
    category scores + cap_adjustment = total exactly. Also carries the veto's grade
    ceiling and the tie-break key the rank orders by after the total (every
    `tie_break` category in order, however many; macros/tie_break_key.sql).
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

tie_break_ranks as (

    {#- every unit × every tie-break category of its version, ranked within the peer
        group: 1 = the best category score (adjustments included, as published) -#}
    select
        summed.scheme_code,
        summed.scheme_version,
        summed.region_code,
        summed.month_start,
        tie_breaks.position,
        dense_rank() over (
            partition by summed.scheme_code, summed.scheme_version, summed.month_start,
                summed.peer_group_code, tie_breaks.position
            order by category_scores.category_score desc nulls last
        )                                                   as category_rank
    from summed
    inner join tie_breaks
        on summed.scheme_code = tie_breaks.scheme_code
        and summed.scheme_version = tie_breaks.scheme_version
    left join category_scores
        on summed.scheme_code = category_scores.scheme_code
        and summed.scheme_version = category_scores.scheme_version
        and summed.region_code = category_scores.region_code
        and summed.month_start = category_scores.month_start
        and tie_breaks.category_code = category_scores.category_code

),

tie_break_keys as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        {{ tie_break_key('category_rank', 'position') }}    as tie_break_key
    from tie_break_ranks
    group by scheme_code, scheme_version, region_code, month_start

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
        tie_break_keys.tie_break_key
    from clipped
    left join veto_ceilings
        on clipped.scheme_code = veto_ceilings.scheme_code
        and clipped.scheme_version = veto_ceilings.scheme_version
        and clipped.region_code = veto_ceilings.region_code
        and clipped.month_start = veto_ceilings.month_start
    left join tie_break_keys
        on clipped.scheme_code = tie_break_keys.scheme_code
        and clipped.scheme_version = tie_break_keys.scheme_version
        and clipped.region_code = tie_break_keys.region_code
        and clipped.month_start = tie_break_keys.month_start

)

select * from final
