{#- The planner estimates one row for the grouped CTEs (five grouping columns) and
    nests loops that re-aggregate them per unit: 12.6 s (totals) and 4.5 s (items) for a
    province month's 1,365 townships, 0.08 s and 0.6 s with hash and merge joins. The
    setting lasts this model's transaction only; the result is the same. -#}
{{ config(pre_hook=["set local enable_nestloop = off"]) }}
{#- Every item's points for every ranked unit, month and scheme version, by the
    item's rule (the closed set in schemes/README.md). In-tree rules keep a score
    within [0, points]; the two adjustment rules (veto, rank_movement) give signed
    points outside the point budget. `scoring_note` says why an item scored as it
    did when the rule could not apply (no data, too few cases, first month).
    `change`: min_count is compared with the raw base (a count of events), the change
    % with the normalised one. `rank_movement`: places gained on the tree-score rank,
    ordered as the published ranking is (tie-break categories included).
    Grain: scheme × version × region × month × item. -#}
with

valued as (

    select * from {{ ref('int_scheme_items_valued') }}

),

bands as (

    select * from {{ ref('stg_schemes__item_bands') }}

),

tie_breaks as (

    select * from {{ ref('stg_schemes__tie_breaks') }}

),

positioned as (

    select
        valued.*,
        count(valued.normalised_value) over peer_item   as peers_with_value,
        case when valued.rule = 'peer_position' and valued.normalised_value is not null then
            rank() over (
                partition by valued.scheme_code, valued.scheme_version, valued.month_start,
                    valued.peer_group_code, valued.item_code
                order by
                    case when valued.better = 'lower' then valued.normalised_value
                         else -valued.normalised_value end
                    asc nulls last
            )
        end                                             as peer_position
    from valued
    window peer_item as (
        partition by valued.scheme_code, valued.scheme_version, valued.month_start,
            valued.peer_group_code, valued.item_code
    )

),

banded as (

    select
        positioned.*,
        bands.points                                    as band_points
    from positioned
    left join bands
        on positioned.rule = 'bands'
        and positioned.scheme_code = bands.scheme_code
        and positioned.scheme_version = bands.scheme_version
        and positioned.item_code = bands.item_code
        and positioned.normalised_value >= bands.lower_bound
        and (bands.upper_bound is null or positioned.normalised_value < bands.upper_bound)

),

change_computed as (

    select
        banded.*,
        case
            when banded.rule = 'change'
                and banded.base_normalised > 0
                and banded.base_value >= coalesce(banded.min_count, 0)
                then (banded.normalised_value - banded.base_normalised)
                    * 100.0 / banded.base_normalised
        end                                             as change_pct
    from banded

),

noted as (

    select
        change_computed.*,
        case
            when rule = 'rank_movement' then null
            when rule = 'veto' and metric_value is null then 'no data'
            when rule = 'veto' then null
            when normalised_value is null then 'no data: ' || if_no_data || ' points'
            when rule = 'change' and base_value is null
                then 'no ' || replace(compare_to, '_', ' ') || ' to compare with'
            when rule = 'change' and base_value < coalesce(min_count, 0)
                then 'base ' || round(base_value, 2) || ' below min_count '
                    || round(min_count, 2) || ': not scored'
            when rule = 'change' and base_normalised = 0 then 'base is 0: not scored'
            when rule = 'peer_position' and peers_with_value <= 1 then 'no peers with a value'
        end                                             as scoring_note
    from change_computed

),

in_tree_scored as (

    select
        noted.*,
        case
            when rule = 'veto' then
                case when metric_value > 0 then -coalesce(veto_points, 0) else 0 end
            when rule = 'rank_movement' then null
            when normalised_value is null then
                case when if_no_data = 'zero' then 0 else points end
            when rule = 'deduct_per_unit' then
                points - least(cap, greatest(normalised_value - baseline, 0) * per_unit)
            when rule = 'add_per_unit' then
                least(cap, greatest(normalised_value - baseline, 0) * per_unit)
            when rule = 'target_ratio' then
                case
                    when normalised_value >= target then points
                    when normalised_value <= floor then 0
                    else points * (normalised_value - floor) / (target - floor)
                end
            when rule = 'bands' then coalesce(band_points, 0)
            when rule = 'change' then
                case when change_pct is null then points
                     else points - least(cap, greatest(change_pct, 0) * per_unit)
                end
            when rule = 'peer_position' then
                case when peers_with_value <= 1 then points
                     else points * (peers_with_value - peer_position) / (peers_with_value - 1.0)
                end
            when rule = 'survey_scale' then
                points - least(cap, greatest(threshold - normalised_value, 0) * per_unit)
        end                                             as raw_score,
        coalesce(rule = 'veto' and metric_value > 0, false) as veto_fired
    from noted

),

rounded as (

    select
        in_tree_scored.*,
        case
            when rule = 'veto' then round(raw_score, 2)
            when rule = 'rank_movement' then null
            else round(greatest(0, least(points, raw_score)), 2)
        end                                             as item_score
    from in_tree_scored

),

tree_totals as (

    select
        scheme_code, scheme_version, region_code, peer_group_code, month_start,
        sum(item_score)                                 as tree_score
    from rounded
    where rule not in ('veto', 'rank_movement')
    group by scheme_code, scheme_version, region_code, peer_group_code, month_start

),

category_tree_scores as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        category_code,
        sum(item_score)                                 as category_score
    from rounded
    where rule not in ('veto', 'rank_movement')
    group by scheme_code, scheme_version, region_code, month_start, category_code

),

tree_tie_break_ranks as (

    {#- the published ranking's tie-break, on the categories' tree scores (before
        adjustments, as the tree score): macros/tie_break_key.sql -#}
    select
        tree_totals.scheme_code,
        tree_totals.scheme_version,
        tree_totals.region_code,
        tree_totals.month_start,
        tie_breaks.position,
        dense_rank() over (
            partition by tree_totals.scheme_code, tree_totals.scheme_version,
                tree_totals.month_start, tree_totals.peer_group_code, tie_breaks.position
            order by category_tree_scores.category_score desc nulls last
        )                                               as category_rank
    from tree_totals
    inner join tie_breaks
        on tree_totals.scheme_code = tie_breaks.scheme_code
        and tree_totals.scheme_version = tie_breaks.scheme_version
    left join category_tree_scores
        on tree_totals.scheme_code = category_tree_scores.scheme_code
        and tree_totals.scheme_version = category_tree_scores.scheme_version
        and tree_totals.region_code = category_tree_scores.region_code
        and tree_totals.month_start = category_tree_scores.month_start
        and tie_breaks.category_code = category_tree_scores.category_code

),

tree_tie_break_keys as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        {{ tie_break_key('category_rank', 'position') }} as tie_break_key
    from tree_tie_break_ranks
    group by scheme_code, scheme_version, region_code, month_start

),

tree_ranks as (

    {#- ordered as the published ranking is: score, then the tie-break categories -#}
    select
        tree_totals.*,
        rank() over (
            partition by tree_totals.scheme_code, tree_totals.scheme_version,
                tree_totals.month_start, tree_totals.peer_group_code
            order by tree_totals.tree_score desc,
                tree_tie_break_keys.tie_break_key asc nulls last
        )                                               as tree_rank
    from tree_totals
    left join tree_tie_break_keys
        on tree_totals.scheme_code = tree_tie_break_keys.scheme_code
        and tree_totals.scheme_version = tree_tie_break_keys.scheme_version
        and tree_totals.region_code = tree_tie_break_keys.region_code
        and tree_totals.month_start = tree_tie_break_keys.month_start

),

rank_moves as (

    select
        current_month.scheme_code,
        current_month.scheme_version,
        current_month.region_code,
        current_month.month_start,
        previous_month.tree_rank - current_month.tree_rank as places_gained
    from tree_ranks as current_month
    left join tree_ranks as previous_month
        on current_month.scheme_code = previous_month.scheme_code
        and current_month.scheme_version = previous_month.scheme_version
        and current_month.region_code = previous_month.region_code
        and current_month.peer_group_code = previous_month.peer_group_code
        and previous_month.month_start = cast(current_month.month_start - interval '1 month' as date)

),

with_rank_moves as (

    select
        rounded.*,
        rank_moves.places_gained,
        case
            when rounded.rule = 'rank_movement' then
                round(greatest(-rounded.cap, least(rounded.cap,
                    coalesce(rank_moves.places_gained, 0) * rounded.per_unit)), 2)
            else rounded.item_score
        end                                             as final_item_score,
        case
            when rounded.rule = 'rank_movement' and rank_moves.places_gained is null
                then 'no rank last month'
            else rounded.scoring_note
        end                                             as final_scoring_note
    from rounded
    left join rank_moves
        on rounded.rule = 'rank_movement'
        and rounded.scheme_code = rank_moves.scheme_code
        and rounded.scheme_version = rank_moves.scheme_version
        and rounded.region_code = rank_moves.region_code
        and rounded.month_start = rank_moves.month_start

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
        rule,
        points,
        cast(metric_value as numeric(18, 4))            as metric_value,
        exposure,
        smoothing,
        cast(raw_normalised_value as numeric(18, 4))    as raw_normalised_value,
        cast(normalised_value as numeric(18, 4))        as normalised_value,
        cast(previous_month_value as numeric(18, 4))    as previous_month_value,
        cast(last_year_value as numeric(18, 4))         as last_year_value,
        cast(base_value as numeric(18, 4))              as base_value,
        cast(base_normalised as numeric(18, 4))         as base_normalised,
        cast(round(change_pct, 2) as numeric(12, 2))    as change_pct,
        cast(peer_position as integer)                  as peer_position,
        cast(peers_with_value as integer)               as peers_with_value,
        cast(places_gained as integer)                  as places_gained,
        veto_fired,
        case when veto_fired then veto_grade end        as veto_grade,
        rule in ('veto', 'rank_movement')               as is_adjustment,
        cast(final_item_score as numeric(8, 2))         as item_score,
        final_scoring_note                              as scoring_note
    from with_rank_moves

)

select * from final
